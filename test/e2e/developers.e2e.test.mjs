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

/**
 * Presses Tab until the focused element has test id `id` (or Shift+Tab with `back`), and fails with the path
 * taken when it is not reached in `max` presses: the control must be reachable, in order, by the keyboard.
 */
async function tabTo(page, id, { max = 80, back = false } = {}) {
  const path = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press(back ? "Shift+Tab" : "Tab");
    const at = await page.evaluate(() => document.activeElement?.getAttribute("data-testid") ?? document.activeElement?.id ?? "");
    path.push(at);
    if (at === id) return;
  }
  assert.fail(`${id} not reached by ${back ? "Shift+Tab" : "Tab"}: ${path.join(" -> ")}`);
}

test(
  "the Developers page from the keyboard alone: create a key, revoke it, add an endpoint, see its deliveries",
  { timeout: 120_000 },
  async (t) => {
    const handle = `devkb_${process.pid}`;
    const reg = await call("/auth/register", { body: { handle, password: PASSWORD } });
    assert.equal(reg.status, 201, reg.text);
    const context = await browser.newContext({ viewport: { width: 1280, height: 1000 }, locale: "en-US", timezoneId: "UTC" });
    context.setDefaultTimeout(10_000);
    t.after(() => context.close().catch(() => undefined));
    const page = await context.newPage();
    await page.goto(server.baseUrl);
    await byTest(page, "login-form").waitFor();
    await tabTo(page, "login-handle");
    await page.keyboard.type(handle);
    await page.keyboard.press("Tab");
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press("Enter");
    await byTest(page, "balance").waitFor();
    await tabTo(page, "nav-developers");
    await page.keyboard.press("Enter");
    await byTest(page, "developers").waitFor();

    // A key: its name typed, a scope ticked with Space, created with Enter; the key shown once, dismissed.
    await tabTo(page, "api-key-name");
    await page.keyboard.type("keyboard key");
    await tabTo(page, "api-key-scope-payments:write");
    await page.keyboard.press("Space");
    assert.equal(await byTest(page, "api-key-scope-payments:write").isChecked(), true);
    await tabTo(page, "api-key-create");
    await page.keyboard.press("Enter");
    const key = await byTest(page, "api-key-value").inputValue();
    assert.match(key, /^ewk_/);
    await tabTo(page, "api-key-done");
    await page.keyboard.press("Enter");
    await byTest(page, "api-key-item").waitFor();

    // Revoked with Enter on its button: the key fails with 401 at once.
    await tabTo(page, "api-key-revoke", { back: true });
    await page.keyboard.press("Enter");
    await byTest(page, "api-keys-empty").waitFor();
    assert.equal((await call("/me", { token: key })).status, 401);

    // An endpoint: URL typed, a type ticked with Space, added with Enter; its secret shown once, dismissed.
    const port = await freePort();
    await tabTo(page, "webhook-url");
    await page.keyboard.type(`http://127.0.0.1:${port}/hook`);
    await tabTo(page, "webhook-type-deposit.succeeded");
    await page.keyboard.press("Space");
    await tabTo(page, "webhook-create");
    await page.keyboard.press("Enter");
    assert.match(await byTest(page, "webhook-secret").inputValue(), /^whsec_/);
    await tabTo(page, "webhook-secret-done");
    await page.keyboard.press("Enter");
    await byTest(page, "webhook-item").waitFor();

    // A top-up makes a delivery (to a port nobody listens on: it fails and is retried); Enter opens the list.
    const dep = await call(`/wallets/${reg.json.wallet.id}/deposits`, {
      token: reg.json.token,
      key: crypto.randomUUID(),
      body: { amount: 500 },
    });
    assert.equal(dep.status, 201, dep.text);
    const token = reg.json.token;
    const endpoints = await call("/webhook-endpoints", { token });
    const endpointId = endpoints.json.items[0].id;
    await until(
      "a delivery made",
      async () => (await call(`/webhook-endpoints/${endpointId}/deliveries`, { token })).json.items.length > 0,
    );
    await tabTo(page, "webhook-deliveries", { back: true });
    await page.keyboard.press("Enter");
    await byTest(page, "webhook-deliveries-list").waitFor();
    await until("the delivery listed", async () => (await byTest(page, "webhook-delivery").count()) > 0);
    await assertAccessible(page, "the Developers page with an endpoint's deliveries open");
  },
);
