import { act, fireEvent, render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, test, vi } from "vitest";

import { taskFields as task } from "../test-task";
import { TaskProgress } from "./TaskProgress";

/** The preview being loaded out of sight. */
function loadingPreview(container: HTMLElement): HTMLImageElement {
  const image = container.querySelector<HTMLImageElement>("img[hidden]");
  if (!image) throw new Error("no preview is loading");
  return image;
}

afterEach(() => {
  vi.useRealTimers();
});

describe("TaskProgress", () => {
  test("a running task: a progress bar with its value, step x of y, the preview and Cancel", async () => {
    const onCancel = vi.fn();
    const { container } = render(<TaskProgress task={task({})} onCancel={onCancel} />);
    const bar = screen.getByRole("progressbar");
    expect(bar.getAttribute("aria-valuenow")).toBe("42");
    expect(screen.getByText("Step 7 of 20")).toBeTruthy();
    expect(screen.queryByRole("img", { name: /preview/ })).toBeNull(); // shown once it has loaded
    const loading = loadingPreview(container);
    expect(loading.getAttribute("src")).toBe("/files/previews/p.webp");
    fireEvent.load(loading);
    expect(screen.getByRole("img", { name: /preview/ }).getAttribute("src")).toBe("/files/previews/p.webp");
    await userEvent.click(screen.getByRole("button", { name: "Cancel" }));
    expect(onCancel).toHaveBeenCalledOnce();
  });

  test("a newer preview replaces the shown one once it has loaded; one that fails never shows", () => {
    const { container, rerender } = render(<TaskProgress task={task({ previewUrl: "/files/previews/1.webp" })} />);
    fireEvent.load(loadingPreview(container));
    rerender(<TaskProgress task={task({ previewUrl: "/files/previews/2.webp" })} />);
    expect(loadingPreview(container).getAttribute("src")).toBe("/files/previews/2.webp");
    fireEvent.error(loadingPreview(container));
    expect(screen.getByRole("img", { name: /preview/ }).getAttribute("src")).toBe("/files/previews/1.webp");
    rerender(<TaskProgress task={task({ previewUrl: "/files/previews/3.webp" })} />);
    fireEvent.load(loadingPreview(container));
    expect(screen.getByRole("img", { name: /preview/ }).getAttribute("src")).toBe("/files/previews/3.webp");
    expect(container.querySelectorAll("img")).toHaveLength(1);
  });

  test("a running task shows the time left and the clock time of its estimate, counting down", () => {
    vi.useFakeTimers({ now: Date.parse("2026-01-01T10:00:18+00:00") });
    render(<TaskProgress task={task({ estimatedFinishAt: "2026-01-01T10:00:30+00:00" })} />);
    const eta = screen.getByText(/about 12 s left/);
    expect(eta.querySelector("time")?.getAttribute("dateTime")).toBe("2026-01-01T10:00:30+00:00");
    act(() => {
      vi.advanceTimersByTime(5000);
    });
    expect(screen.getByText(/about 7 s left/)).toBeTruthy();
    act(() => {
      vi.advanceTimersByTime(10000);
    });
    expect(screen.getByText(/any moment now/)).toBeTruthy();
  });

  test("a waiting task shows its estimate too; none shows when the service has none", () => {
    vi.useFakeTimers({ now: Date.parse("2026-01-01T10:00:00+00:00") });
    const { rerender } = render(
      <TaskProgress task={task({ status: "PENDING", queuePosition: 1, estimatedFinishAt: "2026-01-01T10:03:00Z" })} />,
    );
    expect(screen.getByText(/about 3 min left/)).toBeTruthy();
    rerender(<TaskProgress task={task({ status: "PENDING", queuePosition: 1, estimatedFinishAt: null })} />);
    expect(screen.queryByText(/left/)).toBeNull();
  });

  test("an ended task shows no estimate even if one was kept", () => {
    render(
      <TaskProgress
        task={task({
          status: "COMPLETED",
          finishedAt: "2026-01-01T10:00:04+00:00",
          estimatedFinishAt: "2099-01-01T00:00:00Z",
        })}
      />,
    );
    expect(screen.queryByText(/left/)).toBeNull();
  });

  test("a re-queued task says why while it waits again", () => {
    const reason = "Re-queued as attempt 2 of 3: ComfyUI at http://gpu-1:8188 no longer knows the prompt.";
    render(<TaskProgress task={task({ status: "PENDING", attempts: 2, requeueReason: reason })} />);
    expect(screen.getByRole("status").textContent).toBe(reason);
  });

  test("a queued task says how many are ahead; a finished one is at 100 with no Cancel", () => {
    const { rerender } = render(
      <TaskProgress task={task({ status: "PENDING", queuePosition: 2 })} onCancel={vi.fn()} />,
    );
    expect(screen.getByText("Queued: 2 ahead")).toBeTruthy();
    rerender(
      <TaskProgress
        task={task({ status: "COMPLETED", progress: 99, finishedAt: "2026-01-01T10:00:04+00:00" })}
        onCancel={vi.fn()}
      />,
    );
    expect(screen.getByRole("progressbar").getAttribute("aria-valuenow")).toBe("100");
    expect(screen.getByText("Done in 3.0 s")).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Cancel" })).toBeNull();
  });
});
