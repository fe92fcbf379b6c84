/**
 * Concurrency on the money path: many parallel transfers among a few wallets (so every wallet is both sender
 * and receiver under contention), and storms of the same Idempotency-Key, before and after a crash. The
 * invariants are checked over the whole ledger afterwards: the total is conserved, nothing is negative or
 * held, every succeeded transfer has exactly one debit and one credit, and there is one audit row per attempt.
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { TransferCoordinator } from "../../src/transfer-coordinator";
import {
  countAll,
  allRows,
  api,
  assertLedger,
  coordinatorStub,
  deposit,
  register,
  settle,
  transfer,
  type ApiResponse,
  type TestUser,
} from "./helpers";

/** A small deterministic generator, so a failure can be replayed from the seed in its message. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1_664_525 + 1_013_904_223) >>> 0;
    return s / 2 ** 32;
  };
}

async function ledgerCounts(walletIds: string[]): Promise<{ debits: number; credits: number }> {
  const placeholders = walletIds.map(() => "?").join(",");
  const debits = await countAll(
    `SELECT count(*) AS n FROM ledger_entries WHERE kind = 'transfer_out' AND wallet_id IN (${placeholders})`,
    ...walletIds,
  );
  const credits = await countAll(
    `SELECT count(*) AS n FROM ledger_entries WHERE kind = 'transfer_in' AND wallet_id IN (${placeholders})`,
    ...walletIds,
  );
  return { debits, credits };
}

describe("parallel transfers", () => {
  it("200 transfers among 5 wallets, 40 at a time, conserve the total", async () => {
    const seed = Date.now() % 1_000_000;
    const random = rng(seed);
    const users: TestUser[] = [];
    for (let i = 0; i < 5; i++) users.push(await register({ prefix: "par" }));
    for (const u of users) await deposit(u, 5_000);
    const outcomes: ApiResponse[] = [];
    for (let batch = 0; batch < 5; batch++) {
      const sends: Promise<ApiResponse>[] = [];
      for (let i = 0; i < 40; i++) {
        const from = users[Math.floor(random() * users.length)] as TestUser;
        let to = users[Math.floor(random() * users.length)] as TestUser;
        if (to === from) to = users[(users.indexOf(from) + 1) % users.length] as TestUser;
        sends.push(transfer(from, { wallet_id: to.wallet_id }, 1 + Math.floor(random() * 3_000)));
      }
      outcomes.push(...(await Promise.all(sends)));
    }
    const statuses = outcomes.map((r) => r.status);
    expect(
      statuses.every((s) => s === 201 || s === 422),
      `seed ${seed}: ${statuses.join(",")}`,
    ).toBe(true);
    const succeeded = statuses.filter((s) => s === 201).length;
    expect(succeeded, `seed ${seed}`).toBeGreaterThan(0);
    await settle(users.map((u) => u.id));
    const walletIds = users.map((u) => u.wallet_id);
    const check = await assertLedger(walletIds);
    expect(check.total_balance, `seed ${seed}`).toBe(25_000);
    expect(await ledgerCounts(walletIds)).toEqual({ debits: succeeded, credits: succeeded });
    const audit = await allRows<{ status: string; n: number }>(
      `SELECT status, count(*) AS n FROM audit_log WHERE kind = 'transfer' AND home = 1 AND from_wallet_id IN (${walletIds.map(() => "?").join(",")}) GROUP BY status`,
      ...walletIds,
    );
    const byStatus: Record<string, number> = {};
    for (const r of audit) byStatus[r.status] = (byStatus[r.status] ?? 0) + r.n;
    expect(byStatus).toEqual({
      succeeded,
      ...(succeeded < 200 ? { failed: 200 - succeeded } : {}),
    });
  });

  it("a wallet paying out of its whole balance in parallel never goes negative", async () => {
    const a = await register();
    const b = await register();
    await deposit(a, 1_000);
    const results = await Promise.all(Array.from({ length: 30 }, () => transfer(a, { handle: b.handle }, 100)));
    expect(results.filter((r) => r.status === 201)).toHaveLength(10);
    expect(results.filter((r) => r.status === 422)).toHaveLength(20);
    await settle([a.id, b.id]);
    const check = await assertLedger([a.wallet_id, b.wallet_id]);
    expect(check.wallets.map((w) => w.balance)).toEqual([0, 1_000]);
  });
});

describe("idempotency storm", () => {
  it("50 copies of one request at once move money once and answer one outcome", async () => {
    const a = await register();
    const b = await register();
    await deposit(a, 10_000);
    const key = crypto.randomUUID();
    const send = (): Promise<ApiResponse> => transfer(a, { handle: b.handle }, 321, key);
    const answers = await Promise.all(Array.from({ length: 50 }, send));
    const created = answers.filter((r) => r.status === 201);
    const busy = answers.filter((r) => r.status === 409);
    expect(created.length + busy.length).toBe(50);
    expect(created.length).toBeGreaterThanOrEqual(1);
    expect(new Set(created.map((r) => r.text)).size).toBe(1);
    for (const r of busy) expect(r.text).toContain("idempotency_in_progress");
    await settle([a.id, b.id]);
    const final = await send();
    expect(final.text).toBe(created[0]?.text);
    const check = await assertLedger([a.wallet_id, b.wallet_id]);
    expect(check.wallets.map((w) => w.balance)).toEqual([9_679, 321]);
  });

  it("a storm after a crash mid-transfer still moves money once", async () => {
    const a = await register();
    const b = await register();
    await deposit(a, 10_000);
    await runInDurableObject(coordinatorStub(a.id), (instance: TransferCoordinator) => {
      instance.failpoints.set("after_credit", "abort");
    });
    const key = crypto.randomUUID();
    const send = (): Promise<ApiResponse> => transfer(a, { handle: b.handle }, 555, key);
    expect((await send()).status).toBe(503);
    const answers = await Promise.all(Array.from({ length: 30 }, send));
    for (const r of answers) expect([201, 409]).toContain(r.status);
    await settle([a.id, b.id]);
    const final = await send();
    expect(final.status).toBe(201);
    const check = await assertLedger([a.wallet_id, b.wallet_id]);
    expect(check.wallets.map((w) => w.balance)).toEqual([9_445, 555]);
  });

  it("different bodies racing under one key: one wins, the rest are refused as reused or in progress", async () => {
    const a = await register();
    const b = await register();
    await deposit(a, 10_000);
    const key = crypto.randomUUID();
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => api(`/wallets/${a.wallet_id}/withdrawals`, { token: a.token, key, body: { amount: 100 + i } })),
    );
    const created = answers.filter((r) => r.status === 201);
    expect(created).toHaveLength(1);
    for (const r of answers.filter((x) => x.status !== 201)) expect([409, 422]).toContain(r.status);
    await settle([a.id, b.id]);
    const amount = (created[0]?.json as { withdrawal: { amount: number } }).withdrawal.amount;
    const check = await assertLedger([a.wallet_id]);
    expect(check.wallets[0]?.balance).toBe(10_000 - amount);
  });
});

describe("a movement that has ended", () => {
  /**
   * The coordinator's own driver (coordinator/movement-driver.ts), reached past TypeScript's `private` (the alarm
   * calls it with rows it read earlier).
   */
  interface Driver {
    driver: { drive(row: Record<string, unknown>, replayed: boolean): Promise<{ code: string }> };
  }

  it("is never run again from a row read before it ended, even when the money to pay it has arrived since", async () => {
    const a = await register();
    const b = await register();
    const key = crypto.randomUUID();
    const refused = await transfer(a, { handle: b.handle }, 500, key);
    expect(refused.status, refused.text).toBe(422);
    await deposit(a, 1_000);
    await settle([a.id, b.id]);
    await runInDurableObject(coordinatorStub(a.id), async (instance: TransferCoordinator, state: DurableObjectState) => {
      const row = state.storage.sql.exec("SELECT * FROM movements WHERE idempotency_key = ?", key).one();
      // The row as the alarm would have read it, before the refusal was recorded.
      const stale = { ...row, state: "started", failure_code: null, completed_at: null, entries: null };
      const outcome = await (instance as unknown as Driver).driver.drive(stale, false);
      expect(outcome.code).toBe("insufficient_funds");
    });
    await settle([a.id, b.id]);
    const { wallets } = await assertLedger([a.wallet_id, b.wallet_id]);
    expect(wallets.map((w) => [w.balance, w.version])).toEqual([
      [1_000, 1],
      [0, 0],
    ]);
  });
});
