// Compiled with `tsc --noEmit` against the types generated from schema.graphql and operations/:
// if the schema or a document the Apollo test sends drifts, this stops compiling.
import type { Scalars, TaskStatus as SchemaTaskStatus } from "./.generated/typescript/schema.ts";
import type {
  GenerateImageMutation,
  GenerateImageMutationVariables,
  HistoryQuery,
  HistoryQueryVariables,
  TaskProgressSubscription,
  TaskProgressSubscriptionVariables,
  TaskQuery,
  TaskStatus,
} from "./.generated/typescript/operations.ts";

type TaskUpdate = TaskProgressSubscription["taskProgress"];

export const uploadVariables: GenerateImageMutationVariables = {
  input: {
    referenceImage: { upload: new File([new Uint8Array(8)], "reference.png", { type: "image/png" }) },
    description: "make the sky purple",
    parameters: { steps: 12, seed: "18446744073709551615" },
    count: 1,
    idempotencyKey: "typecheck",
  },
};

export const byIdVariables: GenerateImageMutationVariables = {
  input: { referenceImage: { imageId: "4b1f0c57-4a9e-4a43-9a8f-4e2d8f1b1d11" }, description: "again" },
};

export const twoSources: GenerateImageMutationVariables = {
  input: {
    // @ts-expect-error ImageInput is @oneOf: exactly one source may be given.
    referenceImage: { upload: new Blob([]), url: "http://127.0.0.1/reference.png" },
    description: "two sources",
  },
};

// @ts-expect-error Seed crosses the wire as a decimal string, never as a JavaScript number.
export const numericSeed: Scalars["Seed"]["input"] = 42;

export const seedOf = (payload: GenerateImageMutation): string =>
  payload.generateImage.task.parameters.seed;

export const isFinished = (status: TaskStatus): boolean =>
  status === "COMPLETED" || status === "FAILED" || status === "CANCELLED";

export const sameStatuses = (status: TaskStatus): `${SchemaTaskStatus}` => status;

export const finalImage = (update: TaskUpdate): string | null =>
  update.status === "COMPLETED" ? (update.result?.imageUrl ?? null) : null;

export const progressVariables: TaskProgressSubscriptionVariables = { id: "4b1f0c57" };

export const stepsDone = (task: NonNullable<TaskQuery["task"]>): number => task.step;

export const failureCode = (task: NonNullable<TaskQuery["task"]>): string | undefined =>
  task.error?.code;

export const historyVariables: HistoryQueryVariables = { first: 5, status: ["COMPLETED"] };

export const nextCursor = (page: HistoryQuery): string | null =>
  page.history.pageInfo.hasNextPage ? page.history.pageInfo.endCursor : null;
