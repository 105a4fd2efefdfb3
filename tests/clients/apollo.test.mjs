// Apollo Client 4 + apollo-upload-client 19 + graphql-ws 6 against a running Kontext service
// (KONTEXT_URL), the way a web app talks to it: upload a reference image, follow the task's
// progress over a websocket, download the result.
import assert from "node:assert/strict";
import { randomInt, randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";

import { CombinedGraphQLErrors } from "@apollo/client/errors";

import { createKontextClient, operation, serviceUrl, untilComplete } from "./support/kontext.mjs";
import { isPng, makePng, pngSize } from "./support/png.mjs";

const GENERATE_IMAGE = operation("generateImage");
const TASK = operation("task");
const HISTORY = operation("history");
const TASK_PROGRESS = operation("taskProgress");

const STEPS = 16;
const LARGEST_SEED = "18446744073709551615";
const STREAM_TIMEOUT_MS = 30_000;

// ComfyUI (and the emulator) caches node outputs: a prompt it has run before completes at once,
// with no sampling steps. Each run sends an image and a description of its own.
const RUN = { blue: randomInt(256), tag: randomUUID().slice(0, 8) };

function referenceFile() {
  return new File([makePng(64, 48, RUN.blue)], "reference.png", { type: "image/png" });
}

function generateInput(idempotencyKey) {
  return {
    referenceImage: { upload: referenceFile() },
    description: `turn the gradient into a sunset over the sea (run ${RUN.tag})`,
    parameters: { steps: STEPS, seed: LARGEST_SEED },
    idempotencyKey,
  };
}

function progressOf(client, id) {
  const stream = client.subscribe({
    query: TASK_PROGRESS,
    variables: { id },
    fetchPolicy: "no-cache",
  });
  return untilComplete(stream, STREAM_TIMEOUT_MS);
}

function updatesOf(results) {
  return results.map((result) => {
    assert.equal(result.error, undefined, `unexpected error event: ${result.error?.message}`);
    return result.data.taskProgress;
  });
}

function assertStrictlyIncreasing(values, what) {
  values.slice(1).forEach((value, index) => {
    assert.ok(value > values[index], `${what} must increase: ${values.join(", ")}`);
  });
}

function assertStepsClimbToTheEnd(updates) {
  const steps = updates.map((update) => update.step);
  steps.slice(1).forEach((step, index) => {
    assert.ok(step >= steps[index], `the step counter went back: ${steps.join(", ")}`);
  });
  const midway = new Set(steps.filter((step) => step > 0 && step < STEPS));
  assert.ok(midway.size >= 2, `expected the counter to climb through steps, saw ${steps.join(", ")}`);
  assert.equal(steps.at(-1), STEPS);
  assert.ok(updates.every((update) => update.totalSteps === STEPS || update.totalSteps === 0));
}

async function download(url) {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  assert.equal(response.status, 200, `GET ${url}`);
  return { response, bytes: Buffer.from(await response.arrayBuffer()) };
}

describe("Apollo Client against Kontext GraphQL", { timeout: 60_000 }, () => {
  let kontext;
  let finished; // { id, imageUrl, idempotencyKey } once the first test has seen the task complete

  before(() => {
    kontext = createKontextClient(serviceUrl());
  });

  after(async () => {
    await kontext?.dispose();
  });

  test("an uploaded PNG becomes a task whose progress streams to a downloadable PNG", async () => {
    const idempotencyKey = `apollo-${randomUUID()}`;
    const { data } = await kontext.client.mutate({
      mutation: GENERATE_IMAGE,
      variables: { input: generateInput(idempotencyKey) },
    });
    const payload = data.generateImage;
    assert.equal(payload.replayed, false);
    assert.deepEqual(payload.tasks.map((task) => task.id), [payload.task.id]);
    assert.equal(payload.task.parameters.seed, LARGEST_SEED, "the uint64 seed keeps every digit");
    assert.equal(payload.task.parameters.steps, STEPS);

    const updates = updatesOf(await progressOf(kontext.client, payload.task.id));

    assert.ok(updates.every((update) => update.task.id === payload.task.id));
    assertStrictlyIncreasing(updates.map((update) => update.sequence), "sequence");
    assertStepsClimbToTheEnd(updates);
    const last = updates.at(-1);
    assert.equal(last.status, "COMPLETED");
    assert.equal(last.error, null);
    assert.equal(last.progress, 100);
    assert.ok(last.result?.imageUrl, "the COMPLETED event carries result.imageUrl");
    const terminal = updates.filter((update) => update.status === "COMPLETED");
    assert.equal(terminal.length, 1, "the stream ends right after the COMPLETED event");

    const { response, bytes } = await download(last.result.imageUrl);
    assert.equal(response.headers.get("content-type"), "image/png");
    assert.ok(isPng(bytes), "the result starts with the PNG signature");
    assert.equal(bytes.length, last.result.bytes);
    assert.deepEqual(pngSize(bytes), { width: last.result.width, height: last.result.height });
    assert.equal(last.result.format, "PNG");
    finished = { id: payload.task.id, imageUrl: last.result.imageUrl, idempotencyKey };
  });

  test("the finished task reads back through task and history", async () => {
    assert.ok(finished, "needs the task completed by the first test");
    const { data } = await kontext.client.query({
      query: TASK,
      variables: { id: finished.id },
      fetchPolicy: "network-only",
    });
    assert.equal(data.task.status, "COMPLETED");
    assert.equal(data.task.step, STEPS);
    assert.equal(data.task.totalSteps, STEPS);
    assert.equal(data.task.progress, 100);
    assert.equal(data.task.queuePosition, null);
    assert.equal(data.task.parameters.seed, LARGEST_SEED);
    assert.equal(data.task.result.imageUrl, finished.imageUrl);
    assert.equal(data.task.error, null);
    assert.ok(!Number.isNaN(Date.parse(data.task.createdAt)), "createdAt is a date");

    const page = await kontext.client.query({
      query: HISTORY,
      variables: { first: 5, status: ["COMPLETED"] },
      fetchPolicy: "network-only",
    });
    const ids = page.data.history.edges.map((edge) => edge.node.id);
    assert.ok(ids.includes(finished.id), `history lists the task: ${ids.join(", ")}`);
    assert.ok(page.data.history.totalCount >= 1);
  });

  test("retrying generateImage with the same idempotency key replays the same task", async () => {
    assert.ok(finished, "needs the task completed by the first test");
    const { data } = await kontext.client.mutate({
      mutation: GENERATE_IMAGE,
      variables: { input: generateInput(finished.idempotencyKey) },
    });
    assert.equal(data.generateImage.replayed, true);
    assert.equal(data.generateImage.task.id, finished.id);
    assert.equal(data.generateImage.task.status, "COMPLETED");
  });

  test("a subscriber arriving after completion gets the final snapshot, then the end", async () => {
    assert.ok(finished, "needs the task completed by the first test");
    const updates = updatesOf(await progressOf(kontext.client, finished.id));
    assert.equal(updates.length, 1, `one snapshot, then complete: ${JSON.stringify(updates)}`);
    const [snapshot] = updates;
    assert.equal(snapshot.kind, "SNAPSHOT");
    assert.equal(snapshot.status, "COMPLETED");
    assert.equal(snapshot.step, STEPS);
    assert.equal(snapshot.result.imageUrl, finished.imageUrl);
  });

  test("subscribing to an unknown task id yields a NOT_FOUND error, then the end", async () => {
    const results = await progressOf(kontext.client, randomUUID());
    assert.equal(results.length, 1, `one error result: ${JSON.stringify(results)}`);
    const [{ data, error }] = results;
    assert.equal(data, undefined);
    assert.ok(CombinedGraphQLErrors.is(error), `a GraphQL error, got ${error}`);
    assert.deepEqual(
      error.errors.map((graphQLError) => graphQLError.extensions?.code),
      ["NOT_FOUND"],
    );
  });
});
