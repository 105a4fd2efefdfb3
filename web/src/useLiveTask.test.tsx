import { ApolloClient, ApolloLink } from "@apollo/client";
import { ApolloProvider } from "@apollo/client/react";
import { MockSubscriptionLink } from "@apollo/client/testing";
import { act, render, screen } from "@testing-library/react";
import { OperationTypeNode } from "graphql";
import { of } from "rxjs";
import { describe, expect, test } from "vitest";

import { createCache } from "./apollo";
import type { TaskFieldsFragment } from "./gql/graphql";
import { HistoryItemFields } from "./operations";
import { taskFields } from "./test-task";
import { useLiveTask } from "./useLiveTask";

/** The task as the service sends it, with the type names the cache keys on. */
function sent(fields: Partial<TaskFieldsFragment>) {
  const task = taskFields(fields);
  return {
    ...task,
    __typename: "Task",
    parameters: { ...task.parameters, __typename: "GenerationParameters" },
    error: task.error && { ...task.error, __typename: "TaskError" },
  };
}

function progressEvent(sequence: number, fields: Partial<TaskFieldsFragment>) {
  const task = sent(fields);
  return {
    result: {
      data: {
        taskProgress: {
          __typename: "TaskUpdate",
          sequence,
          kind: "STATUS",
          status: task.status,
          step: task.step,
          totalSteps: task.totalSteps,
          progress: task.progress,
          previewUrl: task.previewUrl,
          queuePosition: task.queuePosition,
          task,
        },
      },
    },
  };
}

function Probe() {
  const { task } = useLiveTask("t1");
  return (
    <p>
      {task
        ? `${task.status} step ${task.step} ${task.error?.code ?? "no error"} ${task.finishedAt ?? "not finished"}`
        : "loading"}
    </p>
  );
}

describe("useLiveTask", () => {
  test("a task History marks ended first is followed until its own last event brings the error", async () => {
    const subscriptions = new MockSubscriptionLink();
    const link = ApolloLink.split(
      ({ operationType }) => operationType === OperationTypeNode.SUBSCRIPTION,
      subscriptions,
      new ApolloLink(() => of({ data: { task: sent({}) } })),
    );
    const client = new ApolloClient({ cache: createCache(), link });
    render(
      <ApolloProvider client={client}>
        <Probe />
      </ApolloProvider>,
    );
    await screen.findByText("PROCESSING step 7 no error not finished");
    act(() => subscriptions.simulateResult(progressEvent(1, { step: 8 })));
    await screen.findByText("PROCESSING step 8 no error not finished");

    // History's taskUpdates says FAILED first, with only the fields History reads.
    act(() => {
      client.cache.writeFragment({
        fragment: HistoryItemFields,
        id: client.cache.identify({ __typename: "Task", id: "t1" }),
        data: {
          id: "t1",
          status: "FAILED",
          description: "Add a rainbow",
          progress: 42.4,
          createdAt: "2026-01-01T10:00:00+00:00",
          batchId: null,
          previewUrl: null,
          referenceImage: null,
          result: null,
        },
      });
    });
    await screen.findByText("FAILED step 8 no error not finished");

    act(() =>
      subscriptions.simulateResult(
        progressEvent(2, {
          status: "FAILED",
          finishedAt: "2026-01-01T10:00:09+00:00",
          error: {
            code: "TIMED_OUT",
            message: "The task did not finish within its 1 s deadline.",
            nodeId: null,
            nodeType: null,
            exceptionType: null,
          },
        }),
        true,
      ),
    );
    await screen.findByText("FAILED step 7 TIMED_OUT 2026-01-01T10:00:09+00:00");
    // one subscription all along, ended by the service, not dropped early
    expect(subscriptions.unsubscribers).toHaveLength(0);
  });
});
