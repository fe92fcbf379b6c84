// @ts-check
// The one way the browser tests start Chromium: Debian's build (playwright-core downloads none), with the flags
// this machine needs (no sandbox as root, no GPU, and no background networking, which the closed network refuses).
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { after, before } from "node:test";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { client, testServer } from "../http/server.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** Debian's Chromium, where `.ci/run` installs it. */
export const CHROMIUM = "/usr/bin/chromium";

/** A headless Chromium for one test file. */
export function launchChromium() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-quic",
      "--no-first-run",
    ],
  });
}

/**
 * The server and browser of the running test file, set by `useServerAndBrowser()`'s `before` hook. ES module
 * exports are live bindings, so a test file that imports them sees them once the hook has run.
 * @type {Awaited<ReturnType<typeof import("../http/server.mjs").testServer>>}
 */
export let server;
/** @type {ReturnType<typeof import("../http/server.mjs").client>} */
export let call;
/** @type {import("playwright-core").Browser} */
export let browser;

/**
 * Starts `npm start` (cheap password hashing, plus `env`) and Chromium before the file's tests and stops both
 * after them: what every browser test file needs first.
 * @param {{ env?: Record<string, string> }} [options]
 */
export function useServerAndBrowser({ env = {} } = {}) {
  before(async () => {
    if (!existsSync(join(root, "web", "dist", "index.html"))) throw new Error("web/dist is missing: run `npm run build:web` first");
    server = await testServer({ env: { PASSWORD_ARGON2_MEMORY_KIB: "1024", PASSWORD_ARGON2_PASSES: "1", ...env } });
    await server.start();
    call = client(server.baseUrl);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close().catch(() => undefined);
    await server?.dispose();
  });
}

/**
 * Waits until the first element matching `selector` has exactly the text `expected`; when it times out it fails
 * saying what it saw instead, so a wrong value and a missing element read differently. Each test file keeps the
 * timeout and polling it was tuned with: a balance pushed over the live stream can take longer than one a page
 * renders itself.
 * @param {import("playwright-core").Page} page
 * @param {string} selector
 * @param {string} expected
 * @param {{ timeout_ms?: number, polling?: number | "raf" }} [options] timeout_ms defaults to 5 s; polling to every animation frame.
 */
export async function waitText(page, selector, expected, { timeout_ms = 5_000, polling = "raf" } = {}) {
  try {
    await page.waitForFunction(([s, e]) => document.querySelector(s)?.textContent === e, [selector, expected], {
      timeout: timeout_ms,
      polling,
    });
  } catch (error) {
    const seen = await page
      .locator(selector)
      .first()
      .textContent()
      .catch(() => "(absent)");
    throw new Error(`${selector}: expected "${expected}", saw "${seen}" after ${timeout_ms} ms`, { cause: error });
  }
}
