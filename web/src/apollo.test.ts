import { gql } from "@apollo/client";
import { describe, expect, test } from "vitest";

import { createCache } from "./apollo";

const TASK = gql`
  fragment Shown on Task {
    id
    status
    error {
      code
    }
  }
`;

function write(cache: ReturnType<typeof createCache>, status: string, error: { code: string } | null) {
  cache.writeFragment({
    fragment: TASK,
    data: { __typename: "Task", id: "t1", status, error: error && { __typename: "TaskError", ...error } },
  });
}

function shown(cache: ReturnType<typeof createCache>): unknown {
  return cache.readFragment({ fragment: TASK, id: cache.identify({ __typename: "Task", id: "t1" }) });
}

describe("a task in the cache", () => {
  test("follows its statuses as they come", () => {
    const cache = createCache();
    for (const status of ["PENDING", "PROCESSING", "PENDING", "PROCESSING", "COMPLETED"]) {
      write(cache, status, null);
      expect(shown(cache)).toMatchObject({ status });
    }
  });

  test("once ended, is not shown running again by an update that arrives late", () => {
    const cache = createCache();
    write(cache, "PROCESSING", null);
    write(cache, "FAILED", { code: "TIMED_OUT" });
    write(cache, "PROCESSING", { code: "TIMED_OUT" });
    expect(shown(cache)).toMatchObject({ status: "FAILED", error: { code: "TIMED_OUT" } });
    write(cache, "CANCELLED", { code: "CANCELLED" });
    expect(shown(cache)).toMatchObject({ status: "CANCELLED" });
  });
});
