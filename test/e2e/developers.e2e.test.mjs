// Browser end-to-end test of the Developers page (issue 16), in Debian's Chromium against a real `npm start`:
// a person makes an API key (shown once, scoped: it reads but cannot pay, and fails with 401 once revoked),
// adds a webhook endpoint pointing at a local receiver that verifies every delivery with `standardwebhooks`
// (scripts/webhook-listen.mjs), tops up, and sees the delivery succeed and the event in the event log. axe runs on
// the page in both colour schemes.
//
//   npm run build:web && node --test test/e2e/developers.e2e.test.mjs
import assert from "node:assert/strict";
import { test } from "node:test";
import { listen } from "../../scripts/webhook-listen.mjs";
import { freePort } from "../http/server.mjs";
import { assertAccessible } from "./axe.mjs";
import { browser, call, server, useServerAndBrowser } from "./browser.mjs";

const PASSWORD = "e2e-password-1";

useServerAndBrowser();

const byTest = (page, id) => page.getByTestId(id, { exact: true });

/** Waits until `check` holds, polling every 50 ms, or fails with `what` after `timeout_ms`. */
async function until(what, check, timeout_ms = 15_000) {
  const deadline = Date.now() + timeout_ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test(
  "the Developers page: an API key shown once and scoped, a webhook verified by its receiver, the event log",
  { timeout: 120_000 },
  async (t) => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 1000 }, locale: "en-US", timezoneId: "UTC" });
    context.setDefaultTimeout(10_000);
    t.after(() => context.close().catch(() => undefined));
    const page = await context.newPage();
    await page.goto(server.baseUrl);
    const handle = `dev_${process.pid}`;
    await byTest(page, "register-handle").fill(handle);
    await byTest(page, "register-password").fill(PASSWORD);
    await byTest(page, "register-submit").click();
    await byTest(page, "balance").waitFor();

    await byTest(page, "nav-developers").click();
    await byTest(page, "developers").waitFor();

    // An API key with `read` only: shown once, it reads the user's data and cannot move money.
    await byTest(page, "api-key-name").fill("e2e reader");
    await byTest(page, "api-key-create").click();
    const key = await byTest(page, "api-key-value").inputValue();
    assert.match(key, /^ewk_/);
    assert.equal((await call("/me", { token: key })).status, 200);
    const me = await call("/me", { token: key });
    const walletId = me.json.wallets[0].id;
    const pay = await call(`/wallets/${walletId}/deposits`, { token: key, key: "dev-1", body: { amount: 100 } });
    assert.equal(pay.status, 403, pay.text);
    assert.equal(pay.json.error.code, "insufficient_scope");
    await byTest(page, "api-key-done").click();
    assert.equal(await byTest(page, "api-key-value").count(), 0, "the key is not shown again");
    await byTest(page, "api-key-item").waitFor();

    // A webhook endpoint for deposits, pointing at a receiver that verifies each delivery's signature.
    const port = await freePort();
    await byTest(page, "webhook-url").fill(`http://127.0.0.1:${port}/hook`);
    await byTest(page, "webhook-type-deposit.succeeded").check();
    await byTest(page, "webhook-create").click();
    const secret = await byTest(page, "webhook-secret").inputValue();
    assert.match(secret, /^whsec_/);
    /** @type {any[]} */
    const received = [];
    let refused = 0;
    const receiver = await listen({ port, secret, onEvent: (event) => received.push(event), onRefused: () => refused++ });
    t.after(() => new Promise((resolve) => receiver.close(() => resolve(undefined))));
    await byTest(page, "webhook-secret-done").click();
    await assertAccessible(page, "the Developers page with a key and an endpoint");

    // A top-up from the wallet screen: the receiver gets it, signed, and the page shows the delivery and the event.
    await byTest(page, "nav-wallet").click();
    await byTest(page, "deposit-amount").fill("25.00");
    await byTest(page, "deposit-submit").click();
    await until("the verified delivery", () => received.some((e) => e.type === "deposit.succeeded"));
    assert.equal(refused, 0, "every delivery's signature verified");
    assert.equal(received.find((e) => e.type === "deposit.succeeded").data.object.amount, 2_500);

    await byTest(page, "nav-developers").click();
    await byTest(page, "webhook-deliveries").click();
    await until("the delivery shown as succeeded", async () =>
      /succeeded/.test((await byTest(page, "webhook-deliveries-list").textContent()) ?? ""),
    );
    await until("the event in the event log", async () =>
      /deposit\.succeeded|Deposit/.test((await byTest(page, "event-list").textContent()) ?? ""),
    );

    // Revoking the key ends it at once.
    await byTest(page, "api-key-revoke").click();
    await until("the revoked key refused", async () => (await call("/me", { token: key })).status === 401);
    await byTest(page, "api-keys-empty").waitFor();
  },
);
