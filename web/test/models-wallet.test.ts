/**
 * The wallet model (WalletModel): server-side history filters, statements and counterparty names.
 *
 * The web models' life cycle (issue 13): each is built with createModel, its effects, listeners and timers are
 * created inside the factory, and disposing the model (what `useModel` does when a view unmounts) stops them.
 * Every test first shows the timer or effect working, then disposes the model and shows it no longer runs. The
 * browser and time are stand-ins (models-harness.ts).
 */
import assert from "node:assert/strict";
import { describe, mock, test } from "node:test";
import { requests, server, settle, walletOf } from "./models-harness.ts";
import type { Entry } from "../src/types.ts";

// Imported only now, after the harness has installed the stand-ins.
const { NO_FILTERS, WalletModel, historyQuery, statementQuery, withNames } = await import("../src/models/wallet.ts");

/** A history entry with this seq. */
function fullEntry(seq: number, kind: Entry["kind"] = "deposit"): Entry {
  return {
    id: `ent_${seq}`,
    seq,
    kind,
    amount: 1,
    balance_after: seq,
    transfer_id: `dep_${seq}`,
    counterparty: null,
    memo: null,
    created_at: "2026-11-21T10:00:00.000Z",
    prev_hash: "0".repeat(64),
    hash: "1".repeat(64),
    refund_of: null,
  };
}

void describe("WalletModel history filters (server-side) and statements", () => {
  void test("historyQuery sends local days as instants (to: the start of the next day) and only a valid handle", () => {
    assert.equal(historyQuery(NO_FILTERS), "");
    const q = new URLSearchParams(historyQuery({ kind: "transfer_in", from: "2026-11-01", to: "2026-11-21", counterparty: "@Bob" }) ?? "");
    assert.equal(q.get("kind"), "transfer_in");
    assert.equal(q.get("from"), new Date(2026, 10, 1).toISOString());
    assert.equal(q.get("to"), new Date(2026, 10, 22).toISOString());
    assert.equal(q.get("counterparty"), "bob");
    assert.equal(historyQuery({ ...NO_FILTERS, counterparty: "b!" }), null);
  });

  void test("statementQuery covers the calendar month in UTC days, both ends included", () => {
    assert.equal(statementQuery("2026-02", "pdf"), "from=2026-02-01&to=2026-02-28&format=pdf");
    assert.equal(statementQuery("2024-02", "csv"), "from=2024-02-01&to=2024-02-29&format=csv");
    assert.equal(statementQuery("2026-12", "json"), "from=2026-12-01&to=2026-12-31&format=json");
  });

  void test("a filter is asked of the server once it is still, pages with its own cursor, and is dropped with its timer", async () => {
    const wallet = new WalletModel();
    wallet.resetWallet(walletOf("wal_f", "usr_a"));
    server.answer = (_method, path) => {
      if (path.includes("cursor=c1")) return { status: 200, body: { items: [fullEntry(1)], next_cursor: null } };
      if (path.includes("kind=deposit")) return { status: 200, body: { items: [fullEntry(5), fullEntry(3)], next_cursor: "c1" } };
      return { status: 200, body: { items: [], next_cursor: null } };
    };
    wallet.setFilters({ ...NO_FILTERS, kind: "withdrawal" });
    wallet.setFilters({ ...NO_FILTERS, kind: "deposit" });
    await settle();
    assert.deepEqual(requests, [], "nothing is asked while the filters are still changing");
    mock.timers.tick(250);
    await settle();
    assert.deepEqual(requests, ["GET /wallets/wal_f/history?kind=deposit&limit=50"], "one request, for the filters as they ended");
    assert.deepEqual(
      wallet.visibleEntries.value.map((e) => e.seq),
      [5, 3],
    );
    await wallet.loadMore();
    assert.equal(requests.at(-1), "GET /wallets/wal_f/history?kind=deposit&limit=50&cursor=c1");
    assert.deepEqual(
      wallet.visibleEntries.value.map((e) => e.seq),
      [5, 3, 1],
    );
    // A live entry may or may not match: the server is asked again.
    requests.length = 0;
    wallet.applyEntry(fullEntry(6));
    mock.timers.tick(250);
    await settle();
    assert.deepEqual(requests, ["GET /wallets/wal_f/history?kind=deposit&limit=50"]);
    // An invalid handle asks nothing and says so.
    requests.length = 0;
    wallet.setFilters({ ...NO_FILTERS, counterparty: "x" });
    mock.timers.tick(250);
    await settle();
    assert.deepEqual(requests, []);
    assert.equal(wallet.filteredStatus.value, "invalid");
    wallet.setFilters(NO_FILTERS);
    assert.deepEqual(
      wallet.visibleEntries.value.map((e) => e.seq),
      [6],
      "without filters, the loaded history",
    );
    wallet.setFilters({ ...NO_FILTERS, kind: "deposit" });
    wallet[Symbol.dispose]();
    requests.length = 0;
    mock.timers.tick(1_000);
    await settle();
    assert.deepEqual(requests, [], "the pending filter timer died with the model");
  });
});

void describe("WalletModel counterparty names (issue 18)", () => {
  void test("withNames learns each page's counterparty_display_name by wallet id and keeps the map when nothing is new", () => {
    const known = new Map([["wal_old", "Old Friend"]]);
    const page = [
      { counterparty: "wal_zoe", counterparty_display_name: "Zoë" },
      { counterparty: null, counterparty_display_name: null },
      { counterparty: "wal_blank", counterparty_display_name: "  " },
    ];
    const learnt = withNames(known, page);
    assert.deepEqual(
      [...learnt],
      [
        ["wal_old", "Old Friend"],
        ["wal_zoe", "Zoë"],
      ],
    );
    assert.equal(withNames(learnt, page), learnt, "a page that teaches nothing returns the same map");
  });

  void test("a history page names a payer the user never dealt with; a live entry keeps that name", async () => {
    const wallet = new WalletModel();
    wallet.resetWallet(walletOf("wal_n", "usr_n"));
    const payment = { ...fullEntry(2, "transfer_in"), counterparty: "wal_zoe", counterparty_display_name: "Zoë Payer" };
    server.answer = (_method, path) =>
      path.startsWith("/wallets/wal_n/history")
        ? { status: 200, body: { items: [payment], next_cursor: null } }
        : { status: 200, body: walletOf("wal_n", "usr_n") };
    await wallet.refresh();
    assert.equal(wallet.counterpartyNames.value.get("wal_zoe"), "Zoë Payer");
    wallet.applyEntry({ ...fullEntry(3, "transfer_in"), counterparty: "wal_zoe" });
    assert.equal(wallet.counterpartyNames.value.get("wal_zoe"), "Zoë Payer");
    // A live payment from a stranger makes the model fetch the first page once, which names them.
    requests.length = 0;
    const stranger = { ...fullEntry(4, "transfer_in"), counterparty: "wal_new", counterparty_display_name: "New Person" };
    server.answer = (_method, path) =>
      path.startsWith("/wallets/wal_n/history")
        ? { status: 200, body: { items: [stranger, payment], next_cursor: null } }
        : { status: 200, body: walletOf("wal_n", "usr_n") };
    wallet.applyEntry({ ...fullEntry(4, "transfer_in"), counterparty: "wal_new" });
    wallet.applyEntry({ ...fullEntry(4, "transfer_in"), counterparty: "wal_new" });
    await settle();
    assert.equal(wallet.counterpartyNames.value.get("wal_new"), "New Person");
    assert.equal(requests.filter((r) => r.includes("/history")).length, 1, "asked once");
  });
});
