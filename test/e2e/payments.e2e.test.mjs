// Browser end-to-end tests of the payment features of contract v1.1 (issue 14): payment requests, splits,
// refunds and wallets in several currencies, in Debian's Chromium against a real `npm start`. Two-sided flows
// use one browser context per user (each its own session cookie), and every test asserts what each person sees
// on screen, then checks the money with the API.
//
//   npm run build:web && node --test test/e2e/payments.e2e.test.mjs
import assert from "node:assert/strict";
import { test } from "node:test";
import { assertAccessible } from "./axe.mjs";
import { browser, call, server, useServerAndBrowser, waitText as waitTextFor } from "./browser.mjs";

const PASSWORD = "e2e-password-1";

useServerAndBrowser();

// ---------------------------------------------------------------------------------------------------------
// Helpers

/** What the pages of the running test did on the network, printed when the test fails. */
/** @type {string[]} */
let trail = [];
let trailStart = 0;

/** A test that prints its pages' API calls, frames and errors when it fails. */
function e2e(name, fn) {
  test(name, { timeout: 90_000 }, async (t) => {
    trail = [];
    trailStart = Date.now();
    try {
      await fn(t);
    } catch (error) {
      console.log(`[e2e] FAILED: ${name}\n--- browser trail (ms since test start) ---\n${trail.join("\n")}`);
      throw error;
    }
  });
}

/** Records one page's API calls and socket frames into the trail under `tag`. */
function watch(page, tag) {
  const at = () => Date.now() - trailStart;
  page.on("pageerror", (error) => trail.push(`${at()} ${tag} pageerror ${error.message}`));
  page.on("response", (response) => {
    const url = new URL(response.url());
    if (url.pathname.startsWith("/api/"))
      trail.push(`${at()} ${tag} ${response.request().method()} ${url.pathname} -> ${response.status()}`);
  });
  page.on("websocket", (ws) =>
    ws.on("framereceived", (frame) => trail.push(`${at()} ${tag} ws <- ${String(frame.payload).slice(0, 100)}`)),
  );
}

/** A fresh browser context (one per user) with its page on the app; closed when the test ends. */
async function openApp(t, tag) {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 1000 },
    locale: "en-US",
    timezoneId: "UTC",
    reducedMotion: "reduce",
  });
  context.setDefaultTimeout(10_000);
  t.after(() => context.close().catch(() => undefined));
  const page = await context.newPage();
  watch(page, tag);
  await page.goto(server.baseUrl);
  return page;
}

/** A second tab of the same user (same context, so the same session cookie). */
async function openTab(page, tag) {
  const tab = await page.context().newPage();
  watch(tab, tag);
  await tab.goto(server.baseUrl);
  await tab.getByTestId("balance").waitFor();
  await waitLive(tab);
  return tab;
}

const byTest = (scope, id) => scope.getByTestId(id, { exact: true });
const usd = (minor) => new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" }).format(minor / 100);
const eur = (minor) => new Intl.NumberFormat("en-US", { style: "currency", currency: "EUR" }).format(minor / 100);

let serial = 0;
/** A handle no other test uses. */
const handleFor = (name) => `${name}_${process.pid}_${++serial}`;

async function waitLive(page) {
  await page.locator('[data-testid="live-status"][data-state="live"]').waitFor();
}

/** Waits for an element's exact text for up to 10 s, checking every 50 ms. */
const waitText = (page, selector, expected) => waitTextFor(page, selector, expected, { timeout_ms: 10_000, polling: 50 });
const waitBalance = (page, expected) => waitText(page, '[data-testid="balance"]', expected);

async function register(page, handle) {
  await byTest(page, "register-handle").fill(handle);
  await byTest(page, "register-password").fill(PASSWORD);
  await byTest(page, "register-submit").click();
  await waitBalance(page, "$0.00");
  await waitLive(page);
}

/** Tops up through the deposit form and waits for the form to settle (it moves focus back to its input). */
async function deposit(page, major, expectedBalance) {
  await byTest(page, "deposit-amount").fill(major);
  await byTest(page, "deposit-submit").click();
  await waitBalance(page, expectedBalance);
  await byTest(page, "deposit-form").getByRole("status").waitFor();
  await page.waitForFunction(() => document.activeElement?.id === "deposit-amount");
}

/** Marks the page, so a later check can prove that what it shows arrived without a reload. */
const markNotReloaded = (page) => page.evaluate(() => Object.assign(window, { __notReloaded: true }));
const stillSamePage = (page) => page.evaluate(() => /** @type {any} */ (window).__notReloaded === true);

