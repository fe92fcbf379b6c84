/**
 * The dashboard's and the auditor's pictures are drawn from loaded history (issue 18): these tests pin the
 * numbers behind them (the balance series, the month's money in and out, day groups, initials, money in the
 * system), importing the real module: `node --test web/test/` (see index.js).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { balanceSeries, groupByDay, initialsOf, monthFlows, moneyInSystem } from "../src/insights.ts";
import type { Entry } from "../src/types.ts";

function entry(seq: number, amount: number, balance_after: number, created_at: string): Entry {
  const kind = amount > 0 ? "deposit" : "withdrawal";
  return {
    id: `e${seq}`,
    seq,
    kind,
    amount,
    balance_after,
    transfer_id: `t${seq}`,
    counterparty: null,
    memo: null,
    created_at,
    prev_hash: "",
    hash: "",
    refund_of: null,
  };
}

const NOW = new Date(2026, 10, 20, 12, 0, 0).getTime();
const local = (month: number, day: number): string => new Date(2026, month, day, 9, 0, 0).toISOString();

void describe("balanceSeries", () => {
  void test("is oldest first by seq, without duplicates, and ends at the current balance now", () => {
    const newestFirst = [entry(3, -200, 800, local(10, 19)), entry(2, 500, 1000, local(10, 18)), entry(1, 500, 500, local(10, 1))];
    const series = balanceSeries([...newestFirst, ...newestFirst.slice(0, 1)], 800, NOW);
    assert.deepEqual(series.y, [500, 1000, 800, 800]);
    assert.equal(series.x.at(-1), Math.floor(NOW / 1000));
    assert.ok(
      series.x.every((x, i) => i === 0 || x >= (series.x[i - 1] ?? 0)),
      "x never goes backwards",
    );
  });
  void test("is empty without entries, so the view shows its empty state", () => {
    assert.deepEqual(balanceSeries([], 0, NOW), { x: [], y: [] });
  });
});

void describe("monthFlows", () => {
  const entries = [
    entry(4, -250, 1750, local(10, 19)),
    entry(3, 1000, 2000, local(10, 2)),
    entry(2, -300, 1000, local(9, 30)),
    entry(1, 1300, 1300, local(9, 1)),
  ];
  void test("sums only this local month, in and out apart, and is complete when an older entry is loaded", () => {
    assert.deepEqual(monthFlows(entries, true, NOW), { in_minor: 1000, out_minor: 250, complete: true });
  });
  void test("is 'at least' while older pages of this month may be missing", () => {
    assert.equal(monthFlows(entries.slice(0, 2), true, NOW).complete, false);
    assert.equal(monthFlows(entries.slice(0, 2), false, NOW).complete, true);
  });
  void test("says unknown instead of rounding a sum past the safe-integer range", () => {
    const huge = [entry(2, Number.MAX_SAFE_INTEGER, 0, local(10, 3)), entry(1, 5, 0, local(10, 2))];
    assert.equal(monthFlows(huge, false, NOW).in_minor, null);
  });
});

void test("groupByDay keeps the order and starts a group per local day", () => {
  const groups = groupByDay([{ created_at: local(10, 19) }, { created_at: local(10, 19) }, { created_at: local(10, 18) }]);
  assert.deepEqual(
    groups.map((g) => [g.day, g.items.length]),
    [
      ["2026-11-19", 2],
      ["2026-11-18", 1],
    ],
  );
});

void test("initialsOf takes two words' first letters, or a handle's first two, in whole code points", () => {
  assert.equal(initialsOf("Bob Smith"), "BS");
  assert.equal(initialsOf("@carol_x"), "CX");
  assert.equal(initialsOf("dana"), "DA");
  assert.equal(initialsOf("élodie"), "ÉL");
  assert.equal(initialsOf("😀 Joy"), "😀J");
});

void test("moneyInSystem adds succeeded deposits and subtracts succeeded withdrawals of one currency, oldest first", () => {
  const rows = [
    { kind: "withdrawal", status: "succeeded", amount: 300, currency: "USD", created_at: local(10, 3) },
    { kind: "deposit", status: "succeeded", amount: 1000, currency: "USD", created_at: local(10, 1) },
    { kind: "deposit", status: "failed", amount: 9999, currency: "USD", created_at: local(10, 2) },
    { kind: "transfer", status: "succeeded", amount: 50, currency: "USD", created_at: local(10, 2) },
    { kind: "deposit", status: "succeeded", amount: 700, currency: "EUR", created_at: local(10, 2) },
  ];
  assert.deepEqual(moneyInSystem(rows, "USD").y, [1000, 700]);
});
