import { describe, expect, test } from "vitest";

import { formatViewState, parseViewState } from "./urlState";

describe("the view state in the address", () => {
  test("round-trips tasks, the opened one, the status filter and the search", () => {
    const state = { tasks: ["a", "b", "c"], open: "b", status: ["COMPLETED" as const], search: "sky & sea" };
    expect(parseViewState(formatViewState(state))).toEqual(state);
  });

  test("an empty address is the empty page", () => {
    expect(parseViewState("")).toEqual({ tasks: [], open: null, status: [], search: "" });
    expect(formatViewState(parseViewState(""))).toBe("");
  });

  test("unknown statuses and empty list items are dropped", () => {
    expect(parseViewState("?tasks=a,,b&status=COMPLETED,NOPE")).toMatchObject({
      tasks: ["a", "b"],
      status: ["COMPLETED"],
    });
  });
});
