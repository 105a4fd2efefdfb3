// A real `kontext serve` for the browser tests: SQLite and files in a temp dir, the bundled ComfyUI
// emulator with short steps, the built app (web/dist) served at `/`, on a free loopback port.
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

const repo = resolve(import.meta.dirname, "../../..");
const kontext = join(repo, ".venv/bin/kontext");

function freePort() {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });
}

async function healthy(url, child, log) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`kontext serve exited:\n${readFileSync(log, "utf8")}`);
    try {
      const response = await fetch(new URL("/healthz", url), { signal: AbortSignal.timeout(2_000) });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(150);
  }
  throw new Error(`kontext serve not healthy within 30 s:\n${readFileSync(log, "utf8")}`);
}

/** Starts `kontext serve` on a free port; a port taken between the pick and the bind (another
 * process, or the bundled emulator's own port) is picked again, up to three times. */
async function spawnService(scratch, extra, stepSeconds) {
  const log = join(scratch, "server.log");
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const env = {
      ...process.env,
      KONTEXT_DATABASE_URL: `sqlite://${scratch}/db.sqlite3`,
      KONTEXT_STORAGE_DIR: join(scratch, "files"),
      KONTEXT_HOST: "127.0.0.1",
      KONTEXT_PORT: String(port),
      KONTEXT_EMULATOR_STEP_SECONDS: String(stepSeconds),
      KONTEXT_COMFYUI_URLS: "",
      KONTEXT_PUBLIC_URL: "",
      KONTEXT_DISPATCH: "true",
      KONTEXT_WEB_DIST: join(repo, "web/dist"),
      ...extra,
    };
    const out = openSync(log, "w");
    const child = spawn(kontext, ["serve"], { cwd: repo, env, stdio: ["ignore", out, out] });
    try {
      await healthy(url, child, log);
      return { url, log, env, child };
    } catch (error) {
      const taken = child.exitCode !== null && /address already in use/i.test(readFileSync(log, "utf8"));
      if (!taken || attempt === 3) throw error;
    }
  }
}

/** Starts the service; `stop()` ends it and removes its data. `env` adds settings (KONTEXT_AUTH…). */
export async function startService({ stepSeconds = 0.05, env: extra = {} } = {}) {
  const scratch = mkdtempSync(join(tmpdir(), "kontext-web-e2e-"));
  const { url, log, env, child } = await spawnService(scratch, extra, stepSeconds);
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((done) => child.once("exit", done));
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(killer);
    }
    rmSync(scratch, { recursive: true, force: true });
  };
  /** A new API key for `owner` (`kontext create-key`), as printed: the token. */
  const createKey = (owner) => {
    const printed = execFileSync(kontext, ["create-key", owner], { cwd: repo, env, encoding: "utf8" });
    return printed.trim().split("\n").at(-1);
  };
  /** One GraphQL request over plain JSON (to set up data the page then shows). */
  const graphql = async (query, variables = {}) => {
    const response = await fetch(new URL("/graphql", url), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query, variables }),
    });
    const body = await response.json();
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    return body.data;
  };
  return { url, log, stop, createKey, graphql };
}