/** A bearer token and the wallets of `handle`, through the API as any client would. */
async function apiMe(handle) {
  const login = await call("/auth/login", { body: { handle, password: PASSWORD } });
  assert.equal(login.status, 200, login.text);
  const me = await call("/me", { token: login.json.token });
  assert.equal(me.status, 200, me.text);
  return { token: login.json.token, wallets: me.json.wallets };
}

async function apiHistory(token, walletId) {
  const res = await call(`/wallets/${walletId}/history?limit=200`, { token });
  assert.equal(res.status, 200, res.text);
  return res.json.items;
}

/** The incoming (or outgoing) request rows on a page, as {id, status, text}. */
function rows(page, role) {
  return page.$$eval(`[data-testid="${role}-request"]`, (items) =>
    items.map((li) => ({ id: li.dataset.id, status: li.dataset.status, text: li.textContent.replace(/\s+/g, " ").trim() })),
  );
}

const requestRow = (page, role, status) => page.locator(`[data-testid="${role}-request"][data-status="${status}"]`);

async function askFor(page, payer, major) {
  const form = byTest(page, "request-form");
  await byTest(form, "request-payer").fill(payer);
  await byTest(form, "request-amount").fill(major);
  await byTest(form, "request-submit").click();
  await form
    .getByRole("status")
    .filter({ hasText: `Asked @${payer} for $${major}.` })
    .waitFor();
}

// ---------------------------------------------------------------------------------------------------------
// Tests

e2e("a request appears live in the payer's inbox, and paying it from two tabs at once pays it once", async (t) => {
  const a = await openApp(t, "A");
  const b1 = await openApp(t, "B1");
  const handleA = handleFor("req_a");
  const handleB = handleFor("req_b");
  await register(a, handleA);
  await register(b1, handleB);
  await deposit(b1, "20.00", "$20.00");
  const b2 = await openTab(b1, "B2");
  for (const page of [b1, b2]) {
    await byTest(page, "incoming-requests").getByText("Nobody has asked you for money.").waitFor();
    await markNotReloaded(page);
  }

  await askFor(a, handleB, "12.50");
  await requestRow(a, "outgoing", "open").waitFor();

  // Both of B's tabs show it by the live feed alone: no reload, no poll needed.
  for (const page of [b1, b2]) {
    await requestRow(page, "incoming", "open").waitFor();
    assert.equal(await stillSamePage(page), true, "the request arrived without a reload");
    const [row] = await rows(page, "incoming");
    assert.match(row.text, new RegExp(`@${handleA} asks you for \\$12\\.50`));
  }
  await assertAccessible(b1, "the requests inbox with an open request");

  // Both tabs press Pay before either hears back. Two tabs of one window: the hidden one gets no animation
  // frames, which Playwright's click waits for, so the press is the button's own click() in each tab at once.
  for (const page of [b1, b2]) assert.equal(await byTest(page, "request-pay").isEnabled(), true);
  await Promise.all([b1, b2].map((page) => byTest(page, "request-pay").evaluate((button) => button.click())));
  const messages = [];
  for (const page of [b1, b2]) {
    // A hidden tab's timers are throttled, which only slows the test's own polling; the person looks at each.
    await page.bringToFront();
    await requestRow(page, "incoming", "paid").waitFor();
    messages.push(await byTest(page, "request-message").textContent());
  }
  messages.sort();
  assert.deepEqual(messages, ["Paid $12.50.", "This request is no longer open. It was not paid again."]);

  await b1.bringToFront();
  await waitBalance(b1, "$7.50");
  await b2.bringToFront();
  await waitBalance(b2, "$7.50");
  await waitBalance(a, "$12.50");
  await requestRow(a, "outgoing", "paid").waitFor();

  // The money moved once: one transfer out of B, one in to A.
  const apiB = await apiMe(handleB);
  const outs = (await apiHistory(apiB.token, apiB.wallets[0].id)).filter((e) => e.kind === "transfer_out");
  assert.equal(outs.length, 1, "exactly one transfer left B's wallet");
  assert.equal(outs[0].amount, -1250);
  const list = await call("/payment-requests?role=incoming", { token: apiB.token });
  assert.equal(list.json.items[0].status, "paid");
  assert.equal(list.json.items[0].transfer_id, outs[0].transfer_id, "the request names the one transfer");
});

