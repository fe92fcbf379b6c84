/**
 * `GET /transfers`, sent side: every filter combination walks its own index of the coordinator's movements
 * (a SEARCH, never a SCAN or a sort), and a page reads the rows it returns, not the transfers it skips: a
 * selective filter whose few matches lie under 3,000 newer transfers that do not match reads a handful of rows.
 * That is what keeps a page O(page) at any number of transfers (issue 14; bench/transfer-list.mjs measures it
 * over HTTP at 100,000).
 */
import { runInDurableObject } from "cloudflare:test";
import type { Faults } from "../../src/db/faults";
import { describe, expect, it } from "vitest";
import { sentIndexFor, sentPage, sentQueryText, type SentFilter } from "../../src/coordinator/sent-queries";
import type { TransferCoordinator } from "../../src/transfer-coordinator";
import { api, coordinatorStub, deposit, register, settle, transfer } from "./helpers";

const shapes = [false, true].flatMap((state) => [false, true].flatMap((from) => [false, true].map((to) => ({ state, from, to }))));

interface Seed {
  id: string;
  state: "started" | "succeeded" | "failed";
  from: string | null;
  to: string | null;
  /** The wallet id the sender named, if they named one (else a handle). */
  named?: string;
  at_ms: number;
}

/** Writes movement rows straight into a coordinator's SQLite, as bench/transfer-list.mjs seeds its files. */
function insertRows(sql: SqlStorage, user_id: string, rows: Seed[]): void {
  for (const r of rows) {
    const recipient = JSON.stringify(r.named === undefined ? { handle: "someone" } : { wallet_id: r.named });
    sql.exec(
      `INSERT INTO movements (id, kind, user_id, state, idempotency_key, request_hash, request_id, from_wallet_id, to_wallet_id,
         recipient, amount, currency, memo, failure_code, owned_wallet_ids, entries, created_at, created_at_ms, completed_at,
         attempts, next_attempt_at_ms, outbox_pending, refund_of, payment_request_id)
       VALUES (?, 'transfer', ?, ?, NULL, 'h', 'r', ?, ?, ?, 1, 'USD', NULL, ?, '[]', '[]', ?, ?, ?, 0, ?, 0, NULL, NULL)`,
      r.id,
      user_id,
      r.state,
      r.from,
      r.to,
      recipient,
      r.state === "failed" ? "insufficient_funds" : null,
      new Date(r.at_ms).toISOString(),
      r.at_ms,
      r.state === "started" ? null : new Date(r.at_ms).toISOString(),
      // A started row is due far in the future, so recovery leaves it alone during the test.
      r.state === "started" ? 8_000_000_000_000 : r.at_ms,
    );
  }
}

