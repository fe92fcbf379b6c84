// Runs `npm start`'s script as a child process for out-of-process tests, on a free port with a fresh state
// directory, and can kill it with SIGKILL and start it again on the same state, as an operator's crash would.
import { spawn } from "node:child_process";
import { chmodSync, cpSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(fileURLToPath(new URL("../..", import.meta.url)));

/**
 * A TCP port nobody is listening on right now.
 * @returns {Promise<number>}
 */
export function freePort() {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      // A server listening on a TCP port has an AddressInfo; null and a string are for unbound servers and pipes.
      const address = server.address();
      if (address === null || typeof address === "string") return fail(new Error(`not a TCP address: ${address}`));
      server.close(() => ok(address.port));
    });
  });
}

/**
 * A server under test: `start()`, `kill()` (SIGKILL), `stop()`, `dispose()` (stop and delete its state), and its `baseUrl`.
 * @param {{ env?: Record<string, string> }} [options] `env` is added to the server's environment, over the defaults
 */
export async function testServer({ env = {} } = {}) {
  const port = await freePort();
  const stateDir = mkdtempSync(join(tmpdir(), "wallet-state-"));
  // `npm test` migrates one local D1 database before the tests (TEST_STATE_TEMPLATE) and each server starts from
  // a copy, so that `npm start` finds its migrations applied instead of applying them again for every server. A
  // test that names its own STATE_DIR gets what it asked for: `npm start` migrates it itself.
  const template = process.env.TEST_STATE_TEMPLATE;
  if (template && env.STATE_DIR === undefined) copyPrivately(template, stateDir);
  /** @type {import("node:child_process").ChildProcessByStdio<null, import("node:stream").Readable, import("node:stream").Readable> | null} */
  let child = null;
  let log = "";
  const server = {
    port,
    stateDir,
    baseUrl: `http://127.0.0.1:${port}`,
    get log() {
      return log;
    },
    async start() {
      // Each start waits for its own "ready" line, not one left in the log by an earlier start.
      log = "";
      const started = spawn(process.execPath, [join(root, "scripts", "start.mjs")], {
        cwd: root,
        // Out-of-process tests all come from one address; the rate limits are tested inside workerd.
        env: {
          ...process.env,
          PORT: String(port),
          STATE_DIR: stateDir,
          SKIP_WEB_BUILD: "1",
          RATE_REGISTER_PER_IP_PER_MINUTE: "10000",
          RATE_LOGIN_PER_IP_PER_MINUTE: "10000",
          RATE_MONEY_PER_USER_PER_MINUTE: "1000000",
          // Every error answer is checked against its route's declared codes (src/api/declared-errors.ts).
          CHECK_ERROR_CODES: "on",
          // Tests wait for the "ready" line, which comes after the seed either way; seeding before PORT opens
          // costs a workerd restart, so only the test of that order asks for it.
          SEED_BEFORE_OPEN: "0",
          ...env,
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      child = started;
      const exited = new Promise((resolveExit) => started.once("exit", resolveExit));
      started.stdout.on("data", (d) => (log += d));
      started.stderr.on("data", (d) => (log += d));
      // Generous: npm start migrates every audit partition first, and the machine may be shared.
      const deadline = Date.now() + Number(process.env.TEST_SERVER_START_MS ?? 180_000);
      while (!log.includes("[start] ready on")) {
        if (started.exitCode !== null) throw new Error(`server exited early:\n${log}`);
        if (Date.now() > deadline) throw new Error(`server did not start:\n${log}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      server.exited = exited;
    },
    /** SIGKILL, as a crash would; the watchdog takes wrangler and workerd down with it. */
    async kill() {
      if (child === null) throw new Error("kill() before start()");
      child.kill("SIGKILL");
      await server.exited;
      await waitPortFree(port);
    },
    async stop() {
      if (child === null || child.exitCode !== null) return;
      child.kill("SIGTERM");
      await server.exited;
    },
    /** Stops the server for good and deletes its state directory (a run leaves hundreds of MB behind). */
    async dispose() {
      await server.stop();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
  return server;
}

/** Copies a state directory, readable by this user only, as `npm start` keeps its own (umask 077). */
function copyPrivately(from, to) {
  cpSync(from, to, { recursive: true });
  const close = (dir) => {
    chmodSync(dir, 0o700);
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) close(join(dir, entry.name));
      else chmodSync(join(dir, entry.name), 0o600);
    }
  };
  close(to);
}

async function waitPortFree(port) {
  for (let i = 0; i < 100; i++) {
    const free = await new Promise((ok) => {
      const s = createServer().once("error", () => ok(false));
      s.listen(port, "127.0.0.1", () => s.close(() => ok(true)));
    });
    if (free) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`port ${port} still busy after the kill`);
}

/**
 * What a call sends besides its path.
 * @typedef {object} CallOptions
 * @property {string} [method] the HTTP method; POST when there is a body, GET when there is none
 * @property {unknown} [body] sent as JSON, with its content-type
 * @property {string} [token] a session token, sent as a bearer token
 * @property {string} [key] the Idempotency-Key
 * @property {Record<string, string>} [headers] any other headers, sent last so they win
 */

/**
 * A call's answer: `json` is the parsed body (null when empty or not JSON), typed loosely as the tests read it.
 * @typedef {object} CallResult
 * @property {number} status
 * @property {Headers} headers
 * @property {string} text
 * @property {any} json
 */

/**
 * A small JSON client for the contract.
 * @param {string} baseUrl
 * @returns {(path: string, options?: CallOptions) => Promise<CallResult>}
 */
export function client(baseUrl) {
  return async function call(path, { method, body, token, key, headers = {} } = {}) {
    const res = await fetch(`${baseUrl}/api/v1${path}`, {
      method: method ?? (body === undefined ? "GET" : "POST"),
      headers: {
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(key ? { "idempotency-key": key } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      // Not JSON (an HTML error page, say): the tests read `text` instead.
      json = null;
    }
    return { status: res.status, headers: res.headers, text, json };
  };
}