e2e(
  "the requester cancels an outgoing request; the payer's open inbox shows it cancelled live, and it can no longer be paid",
  async (t) => {
    const a = await openApp(t, "A");
    const b = await openApp(t, "B");
    const handleA = handleFor("cancel_a");
    const handleB = handleFor("cancel_b");
    await register(a, handleA);
    await register(b, handleB);
    await deposit(b, "10.00", "$10.00");
    await markNotReloaded(b);
    await askFor(a, handleB, "4.00");
    await requestRow(b, "incoming", "open").waitFor();

    await byTest(requestRow(a, "outgoing", "open"), "request-cancel").click();
    await requestRow(a, "outgoing", "cancelled").waitFor();
    // B's screen follows by the live feed alone, and offers no Pay for a cancelled request.
    await requestRow(b, "incoming", "cancelled").waitFor();
    assert.equal(await stillSamePage(b), true, "the cancellation arrived without a reload");
    assert.equal(await byTest(requestRow(b, "incoming", "cancelled"), "request-pay").count(), 0);

    // Through the API too: paying it now is refused and moves nothing.
    const apiB = await apiMe(handleB);
    const [request] = (await call("/payment-requests?role=incoming", { token: apiB.token })).json.items;
    assert.equal(request.status, "cancelled");
    const late = await call(`/payment-requests/${request.id}/pay`, {
      token: apiB.token,
      key: `late-${request.id}`,
      body: { from_wallet_id: apiB.wallets[0].id },
    });
    assert.equal(late.status, 409, late.text);
    assert.equal(late.json.error.code, "request_not_open");
    await waitBalance(b, "$10.00");
  },
);

e2e("a split of 30.00 among three, paid by two and declined by one, shows the same on every screen", async (t) => {
  const names = { a: handleFor("split_a"), b: handleFor("split_b"), c: handleFor("split_c"), d: handleFor("split_d") };
  const pages = {};
  for (const [key, handle] of Object.entries(names)) {
    pages[key] = await openApp(t, key.toUpperCase());
    await register(pages[key], handle);
  }
  await deposit(pages.b, "10.00", "$10.00");
  await deposit(pages.c, "10.00", "$10.00");

  const form = byTest(pages.a, "split-form");
  await byTest(form, "split-add").click();
  // Adding a row puts focus in its first field, for keyboard users.
  await pages.a.waitForFunction(() => document.activeElement?.getAttribute("data-testid") === "split-payer");
  const payers = form.getByTestId("split-payer");
  const amounts = form.getByTestId("split-amount");
  const shares = [
    [names.b, "10.00"],
    [names.c, "10.00"],
    [names.d, "10.00"],
  ];
  for (const [i, [handle, major]] of shares.entries()) {
    await payers.nth(i).fill(handle);
    await amounts.nth(i).fill(major);
  }
  await waitText(pages.a, '[data-testid="split-total"]', "Total: $30.00");
  await byTest(form, "split-submit").click();
  await form.getByRole("status").filter({ hasText: "Asked 3 people for $30.00 in all." }).waitFor();
  await assertAccessible(pages.a, "the split form with its result");
  assert.equal(await form.locator('[data-testid="split-request"][data-status="open"]').count(), 3);

  for (const key of ["b", "c", "d"]) await requestRow(pages[key], "incoming", "open").waitFor();
  await byTest(pages.b, "request-pay").click();
  await byTest(pages.c, "request-pay").click();
  await byTest(pages.d, "request-decline").click();
  await requestRow(pages.b, "incoming", "paid").waitFor();
  await requestRow(pages.c, "incoming", "paid").waitFor();
  await requestRow(pages.d, "incoming", "declined").waitFor();
  await waitText(pages.d, '[data-testid="request-message"]', "Declined.");

  // The requester's screen follows live: the split's own list and the outgoing list agree with the payers'.
  await pages.a.waitForFunction(() => {
    const statuses = [...document.querySelectorAll('[data-testid="split-request"]')].map((li) => li.getAttribute("data-status"));
    return statuses.sort().join() === "declined,paid,paid";
  });
  const outgoing = await rows(pages.a, "outgoing");
  const byPayer = Object.fromEntries(
    Object.entries(names)
      .filter(([key]) => key !== "a")
      .map(([key, handle]) => [key, outgoing.find((r) => r.text.includes(`@${handle} `))?.status]),
  );
  assert.deepEqual(byPayer, { b: "paid", c: "paid", d: "declined" });
  await waitBalance(pages.a, "$20.00");
  await waitBalance(pages.b, "$0.00");
  await waitBalance(pages.c, "$0.00");
  await waitBalance(pages.d, "$0.00");
});

