// The web app in headless Chromium against a real service and the bundled ComfyUI emulator:
// what a person does on the page, checked through the accessible names a screen reader uses.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { launchBrowser, openContext, screenshot } from "./support/browser.mjs";
import { landscapePng } from "./support/png.mjs";
import { startService } from "./support/service.mjs";

const picture = { name: "landscape.png", mimeType: "image/png", buffer: landscapePng() };
const timeout = 20_000;

let service;
let browser;
let context;
let foreign;

before(async () => {
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
});

async function openPage() {
  const page = await context.newPage();
  await page.goto(service.url);
  return page;
}

async function chooseReference(page, file = picture) {
  await page.getByLabel("Reference image").setInputFiles(file);
}

async function startEdit(page, instruction) {
  await chooseReference(page);
  await page.getByText("512 × 384").waitFor();
  await page.getByRole("textbox", { name: "Instruction" }).fill(instruction);
}

async function setSteps(page, steps) {
  await page.getByText("Advanced parameters").click();
  await page.getByLabel(/^Steps/).fill(String(steps));
}

async function until(check, what = "the condition") {
  const deadline = Date.now() + timeout;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} did not hold within ${timeout} ms`);
    await new Promise((done) => setTimeout(done, 100));
  }
}

function progressValues(page) {
  return page
    .getByRole("progressbar")
    .evaluateAll((bars) => bars.map((bar) => Number(bar.getAttribute("aria-valuenow"))));
}

describe("the edit page", () => {
  before(async () => {
    // History's paging test submits 32 tasks at once: above the default burst.
    service = await startService({ env: { KONTEXT_SUBMIT_BURST: "100", KONTEXT_SUBMIT_RATE_PER_MINUTE: "1000" } });
    ({ context, foreign } = await openContext(browser));
    context.setDefaultTimeout(timeout);
  });

  after(async () => {
    await context?.close();
    await service?.stop();
  });

  test("upload, instruct, generate: progress reaches 100, the result shows, History has it after a reload", async () => {
    const page = await openPage();
    await screenshot(page, "01-empty");
    await startEdit(page, "Turn the sky into a starry night");
    await setSteps(page, 24);
    await page.getByRole("button", { name: "Generate", exact: true }).click();

    const bar = page.getByRole("progressbar");
    await bar.waitFor();
    const seen = new Set();
    const estimates = new Set();
    const eta = page.locator(".progress-eta");
    const deadline = Date.now() + timeout;
    while (Date.now() < deadline) {
      const [value] = await progressValues(page);
      seen.add(value);
      if (value === 100) break;
      for (const text of await eta.allInnerTexts()) estimates.add(text);
      await page.waitForTimeout(40);
    }
    assert.ok(seen.has(100), `the progress bar reached ${[...seen].join(", ")}`);
    // once the run's step rate is measured, the page says when it should be done
    assert.ok(
      [...estimates].some((text) => /^(about \d+ s left|any moment now) · \d/.test(text)),
      `no estimated finish time shown: ${[...estimates].join(" | ")}`,
    );
    assert.equal(await eta.count(), 0, "the estimate stays once the task is done");
    assert.ok(
      [...seen].some((value) => value > 0 && value < 100),
      `no step in between: ${[...seen]}`,
    );
    const result = page.getByRole("img", { name: /^Result/ });
    await result.waitFor();
    assert.match(await result.getAttribute("alt"), /starry night/);
    await page.getByText(/Done in/).waitFor();
    assert.match(page.url(), /[?&]tasks=/);
    // before and after line up: one box of the result's shape, both images filling it
    const before = page.getByRole("img", { name: "Reference (before)", exact: true });
    const [beforeBox, afterBox] = await Promise.all([before.boundingBox(), result.boundingBox()]);
    assert.deepEqual(beforeBox, afterBox);
    const natural = await result.evaluate((image) => image.naturalWidth / image.naturalHeight);
    assert.ok(Math.abs(afterBox.width / afterBox.height - natural) < 0.01, `${afterBox.width}×${afterBox.height}`);
    await page.getByRole("slider", { name: /Before and after/ }).focus();
    await page.keyboard.press("ArrowLeft");
    await screenshot(page, "02-result");
    await page.getByText("Advanced parameters").click();
    await page.evaluate(() => window.scrollTo(0, 0));
    await screenshot(page, "readme", { fullPage: false });

    // History was empty when the page loaded: the entry arrives live (taskUpdates)
    const history = page.getByRole("region", { name: "History" });
    await history.getByRole("button", { name: /starry night \(completed\)/ }).waitFor();

    await page.reload();
    await page.getByRole("img", { name: /^Result/ }).waitFor();
    await history.getByRole("button", { name: /starry night \(completed\)/ }).waitFor();
    await page.getByRole("button", { name: "Re-run", exact: true }).waitFor();

    // a second tab shows the same state from the same address
    const second = await context.newPage();
    await second.goto(page.url());
    await second.getByRole("img", { name: /^Result: Turn the sky into a starry night/ }).waitFor();
    await second.close();

    // opening it from History shows its parameters and timings
    await page.goto(service.url);
    await page
      .getByRole("region", { name: "History" })
      .getByRole("button", { name: /starry night/ })
      .click();
    await page.getByText("Parameters and timings").waitFor();
    await page.getByRole("definition").filter({ hasText: /^24$/ }).waitFor();
    // the backend it ran on, named as the backends query names it
    const { backends } = await service.graphql("{ backends { url } }");
    const backend = page.locator(".task-details dt", { hasText: "Backend" }).locator("+ dd");
    assert.equal(await backend.innerText(), backends[0].url);
    await page.close();
  });

  test("a long task shows step x of y and its preview, and Cancel stops it", async () => {
    const page = await openPage();
    await startEdit(page, "Paint it in oils, slowly");
    await setSteps(page, 150);
    // How each image loading out of sight (the next preview) is laid out, as it is added.
    await page.evaluate(() => {
      window.unseenDisplays = [];
      new MutationObserver((changes) => {
        for (const change of changes) {
          for (const node of change.addedNodes) {
            if (node instanceof HTMLImageElement && node.hidden) {
              window.unseenDisplays.push(getComputedStyle(node).display);
            }
          }
        }
      }).observe(document.body, { childList: true, subtree: true });
    });
    await page.getByRole("button", { name: "Generate", exact: true }).click();
    await page.getByText(/Step \d+ of 150/).waitFor();
    await page.getByRole("img", { name: /^Latest preview/ }).waitFor();
    const unseen = await page.evaluate(() => window.unseenDisplays);
    assert.ok(unseen.length > 0, "the preview loaded out of sight first");
    assert.deepEqual(new Set(unseen), new Set(["none"]), "a preview loading out of sight takes no room");
    await page.getByText(/^about \d+ s left · \d/).waitFor();
    await screenshot(page, "03-progress");
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole("region", { name: "Current task" }).scrollIntoViewIfNeeded();
    await screenshot(page, "03-progress-phone", { fullPage: false });
    const [value] = await progressValues(page);
    assert.ok(value > 0 && value < 100, `mid-run progress ${value}`);
    await page.getByRole("button", { name: "Cancel", exact: true }).click();
    await page.getByRole("alert").filter({ hasText: "The task was cancelled." }).waitFor();
    await page.getByRole("region", { name: "Current task" }).getByText("Cancelled", { exact: true }).waitFor();
    assert.equal(await page.getByRole("button", { name: "Cancel", exact: true }).count(), 0);
    await page.close();
  });

  test("a task that fails says what its error code means", async () => {
    const { uploadImage } = await service.graphql(
      "mutation($image: ImageInput!) { uploadImage(image: $image) { id } }",
      { image: { base64: picture.buffer.toString("base64") } },
    );
    const { generateImage } = await service.graphql(
      "mutation($input: GenerateImageInput!) { generateImage(input: $input) { task { id } } }",
      {
        input: {
          referenceImage: { imageId: uploadImage.id },
          description: "Too slow to finish",
          parameters: { steps: 150 },
          timeoutSeconds: 1,
        },
      },
    );
    const page = await context.newPage();
    await page.goto(`${service.url}/?tasks=${generateImage.task.id}`);
    const alert = page.getByRole("alert").filter({ hasText: "The task did not finish in time." });
    await alert.waitFor();
    assert.match(await alert.innerText(), /TIMED_OUT/);
    await page.getByRole("region", { name: "Current task" }).getByText("Failed", { exact: true }).waitFor();
    await screenshot(page, "10-failed");
    await page.close();
  });

  test("a preset applies; a saved one comes back after a reload and can be deleted", async () => {
    const page = await openPage();
    await page.getByText("Advanced parameters").click();
    const steps = page.getByLabel(/^Steps/);
    await page.getByRole("button", { name: "Fast draft", exact: true }).click();
    const draftSteps = await steps.inputValue();
    assert.notEqual(draftSteps, "20", "the fast draft preset changed nothing");

    await steps.fill("33");
    await page.getByLabel(/^Guidance/).fill("4.5");
    await page.getByLabel("Preset name").fill("My look");
    await page.getByRole("button", { name: "Save preset" }).click();
    await page.getByRole("button", { name: "My look", exact: true }).waitFor();
    await screenshot(page, "04-presets");

    await page.reload();
    await page.getByText("Advanced parameters").click();
    assert.equal(await page.getByLabel(/^Steps/).inputValue(), "20");
    await page.getByRole("button", { name: "My look", exact: true }).click();
    assert.equal(await page.getByLabel(/^Steps/).inputValue(), "33");
    assert.equal(await page.getByLabel(/^Guidance/).inputValue(), "4.5");

    await page.getByRole("button", { name: "Delete preset My look" }).click();
    await page.getByRole("button", { name: "My look", exact: true }).waitFor({ state: "detached" });
    await page.close();
  });

  test("a batch of 3 is shown side by side; picking one opens it; Re-run makes a linked task", async () => {
    const page = await openPage();
    await startEdit(page, "Add a hot air balloon");
    await page.getByLabel("Count").selectOption("3");
    await page.getByRole("button", { name: "Generate", exact: true }).click();

    const batch = page.getByTestId("batch");
    const results = batch.getByRole("img", { name: /^Result/ });
    await batch.waitFor();
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid="batch"] img[alt^="Result"]').length === 3,
      null,
      { timeout },
    );
    const boxes = await Promise.all([0, 1, 2].map((index) => results.nth(index).boundingBox()));
    assert.ok(
      boxes.every((box) => Math.abs(box.y - boxes[0].y) < 2),
      "the siblings are not in one row",
    );
    assert.ok(boxes[0].x < boxes[1].x && boxes[1].x < boxes[2].x);
    await screenshot(page, "05-batch");

    await batch.getByRole("button", { name: /#2$/ }).click();
    await page.getByRole("img", { name: /^Result: Add a hot air balloon/ }).waitFor();
    const opened = new URL(page.url()).searchParams.get("open");
    assert.ok(opened);

    await page.getByRole("button", { name: "Re-run", exact: true }).click();
    await page.waitForURL(
      (url) => new URL(url).searchParams.get("tasks") !== null && !new URL(url).searchParams.get("tasks").includes(","),
    );
    const rerun = new URL(page.url()).searchParams.get("tasks");
    assert.notEqual(rerun, opened);
    await page.getByRole("img", { name: /^Result: Add a hot air balloon/ }).waitFor();
    await page.getByText(/^Re-run of/).waitFor();

    await page.getByRole("button", { name: "Delete", exact: true }).click();
    await page.getByText("Your edit appears here").waitFor();
    assert.equal(new URL(page.url()).searchParams.get("tasks"), null);
    await assert.rejects(service.graphql("query($id: ID!) { task(id: $id) { id } }", { id: rerun }), /NOT_FOUND/);

    // one of the batch opened from History: its siblings side by side again, in batch order
    await page.reload();
    const entries = page.getByRole("region", { name: "History" }).getByRole("button", { name: /hot air balloon/ });
    await until(async () => (await entries.count()) === 3, "the batch's three entries in History");
    await entries.last().click();
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid="batch"] img[alt^="Result"]').length === 3,
      null,
      { timeout },
    );
    await batch.getByRole("button", { name: /#1$/ }).waitFor();
    await batch.getByRole("button", { name: /#3$/ }).waitFor();
    assert.equal(new URL(page.url()).searchParams.get("tasks").split(",").length, 3);
    await page.setViewportSize({ width: 390, height: 844 });
    await batch.scrollIntoViewIfNeeded();
    await screenshot(page, "05-batch-from-history-phone", { fullPage: false });
    await batch.getByRole("button", { name: /#2$/ }).click();
    assert.equal(new URL(page.url()).searchParams.get("open"), opened);
    await page.getByRole("button", { name: "← All 3 of the batch" }).waitFor();
    await page.close();
  });

  test("a reference by drop, by paste, by address, or from earlier uploads", async () => {
    const page = await openPage();
    const bytes = picture.buffer.toString("base64");
    const giveFile = (how) =>
      page.evaluate(
        ({ how, bytes }) => {
          const data = Uint8Array.from(atob(bytes), (char) => char.charCodeAt(0));
          const transfer = new DataTransfer();
          transfer.items.add(new File([data], "landscape.png", { type: "image/png" }));
          if (how === "paste") {
            document.dispatchEvent(new ClipboardEvent("paste", { clipboardData: transfer, bubbles: true }));
          } else {
            const zone = document.querySelector(".dropzone");
            zone.dispatchEvent(new DragEvent("dragover", { dataTransfer: transfer, bubbles: true, cancelable: true }));
            zone.dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true }));
          }
        },
        { how, bytes },
      );
    const shown = page.getByRole("img", { name: "Reference image preview" });

    await giveFile("drop");
    await page.getByText("512 × 384 · 3 KB · PNG").waitFor();
    await page.getByRole("button", { name: "Clear" }).click();
    await shown.waitFor({ state: "detached" });

    await giveFile("paste");
    await shown.waitFor();
    await page.getByRole("button", { name: "Clear" }).click();

    // an address the service must not fetch (loopback): refused before any connection
    await page.getByLabel("Image address").fill("http://127.0.0.1:9/picture.png");
    await page.getByRole("button", { name: "Fetch" }).click();
    await page.getByRole("alert").filter({ hasText: "URL_FORBIDDEN" }).waitFor();

    await page.getByText("Earlier uploads").click();
    await page.getByRole("button", { name: "Use earlier upload 512 × 384" }).first().click();
    await shown.waitFor();
    assert.equal(await page.getByRole("alert").count(), 0, "the refusal stays after a good choice");
    await page.close();
  });

  test("a file that is not an image shows the service's typed error in words", async () => {
    const page = await openPage();
    await chooseReference(page, { name: "notes.png", mimeType: "image/png", buffer: Buffer.from("not a picture") });
    const alert = page.getByRole("alert");
    await alert.filter({ hasText: "not an image we can use" }).waitFor();
    assert.match(await alert.innerText(), /BAD_USER_INPUT · BAD_IMAGE/);
    assert.ok(await page.getByRole("button", { name: "Generate", exact: true }).isDisabled());
    await screenshot(page, "06-invalid-file");
    await page.close();
  });

  test("the keyboard alone reaches the controls and generates", async () => {
    const page = await openPage();
    await chooseReference(page);
    await page.getByText("512 × 384").waitFor();
    const focused = [];
    for (let press = 0; press < 40 && !focused.includes("Generate"); press += 1) {
      await page.keyboard.press("Tab");
      focused.push(
        await page.evaluate(() => {
          const element = document.activeElement;
          const label = element?.getAttribute("aria-label") ?? element?.labels?.[0]?.textContent;
          return (label ?? element?.textContent ?? "").trim();
        }),
      );
      if (focused.at(-1) === "Instruction") await page.keyboard.type("Make it look like a postcard");
    }
    for (const name of ["Reference image", "Instruction", "Advanced parameters", "Count", "Generate"]) {
      assert.ok(focused.includes(name), `Tab never reached ${name}: ${focused.join(" → ")}`);
    }
    await page.keyboard.press("Enter");
    await page.getByRole("img", { name: /^Result: Make it look like a postcard/ }).waitFor();
    await page.close();
  });

  test("phone width: everything reachable in one column", async () => {
    const page = await context.newPage();
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(service.url);
    await startEdit(page, "Make it autumn");
    await page.getByRole("button", { name: "Generate", exact: true }).click();
    await page.getByRole("img", { name: /^Result: Make it autumn/ }).waitFor();
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `the page scrolls sideways (${width}px)`);
    await screenshot(page, "07-phone");
    // opened from History, far below: the task is brought into view
    await page
      .getByRole("region", { name: "History" })
      .getByRole("button", { name: /Make it autumn/ })
      .click();
    await until(async () => {
      const box = await page.getByRole("region", { name: "Current task" }).boundingBox();
      return box !== null && box.y >= -1 && box.y < 844 / 2;
    }, "the task opened from History in view");
    await page.emulateMedia({ colorScheme: "dark" });
    await page.waitForTimeout(300); // the buttons' colour transitions settle
    await screenshot(page, "07-phone-dark", { fullPage: false });
    await page.close();
  });

  test("History: search and status filter narrow it, scrolling loads the next page", async () => {
    const { uploadImage } = await service.graphql(
      "mutation($image: ImageInput!) { uploadImage(image: $image) { id } }",
      { image: { base64: picture.buffer.toString("base64") } },
    );
    const ids = [];
    for (let round = 0; round < 4; round += 1) {
      const { generateImage } = await service.graphql(
        "mutation($input: GenerateImageInput!) { generateImage(input: $input) { tasks { id } } }",
        { input: { referenceImage: { imageId: uploadImage.id }, description: `Scroll sample ${round}`, count: 8 } },
      );
      ids.push(...generateImage.tasks.map((task) => task.id));
    }
    for (const id of ids) {
      await service.graphql("mutation($id: ID!) { cancelTask(id: $id) { id } }", { id }).catch(() => {});
    }
    await until(async () => {
      const { history } = await service.graphql(
        'query { history(first: 100, search: "Scroll sample", status: [CANCELLED, COMPLETED]) { totalCount } }',
      );
      return history.totalCount === 32;
    });

    const page = await openPage();
    const history = page.getByRole("region", { name: "History" });
    await history.getByRole("searchbox", { name: "Search history" }).fill("Scroll sample");
    await page.waitForURL(/q=Scroll/);
    const items = history.getByRole("listitem");
    await until(async () => (await items.count()) === 24);
    await items.last().scrollIntoViewIfNeeded();
    await until(async () => (await items.count()) === 32);

    const labels = () =>
      history
        .getByRole("listitem")
        .getByRole("button")
        .evaluateAll((buttons) => buttons.map((button) => button.ariaLabel));
    const allAre = async (status) => {
      const shown = await labels();
      return shown.length > 0 && shown.every((label) => label.endsWith(`(${status})`));
    };
    await history.getByRole("combobox", { name: "Status" }).selectOption("CANCELLED");
    await page.waitForURL(/status=CANCELLED/);
    await until(() => allAre("cancelled"), "only cancelled tasks shown");

    await history.getByRole("searchbox", { name: "Search history" }).fill("");
    await history.getByRole("combobox", { name: "Status" }).selectOption("COMPLETED");
    await page.waitForURL((url) => url.searchParams.get("status") === "COMPLETED" && !url.searchParams.has("q"));
    await history.getByRole("button", { name: /starry night \(completed\)/ }).waitFor();
    await until(() => allAre("completed"), "only completed tasks shown");
    await screenshot(page, "08-history-filtered");

    // the filter is in the address: a reload keeps it
    await page.reload();
    assert.equal(await page.getByRole("combobox", { name: "Status" }).inputValue(), "COMPLETED");
    await until(() => allAre("completed"), "only completed tasks shown after a reload");
    await page.close();
  });

  test("no request left 127.0.0.1", () => {
    assert.deepEqual(foreign, []);
  });
});

describe("with API keys on", () => {
  let keyed;
  let keyedContext;
  let keyedForeign;

  before(async () => {
    keyed = await startService({ env: { KONTEXT_AUTH: "on" } });
    ({ context: keyedContext, foreign: keyedForeign } = await openContext(browser));
    keyedContext.setDefaultTimeout(timeout);
  });

  after(async () => {
    await keyedContext?.close();
    await keyed?.stop();
  });

  test("the key is asked for once, kept, and sent on HTTP and on the socket", async () => {
    const key = keyed.createKey("web-e2e");
    const page = await keyedContext.newPage();
    const authorizations = new Set();
    const socketInits = [];
    page.on("request", (request) => {
      if (new URL(request.url()).pathname === "/graphql") authorizations.add(request.headers()["authorization"]);
    });
    page.on("websocket", (socket) =>
      socket.on("framesent", ({ payload }) => {
        if (String(payload).includes('"connection_init"')) socketInits.push(JSON.parse(payload));
      }),
    );
    await page.goto(keyed.url);
    const dialog = page.getByRole("dialog", { name: "API key" });
    await dialog.waitFor();
    await screenshot(page, "09-api-key");
    await dialog.getByLabel("API key").fill(key);
    await dialog.getByRole("button", { name: "Save" }).click();
    await page.waitForLoadState("load");
    await page.getByRole("button", { name: "Fast draft", exact: true }).waitFor();

    await startEdit(page, "Make it snow");
    await page.getByRole("button", { name: "Generate", exact: true }).click();
    await page.getByRole("img", { name: /^Result: Make it snow/ }).waitFor();
    assert.ok(authorizations.has(`Bearer ${key}`), [...authorizations].join(", "));
    assert.deepEqual(socketInits.at(-1), { type: "connection_init", payload: { Authorization: `Bearer ${key}` } });

    // entered once: a new page in the same browser starts with the key
    const again = await keyedContext.newPage();
    await again.goto(keyed.url);
    await again
      .getByRole("region", { name: "History" })
      .getByRole("button", { name: /Make it snow/ })
      .waitFor();
    assert.equal(await again.getByRole("dialog", { name: "API key" }).isVisible(), false);
    await again.close();
    await page.close();
    assert.deepEqual(keyedForeign, []);
  });
});
