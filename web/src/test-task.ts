// A running task as the TaskFields fragment reads it, for component tests; override any field.
import type { TaskFieldsFragment } from "./gql/graphql";

export function taskFields(fields: Partial<TaskFieldsFragment>): TaskFieldsFragment {
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
    requeueReason: null,
    estimatedFinishAt: null,
    backend: "http://127.0.0.1:8188",
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