e2e("a received payment is refunded from its entry, within what is left and what the wallet holds", async (t) => {
  const a = await openApp(t, "A");
  const b = await openApp(t, "B");
  const handleA = handleFor("refund_a");
  const handleB = handleFor("refund_b");
  await register(a, handleA);
  await register(b, handleB);
  await deposit(b, "20.00", "$20.00");
  await byTest(b, "send-recipient").fill(handleA);
  await byTest(b, "send-amount").fill("15.00");
  await byTest(b, "send-submit").click();
  await waitBalance(a, "$15.00");

  await a.locator('[data-testid="history-item"][data-kind="transfer_in"] button').first().click();
  const dialog = a.locator("dialog[open]");
  const refund = byTest(dialog, "refund-form");
  await refund.waitFor();
  await assertAccessible(a, "the entry dialog with its refund form");
  assert.equal(await byTest(refund, "refund-amount").inputValue(), "15.00", "the amount starts at what is left to refund");

  // More than the payment: refused with its own words, beside the amount, and focus is taken there.
  await byTest(refund, "refund-amount").fill("20.00");
  await byTest(refund, "refund-submit").click();
  await waitText(a, "#refund-amount-error", "That is more than is left to refund of this payment.");
  await a.waitForFunction(() => document.activeElement?.id === "refund-amount");

  await byTest(refund, "refund-amount").fill("5.00");
  await byTest(refund, "refund-submit").click();
  await waitText(a, '[data-testid="refund-done"]', "Refunded $5.00.");
  await waitText(a, '[data-testid="refunded-amount"]', "$5.00");
  assert.equal(await byTest(refund, "refund-amount").inputValue(), "10.00", "the rest refundable is now 10.00");
  await waitBalance(a, "$10.00");
  await waitBalance(b, "$10.00");
  await dialog.getByRole("button", { name: "Close" }).click();

  // What the wallet does not hold cannot be refunded: insufficient_funds, said plainly.
  await byTest(a, "withdraw-amount").fill("6.00");
  await byTest(a, "withdraw-submit").click();
  await waitBalance(a, "$4.00");
  await a.locator('[data-testid="history-item"][data-kind="transfer_in"] button').first().click();
  await byTest(dialog, "refund-amount").fill("10.00");
  await byTest(dialog, "refund-submit").click();
  await waitText(a, "#refund-amount-error", "There is not enough available money for this amount.");
  await waitBalance(b, "$10.00");

  const apiB = await apiMe(handleB);
  const ins = (await apiHistory(apiB.token, apiB.wallets[0].id)).filter((e) => e.kind === "transfer_in");
  assert.equal(ins.length, 1, "one refund reached B");
  assert.equal(ins[0].amount, 500);
  assert.ok(ins[0].refund_of, "and it is marked as a refund");
});

e2e("a user with USD and EUR wallets, opened in the UI, is paid by handle in both currencies into the right wallets", async (t) => {
  const c = await openApp(t, "C");
  const p = await openApp(t, "P");
  const handleC = handleFor("multi_c");
  const handleP = handleFor("multi_p");
  await register(c, handleC);
  await register(p, handleP);
  // A second tab that still believes C has only USD, so it still offers EUR.
  const c2 = await openTab(c, "C2");

  /** Opens a EUR wallet through the form; the screen switches to it. */
  async function openEur(page) {
    await byTest(page, "new-wallet-toggle").click();
    await byTest(page, "new-wallet-currency").selectOption("EUR");
    await byTest(page, "new-wallet-submit").click();
    await byTest(page, "new-wallet-form").getByRole("status").waitFor();
    await waitBalance(page, eur(0));
    await waitLive(page);
  }
  await openEur(c);
  assert.equal(await byTest(c, "wallet-picker").locator("option").count(), 2, "a wallet switcher once there are two");

  // The stale tab tries to open EUR again: 409 wallet_exists, in words beside the currency.
  await byTest(c2, "new-wallet-toggle").evaluate((summary) => summary.click());
  await byTest(c2, "new-wallet-currency").selectOption("EUR");
  await byTest(c2, "new-wallet-submit").evaluate((button) => button.click());
  await waitText(c2, "#new-wallet-error", "You already have a wallet in that currency.");
  await c2.close();

  await deposit(p, "10.00", usd(1000));
  await byTest(p, "send-recipient").fill(handleC);
  await byTest(p, "send-amount").fill("4.00");
  await byTest(p, "send-submit").click();
  await waitBalance(p, usd(600));

  await openEur(p);
  await byTest(p, "deposit-amount").fill("10.00");
  await byTest(p, "deposit-submit").click();
  await waitBalance(p, eur(1000));
  await byTest(p, "deposit-form").getByRole("status").waitFor();
  await p.waitForFunction(() => document.activeElement?.id === "deposit-amount");
  await byTest(p, "send-recipient").fill(handleC);
  await byTest(p, "send-amount").fill("3.00");
  await byTest(p, "send-submit").click();
  await waitBalance(p, eur(700));

  // C shows the EUR wallet, live; switching shows the USD wallet with the dollars.
  await waitBalance(c, eur(300));
  const wallets = (await apiMe(handleC)).wallets;
  const usdWallet = wallets.find((w) => w.currency === "USD");
  await byTest(c, "wallet-picker").selectOption(usdWallet.id);
  await waitBalance(c, usd(400));
  await waitLive(c);
  await c.locator('[data-testid="history-item"][data-kind="transfer_in"]').first().waitFor();
  await assertAccessible(c, "the dashboard with two wallets");

  assert.deepEqual(
    Object.fromEntries(wallets.map((w) => [w.currency, w.balance])),
    { USD: 400, EUR: 300 },
    "each payment went to the wallet in its own currency",
  );
});

