import { render, screen } from "@testing-library/react";
import { describe, expect, test } from "vitest";

import { taskFields } from "../test-task";
import { TaskDetails } from "./TaskDetails";

function row(name: string): string | null | undefined {
  const term = screen.getByText(name, { selector: "dt" });
  return term.nextElementSibling?.textContent;
}

describe("TaskDetails", () => {
  test("names the backend the task ran on, or says it was not sent", () => {
    const { rerender } = render(<TaskDetails task={taskFields({ backend: "http://gpu-1:8188" })} />);
    expect(row("Backend")).toBe("http://gpu-1:8188");
    rerender(<TaskDetails task={taskFields({ status: "PENDING", backend: null })} />);
    expect(row("Backend")).toBe("not sent");
  });

  test("says why a task was re-queued, with its attempts", () => {
    const reason = "Re-queued as attempt 2 of 3: ComfyUI at http://gpu-1:8188 no longer knows the prompt.";
    render(<TaskDetails task={taskFields({ attempts: 2, requeueReason: reason })} />);
    expect(row("Attempts")).toBe("2");
    expect(row("Re-queued")).toBe(reason);
  });
});