describe("GET /transfers: the sent side's indexes", () => {
  it("every filter combination searches its index, in page order, with no scan and no sort", async () => {
    const a = await register();
    await deposit(a, 1);
    const plans = await runInDurableObject(coordinatorStub(a.id), (_instance, ctx) =>
      shapes.map((shape) => {
        const params = [shape.from ? ["w"] : [], shape.to ? ["x"] : [], shape.state || shape.from || shape.to ? ["failed"] : []].flat();
        return {
          shape,
          plan: ctx.storage.sql
            .exec<{ detail: string }>(`EXPLAIN QUERY PLAN ${sentQueryText(shape)}`, ...params, 0, 1, "z", 50)
            .toArray()
            .map((r) => r.detail)
            .join("; "),
        };
      }),
    );
    for (const { shape, plan } of plans) {
      const label = JSON.stringify(shape);
      // The walk is bounded by the time range inside the index, not filtered after it.
      expect(plan, label).toMatch(new RegExp(`^SEARCH movements USING INDEX ${sentIndexFor(shape)} \\(.*created_at_ms[<>]`));
      expect(plan, label).not.toMatch(/SCAN|TEMP B-TREE/);
    }
    expect(new Set(plans.map((p) => sentIndexFor(p.shape))).size).toBe(5);
  });

  it("a selective filter reads its matches, not the 3,000 newer transfers it skips", async () => {
    const a = await register();
    await deposit(a, 1);
    const [w1, w2, x, y] = ["wal_bench_w1", "wal_bench_w2", "wal_bench_x", "wal_bench_y"];
    const t0 = Date.UTC(2026, 0, 1);
    // Oldest first: the rare rows each filter looks for, then 3,000 ordinary successes from w1 to x on top.
    const rare: Seed[] = [
      { id: "trf_r1", state: "failed", from: w1, to: x, at_ms: t0 + 1 },
      { id: "trf_r2", state: "succeeded", from: w2, to: y, at_ms: t0 + 2 },
      { id: "trf_r3", state: "failed", from: w2, to: y, named: y, at_ms: t0 + 3 },
      // Refused, sent to y's handle: the sender may not learn y's wallet from it, so no counterparty filter finds it.
      { id: "trf_r4", state: "failed", from: w1, to: y, at_ms: t0 + 4 },
      { id: "trf_r5", state: "started", from: w2, to: null, at_ms: t0 + 5 },
    ];
    const common: Seed[] = Array.from({ length: 3_000 }, (_, i) => ({
      id: `trf_c${String(i).padStart(5, "0")}`,
      state: "succeeded" as const,
      from: w1,
      to: x,
      at_ms: t0 + 1_000 + i,
    }));
    const results = await runInDurableObject(coordinatorStub(a.id), (_instance, ctx) => {
      ctx.storage.transactionSync(() => insertRows(ctx.storage.sql, a.id, [...rare, ...common]));
      const page = (f: Partial<SentFilter>) => {
        const out = sentPage(ctx.storage.sql, {
          states: null,
          from_wallet_ids: null,
          to_wallet_ids: null,
          from_ms: null,
          before: null,
          limit: 50,
          ...f,
        });
        return { ids: out.rows.map((r) => r.id), rows_read: out.rows_read };
      };
      return {
        failed: page({ states: ["failed"] }),
        pending: page({ states: ["started"] }),
        wallet: page({ from_wallet_ids: [w2] }),
        counterparty: page({ to_wallet_ids: [y] }),
        counterpartyFailed: page({ to_wallet_ids: [y], states: ["failed"] }),
        walletCounterparty: page({ from_wallet_ids: [w2], to_wallet_ids: [y] }),
        walletFailed: page({ from_wallet_ids: [w1], states: ["failed"] }),
        time: page({ from_ms: t0, before: { at_ms: t0 + 3, id: "trf_r3" } }),
        cursor: page({ before: { at_ms: t0 + 1_000 + 1_500, id: "trf_c01500" }, limit: 3 }),
        none: page({ limit: 5 }),
      };
    });
    const expected: Record<keyof typeof results, string[]> = {
      failed: ["trf_r4", "trf_r3", "trf_r1"],
      pending: ["trf_r5"],
      wallet: ["trf_r5", "trf_r3", "trf_r2"],
      counterparty: ["trf_r3", "trf_r2"],
      counterpartyFailed: ["trf_r3"],
      walletCounterparty: ["trf_r3", "trf_r2"],
      walletFailed: ["trf_r4", "trf_r1"],
      time: ["trf_r2", "trf_r1"],
      cursor: ["trf_c01499", "trf_c01498", "trf_c01497"],
      none: ["trf_c02999", "trf_c02998", "trf_c02997", "trf_c02996", "trf_c02995"],
    };
    for (const [name, ids] of Object.entries(expected)) {
      const got = results[name as keyof typeof results];
      expect(got.ids, name).toEqual(ids);
      // One walk per state at most (three when no state is asked for), each reading what it returns.
      expect(got.rows_read, `${name} read ${got.rows_read} rows`).toBeLessThanOrEqual(ids.length + 3);
    }
  });

  it("a success still in memory (its row says started, with no recipient) is found by every filter it matches", async () => {
    const a = await register();
    const b = await register();
    await deposit(a, 1_000);
    await settle([a.id]);
    const faults = (change: Partial<Faults>) =>
      runInDurableObject(coordinatorStub(a.id), (instance: TransferCoordinator) => void Object.assign(instance.faults, change));
    // D1 stalls, so the outbox cannot deliver and the success stays in memory, unwritten.
    await faults({ d1_stalled: true });
    try {
      const sent = await transfer(a, { handle: b.handle }, 25);
      expect(sent.status, sent.text).toBe(201);
      const id = (sent.json as { transfer: { id: string } }).transfer.id;
      expect((await coordinatorStub(a.id).memory()).finished).toBe(1);
      const ids = async (query: string) =>
        (await api<{ items: { id: string }[] }>(`/transfers?direction=out&${query}`, { token: a.token })).json.items.map((t) => t.id);
      expect(await ids(`counterparty=${b.handle}`)).toEqual([id]);
      expect(await ids(`counterparty=${b.handle}&status=succeeded&wallet_id=${a.wallet_id}`)).toEqual([id]);
      expect(await ids("status=succeeded")).toEqual([id]);
      expect(await ids("")).toEqual([id]);
      expect(await ids("status=pending")).toEqual([]);
      expect(await ids(`counterparty=${b.handle}&status=failed`)).toEqual([]);
    } finally {
      await faults({ d1_stalled: false });
    }
    await settle([a.id], 10_000);
  });
});
