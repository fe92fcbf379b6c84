// Browser end-to-end (issue 14): the history's filters are applied by the server (a filtered list is complete
// whatever is loaded), and the statement control downloads the month's statement as CSV, PDF and signed
// JSON. The built web client in Debian's Chromium (playwright-core) against a real `npm start`.
//
//   npm run build:web && node_modules/.bin/node --test test/e2e/history-statements.e2e.test.mjs
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { assertAccessible } from "./axe.mjs";
import { browser, call, server, useServerAndBrowser } from "./browser.mjs";

const PASSWORD = "e2e-password-1";

useServerAndBrowser();

/** A new user with 60 deposits and transfers to bob and charlie made through the API, more than one page. */
async function userWithHistory() {
  const handle = `e2ef_${Date.now() % 1_000_000}`;
  const reg = await call("/auth/register", { body: { handle, password: PASSWORD } });
  assert.equal(reg.status, 201, reg.text);
  const { token } = reg.json;
  const wallet = reg.json.wallet.id;
  for (let i = 0; i < 56; i++) {
    const dep = await call(`/wallets/${wallet}/deposits`, { token, key: crypto.randomUUID(), body: { amount: 100 + i } });
    assert.equal(dep.status, 201, dep.text);
  }
  for (const [to, amount] of [
    ["bob", 250],
    ["charlie", 125],
    ["bob", 75],
  ]) {
    const sent = await call("/transfers", {
      token,
      key: crypto.randomUUID(),
      body: { from_wallet_id: wallet, to: { handle: to }, amount },
    });
    assert.equal(sent.status, 201, sent.text);
  }
  return { handle, token, wallet };
}

const byTest = (page, id) => page.getByTestId(id, { exact: true });

async function kindsShown(page) {
  return page.locator('[data-testid="history-item"]').evaluateAll((items) => items.map((li) => li.getAttribute("data-kind")));
}

test("history filters come from the server; the month's statement downloads in each format", async (t) => {
  const user = await userWithHistory();
  const context = await browser.newContext({
    viewport: { width: 1280, height: 900 },
    locale: "en-US",
    timezoneId: "UTC",
    acceptDownloads: true,
  });
  context.setDefaultTimeout(10_000);
  t.after(() => context.close().catch(() => undefined));
  const page = await context.newPage();
  await page.goto(server.baseUrl);
  await byTest(page, "login-handle").fill(user.handle);
  await byTest(page, "login-password").fill(PASSWORD);
  await byTest(page, "login-submit").click();
  await byTest(page, "history-item").first().waitFor();
  assert.equal((await kindsShown(page)).length, 50, "the first page of 59 entries");

  // The filters and statements sit behind "Filter and statements", opened from the keyboard.
  await page.locator('[data-testid="history-tools"] > summary').focus();
  await page.keyboard.press("Enter");
  await assertAccessible(page, "the activity with 50 entries, its filters and statements");
  // The server answers the filter: exactly the 3 transfers out, then the 2 of them to bob.
  await page.locator("#filter-kind").selectOption("transfer_out");
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="history-item"]').length === 3);
  assert.deepEqual(await kindsShown(page), ["transfer_out", "transfer_out", "transfer_out"]);
  await page.locator("#filter-counterparty").fill("bob");
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="history-item"]').length === 2);
  assert.match(await byTest(page, "history-summary").textContent(), /2 matching entries/);
  // Deposits among the oldest entries, which no loaded page held: asked of the server, paged with "Load more".
  await page.locator("#filter-counterparty").fill("");
  await page.locator("#filter-kind").selectOption("deposit");
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="history-item"][data-kind="deposit"]').length === 50);
  await byTest(page, "history-more").click();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="history-item"]').length === 56);
  assert.deepEqual(new Set(await kindsShown(page)), new Set(["deposit"]));
  await page.getByRole("button", { name: "Clear filters" }).click();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="history-item"]').length >= 50);

  const downloads = {};
  for (const format of ["csv", "pdf", "json"]) {
    await page.locator("#statement-format").selectOption(format);
    const [download] = await Promise.all([page.waitForEvent("download"), byTest(page, "statement-download").click()]);
    const path = await download.path();
    assert.ok(path, `${format} downloaded`);
    downloads[format] = { name: download.suggestedFilename(), bytes: readFileSync(path) };
  }
  const month = new Date().toISOString().slice(0, 7);
  assert.match(downloads.csv.name, new RegExp(`^statement_${user.wallet}_${month}-01_${month}-\\d\\d\\.csv$`));
  const lines = downloads.csv.bytes.toString("utf8").trimEnd().split("\r\n");
  assert.equal(lines[0], "seq,created_at,kind,amount,currency,balance_after,counterparty,memo,transfer_id,hash");
  assert.equal(lines.length, 1 + 59);
  assert.match(lines[59] ?? "", /,transfer_out,-0\.75,USD,/);
  assert.equal(downloads.pdf.bytes.subarray(0, 5).toString(), "%PDF-");
  const signed = JSON.parse(downloads.json.bytes.toString("utf8"));
  assert.equal(signed.statement.entries.length, 59);
  assert.equal(signed.statement.closing_balance, signed.statement.entries[58].balance_after);
  assert.equal(signed.signature.alg, "Ed25519");
});
