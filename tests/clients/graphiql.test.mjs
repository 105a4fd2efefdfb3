// GraphiQL at /graphql in headless Chromium (Debian's, driven by playwright-core): it renders
// from the service's own files with no request leaving the service's origin, opens with the
// example operation, runs the example mutation and follows the task with the subscription.
// KONTEXT_URL: the running service; KONTEXT_CHROMIUM: the browser (default /usr/bin/chromium).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { chromium } from "playwright-core";

import { serviceUrl } from "./support/kontext.mjs";

const TIMEOUT_MS = 30_000;

describe("GraphiQL in headless Chromium", { timeout: 90_000 }, () => {
  const base = serviceUrl();
  const requests = [];
  let browser;
  let page;

  before(async () => {
    browser = await chromium.launch({
      executablePath: process.env.KONTEXT_CHROMIUM ?? "/usr/bin/chromium",
      args: ["--no-sandbox"],
    });
    page = await browser.newPage();
    page.on("request", (request) => requests.push(request.url()));
    page.on("websocket", (socket) => requests.push(socket.url()));
    await page.goto(new URL("/graphql", base).href, { waitUntil: "load" });
  });

  after(async () => {
    await browser?.close();
  });

  async function editorText(selector) {
    return page.evaluate((css) => document.querySelector(css).CodeMirror.getValue(), selector);
  }

  async function run(operationName) {
    await page.locator(".graphiql-execute-button").click();
    await page.getByRole("menuitem", { name: operationName }).click();
  }

  async function resultText() {
    return page.evaluate(() => document.querySelector(".result-window .CodeMirror").CodeMirror.getValue());
  }

  async function waitForResult(predicate, what) {
    const deadline = Date.now() + TIMEOUT_MS;
    let text = "";
    while (Date.now() < deadline) {
      text = await resultText();
      if (predicate(text)) return text;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.fail(`${what} did not appear in GraphiQL's result; last: ${text}`);
  }

  test("renders from the service's own files and opens with the example", async () => {
    await page.locator(".graphiql-container .graphiql-query-editor .CodeMirror").waitFor({ timeout: TIMEOUT_MS });
    const query = await editorText(".graphiql-query-editor .CodeMirror");
    assert.match(query, /mutation Generate\(\$input: GenerateImageInput!\)/);
    assert.match(query, /subscription Progress\(\$id: ID!\)/);
    const variables = JSON.parse(await editorText(".graphiql-editor-tool .CodeMirror"));
    assert.ok(variables.input.referenceImage.base64.length > 100);
  });

  test("runs the example mutation, then follows the task over the subscription", async () => {
    await run("Generate");
    const queued = JSON.parse(await waitForResult((text) => text.includes("generateImage"), "the mutation's answer"));
    const taskId = queued.data.generateImage.task.id;
    await page.evaluate((id) => {
      const editor = document.querySelector(".graphiql-editor-tool .CodeMirror").CodeMirror;
      const variables = JSON.parse(editor.getValue());
      editor.setValue(JSON.stringify({ ...variables, id }, null, 2));
    }, taskId);
    await run("Progress");
    const last = await waitForResult((text) => text.includes('"COMPLETED"'), "the COMPLETED event");
    assert.equal(JSON.parse(last).data.taskProgress.status, "COMPLETED");
  });

  test("no request left the service's origin", () => {
    assert.ok(requests.length >= 6, `expected the page, its files and the API: ${requests}`);
    const origin = new URL(base);
    const foreign = requests.filter((url) => {
      const parsed = new URL(url);
      return parsed.hostname !== origin.hostname || parsed.port !== origin.port;
    });
    assert.deepEqual(foreign, []);
    assert.ok(requests.some((url) => url.startsWith("ws")), "the subscription used a websocket");
  });
});