e2e("the request form is usable from the keyboard: errors are tied to their fields and take focus; contacts are suggested", async (t) => {
  const a = await openApp(t, "A");
  const b = await openApp(t, "B");
  const handleA = handleFor("kbd_a");
  const handleB = handleFor("kbd_b");
  await register(a, handleA);
  await register(b, handleB);

  // Every new control on the dashboard has a label.
  const unlabelled = await a.$$eval("main input, main select", (controls) =>
    /** @type {(HTMLInputElement | HTMLSelectElement)[]} */ (controls)
      .filter((c) => c.labels === null || c.labels.length === 0)
      .map((c) => c.id || c.outerHTML.slice(0, 60)),
  );
  assert.deepEqual(unlabelled, []);

  // An empty submit by Enter: each error is tied to its field, and focus lands on the first.
  await byTest(a, "request-payer").focus();
  await a.keyboard.press("Enter");
  await a.waitForFunction(() => document.activeElement?.id === "request-payer");
  assert.equal(await byTest(a, "request-payer").getAttribute("aria-invalid"), "true");
  assert.match((await byTest(a, "request-payer").getAttribute("aria-describedby")) ?? "", /request-payer-error/);
  assert.match((await byTest(a, "request-amount").getAttribute("aria-describedby")) ?? "", /request-amount-error/);

  // Someone who is not registered: the server's 404 is said beside the payer, which takes focus again.
  await a.keyboard.type("nobody_here_at_all");
  await a.keyboard.press("Tab");
  await a.keyboard.type("3.00");
  await a.keyboard.press("Enter");
  await waitText(a, "#request-payer-error", "Nobody with that handle or phone number is registered. Please check it.");
  await a.waitForFunction(() => document.activeElement?.id === "request-payer");

  // A request by keyboard alone, then B pays it with the keyboard too.
  await byTest(a, "request-payer").fill(handleB);
  await byTest(a, "request-amount").focus();
  await a.keyboard.press("Enter");
  await byTest(a, "request-form")
    .getByRole("status")
    .filter({ hasText: `Asked @${handleB} for $3.00.` })
    .waitFor();
  await deposit(b, "5.00", "$5.00");
  await requestRow(b, "incoming", "open").waitFor();
  await byTest(b, "request-pay").focus();
  await b.keyboard.press("Enter");
  await requestRow(b, "incoming", "paid").waitFor();
  // The Pay button is gone; focus moved to the row's message rather than falling to the page.
  await b.waitForFunction(() => document.activeElement?.getAttribute("data-testid") === "request-message");
  await waitBalance(a, "$3.00");

  // Having dealt with each other, each is suggested in the other's send and request forms.
  await byTest(a, "request-amount").fill("1.00");
  await byTest(a, "request-payer").fill(handleB);
  await byTest(a, "request-submit").click();
  await a.locator(`#contact-suggestions option[value="${handleB}"]`).waitFor({ state: "attached" });
  assert.equal(await byTest(a, "send-recipient").getAttribute("list"), "contact-suggestions");
  assert.equal(await byTest(a, "request-payer").getAttribute("list"), "contact-suggestions");
});
