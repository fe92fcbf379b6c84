// The auditor's "Verify now" in Chromium walks every page of the verifier and reports the result of all of
// them. With 60 wallets (two pages of 50 with the demo's) and the last wallet's D1 entry tampered with behind
// the service's back, the screen must name that wallet and seq; before issue 13 it reported the first page's
// `ok` and said every chain was intact. The same edit of the balance shows as a gap in the money chart.
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { test } from "node:test";
import { assertAccessible } from "./axe.mjs";
import { browser, call, server, useServerAndBrowser } from "./browser.mjs";

useServerAndBrowser({ env: { OUTBOX_FLUSH_DELAY_MS: "200", OUTBOX_GRACE_MS: "1000", OUTBOX_RETRY_MAX_MS: "500" } });

/**
 * The local D1 file, one of the audit partitions' (the server must be stopped to edit it), where `sql` finds a
 * row: the main database holds the wallets, a wallet's entries are in its partition (docs/architecture.md).
 * @param {string} sql
 * @param {...string} params
 */
function d1File(sql, ...params) {
  const dir = join(server.stateDir, "v3", "d1", "miniflare-D1DatabaseObject");
  for (const name of readdirSync(dir).filter((f) => f.endsWith(".sqlite") && f !== "metadata.sqlite")) {
    const db = new DatabaseSync(join(dir, name), { readOnly: true });
    try {
      if (db.prepare(sql).get(...params) !== undefined) return join(dir, name);
    } finally {
      db.close();
    }
  }
  throw new Error(`no D1 database file in ${dir} has a row for ${sql}`);
}

/**
 * The first row `sql` selects; a query that finds none is a broken fixture, said so instead of a TypeError later.
 * @param {DatabaseSync} db
 * @param {string} sql
 */
function oneRow(db, sql) {
  const row = db.prepare(sql).get();
  if (row === undefined) throw new Error(`no row for: ${sql}`);
  return row;
}

test("Verify now checks every page and names the tampered last wallet and seq", { timeout: 180_000 }, async (t) => {
  for (let i = 0; i < 60; i++) {
    const handle = `verify_${i}_${Math.random().toString(36).slice(2, 8)}`;
    const reg = await call("/auth/register", { body: { handle, password: "correct horse battery" } });
    assert.equal(reg.status, 201, reg.text);
    const dep = await call(`/wallets/${reg.json.wallet.id}/deposits`, {
      token: reg.json.token,
      key: crypto.randomUUID(),
      body: { amount: 100 + i },
    });
    assert.equal(dep.status, 201, dep.text);
  }
  // Let the outboxes deliver (200 ms batches; longer on a busy machine), then edit the wallet that comes last in
  // id order: wait until its entry is in its partition's file (read while the server runs: WAL readers do not
  // block it), rather than for a fixed time that a loaded machine overran.
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const main = new DatabaseSync(d1File("SELECT 1 FROM wallets"), { readOnly: true });
      const newest = String(oneRow(main, "SELECT id FROM wallets ORDER BY id DESC LIMIT 1").id);
      main.close();
      d1File("SELECT 1 FROM ledger_entries WHERE wallet_id = ?", newest);
      break;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  await server.stop();
  const main = new DatabaseSync(d1File("SELECT 1 FROM wallets"));
  // The last wallet in id order: every one made here has a deposit (the outbox has had its time).
  const last = String(oneRow(main, "SELECT id FROM wallets ORDER BY id DESC LIMIT 1").id);
  const total = Number(oneRow(main, "SELECT COUNT(*) AS n FROM wallets").n);
  main.close();
  assert.ok(total > 50, `expected more than one page of wallets, found ${total}`);
  const db = new DatabaseSync(d1File("SELECT 1 FROM ledger_entries WHERE wallet_id = ?", last));
  db.exec("DROP TRIGGER IF EXISTS ledger_entries_no_update");
  db.prepare("UPDATE ledger_entries SET amount = amount + 1 WHERE wallet_id = ? AND seq = 1").run(last);
  // Its balance too: one cent that no deposit brought opens a gap between the two lines of the money chart.
  db.prepare("UPDATE ledger_entries SET balance_after = balance_after + 1 WHERE wallet_id = ? AND seq = 1").run(last);
  db.close();
  await server.start();

  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "en-US", timezoneId: "UTC" });
  context.setDefaultTimeout(30_000);
  t.after(() => context.close().catch(() => undefined));
  const page = await context.newPage();
  await page.goto(server.baseUrl);
  await page.getByTestId("login-handle").fill("auditor");
  await page.getByTestId("login-password").fill("demo-password");
  await page.getByTestId("login-submit").click();
  await page.getByTestId("nav-audit").click();
  // From the keyboard: the button is reached by focus and pressed with Enter.
  await page.getByTestId("audit-verify").focus();
  await page.keyboard.press("Enter");
  await page.waitForFunction(() =>
    /Problems found|All chains are intact/.test(document.querySelector('[data-testid="audit-verify-result"]')?.textContent ?? ""),
  );
  const result = (await page.getByTestId("audit-verify-result").textContent()) ?? "";
  assert.match(result, /Problems found/);
  assert.match(result, new RegExp(`Checked [\\d,]+ entries in ${total} wallets`));
  assert.match(result, new RegExp(`hash_mismatch in wallet ${last} at seq 1`));
  // The coverage picture names the wallets the check covered, and the screen passes axe in both themes.
  const covered = (await page.getByTestId("coverage-wallets").getAttribute("aria-label")) ?? "";
  assert.match(covered, new RegExp(`of ${total}$`));
  // And how much of the ledger the transparency log covers, as the first page's log check counted it.
  assert.match(
    (await page.getByTestId("coverage-log").getAttribute("aria-label")) ?? "",
    /^\d+ leaves compared with D1 now, \d+ in signed checkpoints, \d+ entries not yet in a checkpoint$/,
  );
  // The money chart draws both lines and states the gap as a finding, in words beside the picture.
  await page.locator('[data-testid="money-chart"][data-ready="true"] canvas').waitFor();
  await page.getByTestId("totals-gaps").waitFor();
  assert.match((await page.getByTestId("totals-verdict").textContent()) ?? "", /Finding: the sum of balances differs[\s\S]*off by \$0\.01/);
  assert.match((await page.getByTestId("money-chart").getAttribute("aria-label")) ?? "", /they differ at \d+ points/);
  await assertAccessible(page, "the audit screen after Verify now");
});
