import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, test, vi } from "vitest";

import type { TaskFieldsFragment } from "../gql/graphql";
import { estimatedFinishAt, TaskProgress } from "./TaskProgress";

function task(fields: Partial<TaskFieldsFragment>): TaskFieldsFragment {
  return {
    id: "t1",
    status: "PROCESSING",
    description: "Add a rainbow",
    workflow: "flux_kontext_dev_basic",
    progress: 42.4,
    step: 7,
    totalSteps: 20,
    currentNode: "31",
    attempts: 1,
    batchId: null,
    batchIndex: 0,
    queuePosition: null,
    previewUrl: "/files/previews/p.webp",
    createdAt: "2026-01-01T10:00:00+00:00",
    updatedAt: "2026-01-01T10:00:05+00:00",
    startedAt: "2026-01-01T10:00:01+00:00",
    finishedAt: null,
    deadlineAt: null,
    parameters: {
      steps: 20,
      cfg: 1,
      guidance: 2.5,
      seed: "1",
      sampler: "euler",
      scheduler: "simple",
      denoise: 1,
    },
    error: null,
    referenceImage: null,
    rerunOf: null,
    result: null,
    ...fields,
  };
}

describe("TaskProgress", () => {
  test("a running task: a progress bar with its value, step x of y, the preview and Cancel", async () => {
    const onCancel = vi.fn();
    render(<TaskProgress task={task({})} onCancel={onCancel} />);
    const bar = screen.getByRole("progressbar");
    expect(bar.getAttribute("aria-valuenow")).toBe("42");
    expect(screen.getByText("Step 7 of 20")).toBeTruthy();
    expect(screen.getByRole("img", { name: /preview/ }).getAttribute("src")).toBe("/files/previews/p.webp");
    await userEvent.click(screen.getByRole("button", { name: "Cancel" }));
    expect(onCancel).toHaveBeenCalledOnce();
  });

  test("the estimated finish time shows when the service gives one", () => {
    render(<TaskProgress task={task({})} estimatedFinishAt="2026-01-01T10:00:30+00:00" />);
    expect(
      screen
        .getByText(/ready about/)
        .querySelector("time")
        ?.getAttribute("dateTime"),
    ).toBe("2026-01-01T10:00:30+00:00");
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

  test("the estimate is read from the task once its documents ask for it", () => {
    expect(estimatedFinishAt(task({}))).toBeNull();
    expect(estimatedFinishAt({ ...task({}), estimatedFinishAt: "2026-01-01T10:00:30+00:00" })).toBe(
      "2026-01-01T10:00:30+00:00",
    );
  });
});
