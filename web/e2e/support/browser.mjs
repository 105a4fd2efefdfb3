// Debian's headless Chromium driven by playwright-core (no downloaded browser), with a guard that
// records (and blocks) every request that would leave 127.0.0.1.
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";

import { chromium } from "playwright-core";

export const outputDir = resolve(import.meta.dirname, "../../test-output/e2e");

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.KONTEXT_CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-dev-shm-usage"],
  });
}

function isLocal(url) {
  const { protocol, hostname } = new URL(url);
  return protocol === "data:" || protocol === "blob:" || protocol === "about:" || hostname === "127.0.0.1";
}

/** A fresh browser context; `foreign` collects every URL that was not on 127.0.0.1. */
export async function openContext(browser, options = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...options });
  const foreign = [];
  await context.route("**/*", (route) => {
    const url = route.request().url();
    if (isLocal(url)) return route.continue();
    foreign.push(url);
    return route.abort("blockedbyclient");
  });
  context.on("page", (page) => {
    page.on("websocket", (socket) => {
      if (!isLocal(socket.url())) foreign.push(socket.url());
    });
  });
  return { context, foreign };
}

/** The whole page as test-output/e2e/<name>.png (`fullPage: false`: only what the window shows). */
export async function screenshot(page, name, { fullPage = true } = {}) {
  mkdirSync(outputDir, { recursive: true });
  await page.screenshot({ path: join(outputDir, `${name}.png`), fullPage });
}
