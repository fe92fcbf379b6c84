/**
 * Direct tests of the coordinator's building blocks, apart from the HTTP path that the other tests drive:
 * group commit (a failing operation rolls back only its own writes), the outbox's retry path (back-off,
 * the spill hook, marks cleared only after D1 has the rows), and the transfer's steps against fake wallet
 * ports (a refused credit releases, a re-run after a crash derives the same decision, a capture that fails
 * after a credit is an invariant violation and never a release).
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { finishedRow, newMovementRow } from "../../src/coordinator/movements";
import { Outbox, type OutboxPorts } from "../../src/coordinator/outbox";
import type { Failpoint } from "../../src/coordinator/rpc";
import type { MovementRow } from "../../src/coordinator/schema";
import { runTransfer, type StepPorts, type WalletPort } from "../../src/coordinator/steps";
import { GroupCommit, GroupCommitFull, QUEUE_MAX_GROUPS } from "../../src/db/group-commit";
import type { EntryView, WalletView } from "../../src/domain/views";
import { drizzle } from "drizzle-orm/d1";
import { Directory } from "../../src/coordinator/directory";
import { coordinatorStub, register } from "./helpers";

const scratchUser = (): string =>
  `usr_${Array.from({ length: 26 }, () => "abcdefghjkmnpqrstvwxyz0123456789"[Math.floor(Math.random() * 32)]).join("")}`;

describe("group commit", () => {
  it("refuses at once past its bound instead of queueing without limit", async () => {
    await runInDurableObject(coordinatorStub(scratchUser()), async (_instance, state) => {
      const group = new GroupCommit(state.storage, 2);
      const bound = 2 * QUEUE_MAX_GROUPS;
      const results = await Promise.allSettled(Array.from({ length: bound + 5 }, () => group.run(() => 1)));
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(bound);
      const refused = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
      expect(refused).toHaveLength(5);
      expect(refused[0]?.reason).toBeInstanceOf(GroupCommitFull);
    });
  });

  it("a failing operation rolls back only its own writes; the others in its group commit", async () => {
    await runInDurableObject(coordinatorStub(scratchUser()), async (_instance, state) => {
      state.storage.sql.exec("CREATE TABLE gc_test (k TEXT PRIMARY KEY) STRICT");
      const group = new GroupCommit(state.storage, 10);
      const insert = (k: string) => () => void state.storage.sql.exec("INSERT INTO gc_test (k) VALUES (?)", k);
      const results = await Promise.allSettled([
        group.run(insert("a")),
        group.run(() => {
          insert("b")();
          throw new Error("refused");
        }),
        group.run(insert("c")),
      ]);
      expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
      const rows = state.storage.sql.exec<{ k: string }>("SELECT k FROM gc_test ORDER BY k").toArray();
      expect(rows.map((r) => r.k)).toEqual(["a", "c"]);
    });
  });

  it("more operations than a group holds run in several groups, all committed", async () => {
    await runInDurableObject(coordinatorStub(scratchUser()), async (_instance, state) => {
      state.storage.sql.exec("CREATE TABLE gc_many (k INTEGER PRIMARY KEY) STRICT");
      const group = new GroupCommit(state.storage, 2);
      await Promise.all(
        Array.from({ length: 7 }, (_, i) => group.run(() => void state.storage.sql.exec("INSERT INTO gc_many (k) VALUES (?)", i))),
      );
      expect(state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM gc_many").one().n).toBe(7);
    });
  });
});

/** A finished, refused movement (no entries): the smallest row the outbox delivers. */
function refusedRow(user_id: string): MovementRow {
  const req = { user_id, token_hash: "t", idempotency_key: crypto.randomUUID(), request_hash: "h", request_id: "r", amount: 5 };
  const fields = { from_wallet_id: "wal_x", to_wallet_id: null, recipient: null, memo: null };
  const started = newMovementRow("withdrawal", req, fields, [], Date.now(), 1_000);
  return finishedRow(
    started,
    { status: "failed", failure_code: "insufficient_funds", to_wallet_id: null, currency: "USD", entries: [], completed_at: null },
    1,
  );
}

function fakeOutbox(rows: MovementRow[], failFirst: number) {
  const calls = { writes: 0, failed: 0, delivered: [] as string[], retryAt: [] as number[] };
  let pending = [...rows];
  const ports: OutboxPorts = {
    d1: [env.DB],
    pending: (limit) => pending.slice(0, limit),
    markDelivered: (ids) => {
      calls.delivered.push(...ids);
      pending = pending.filter((r) => !ids.includes(r.id));
    },
    failed: () => void calls.failed++,
    beforeWrite: async () => {
      calls.writes++;
      if (calls.writes <= failFirst) throw new Error("D1 is locked");
    },
    afterWrite: () => undefined,
    retryAt: async (at_ms) => void calls.retryAt.push(at_ms),
    alarmBy: () => false,
    backoffMs: (failures) => 100 * 2 ** failures,
    log: () => undefined,
  };
  return { outbox: new Outbox(ports, { batch_max: 10, flush_delay_ms: 10, batches_per_flush: 5 }), calls };
}

describe("the outbox's retry path", () => {
  it("a failed delivery backs off, hands memory to storage, and clears no mark; the retry delivers once", async () => {
    const user = scratchUser();
    const rows = [refusedRow(user), refusedRow(user)];
    const { outbox, calls } = fakeOutbox(rows, 2);
    await outbox.now();
    expect(calls).toMatchObject({ writes: 1, failed: 1, delivered: [] });
    expect(outbox.failureCount).toBe(1);
    expect(outbox.backingOff()).toBe(true);
    expect(calls.retryAt[0]).toBeGreaterThanOrEqual(Date.now() + 150);
    // While backing off, the alarm's flush does nothing, and a forced one fails again with a longer back-off.
    await outbox.due();
    expect(calls.writes).toBe(1);
    await outbox.now();
    expect(outbox.failureCount).toBe(2);
    expect((calls.retryAt[1] ?? 0) - (calls.retryAt[0] ?? 0)).toBeGreaterThan(100);
    await outbox.now();
    expect(outbox.failureCount).toBe(0);
    expect(outbox.retryAt).toBeNull();
    expect(calls.delivered.sort()).toEqual(rows.map((r) => r.id).sort());
    const audit = await env.DB.prepare("SELECT COUNT(*) AS n FROM audit_log WHERE user_id = ?").bind(user).first<{ n: number }>();
    expect(audit?.n).toBe(2);
  });
});

const wallet = (id: string, balance: number): WalletView => ({
  id,
  owner_id: "usr_owner",
  currency: "USD",
  balance,
  available: balance,
  held: 0,
  version: 1,
  chain: { head_seq: 0, head_hash: "0".repeat(64), verified_seq: 0 },
});
const entry = (seq: number, amount: number, created_at: string): EntryView => ({
  seq,
  id: `ent_${seq}`,
  kind: amount > 0 ? "transfer_in" : "transfer_out",
  amount,
  balance_after: 0,
  transfer_id: "trf_x",
  counterparty: null,
  memo: null,
  created_at,
  prev_hash: "0".repeat(64),
  hash: "1".repeat(64),
  refund_of: null,
});

/** Wallet ports that remember what each transfer id did, as the wallet objects do. */
function fakeWallets(options: { creditAnswer?: "currency_mismatch"; captureAnswer?: "no_hold" } = {}) {
  const done = new Map<string, string>();
  const calls: string[] = [];
  const captured = entry(1, -100, "2026-11-30T00:00:01.000Z");
  const credited = entry(1, 100, "2026-11-30T00:00:00.500Z");
  const port: WalletPort = {
    reserve: async (w, i) => {
      calls.push(`reserve ${w}`);
      const prior = done.get(`hold ${i.transfer_id}`);
      if (prior === "released") return { code: "released", reason: "currency_mismatch" };
      if (prior !== undefined) return { code: "exists", state: "held", wallet: wallet(w, 1_000) };
      done.set(`hold ${i.transfer_id}`, "held");
      return { code: "reserved", wallet: wallet(w, 1_000) };
    },
    credit: async (w, i) => {
      calls.push(`credit ${w}`);
      if (options.creditAnswer !== undefined) return { code: options.creditAnswer };
      const first = !done.has(`credit ${i.transfer_id}`);
      done.set(`credit ${i.transfer_id}`, "credited");
      return { code: first ? "credited" : "exists", entry: credited, wallet: wallet(w, 100) };
    },
    capture: async (w) => {
      calls.push(`capture ${w}`);
      if (options.captureAnswer !== undefined) return { code: options.captureAnswer };
      return { code: "captured", entry: captured, wallet: wallet(w, 900) };
    },
    release: async (w, i) => {
      calls.push(`release ${w}`);
      done.set(`hold ${i.transfer_id}`, "released");
      return { code: "released", wallet: wallet(w, 1_000) };
    },
    deposit: async () => ({ code: "not_found" }),
    withdraw: async () => ({ code: "not_found" }),
  };
  return { port, calls };
}

function transferRow(): MovementRow {
  const req = {
    user_id: "usr_0000000000000000000000000a",
    token_hash: "t",
    idempotency_key: "k",
    request_hash: "h",
    request_id: "r",
    amount: 100,
  };
  const fields = { from_wallet_id: "wal_from", to_wallet_id: null, recipient: JSON.stringify({ handle: "bob" }), memo: null };
  return newMovementRow("transfer", req, fields, ["wal_from"], Date.now(), 1_000);
}

function ports(wallets: WalletPort, crashAt?: Failpoint): StepPorts {
  let armed = crashAt;
  return {
    wallets,
    resolve: async () => ({ code: "ok", wallet_id: "wal_to" }),
    walletCurrency: async () => "USD",
    requests: {
      claim: () => Promise.reject(new Error("a transfer claims no request")),
      unclaim: () => Promise.reject(new Error("a transfer claims no request")),
      settle: () => Promise.reject(new Error("a transfer claims no request")),
    },
    refunds: {
      claim: () => Promise.reject(new Error("a transfer claims no refund room")),
      settle: () => Promise.reject(new Error("a transfer settles no refund room")),
      release: () => Promise.reject(new Error("a transfer releases no refund room")),
    },
    walletExists: async () => true,
    failpoint: (name) => {
      if (name !== armed) return;
      armed = undefined;
      throw new Error(`crash at ${name}`);
    },
  };
}

describe("runTransfer against fake ports", () => {
  it("a refused credit releases the hold and the decision names the refusal", async () => {
    const { port, calls } = fakeWallets({ creditAnswer: "currency_mismatch" });
    const decision = await runTransfer(transferRow(), ports(port));
    expect(decision).toMatchObject({ status: "failed", failure_code: "currency_mismatch", entries: [] });
    expect(calls).toEqual(["reserve wal_from", "credit wal_to", "release wal_from"]);
  });

  it("a re-run after a crash at the credit derives the same decision, with the same completed_at", async () => {
    const { port, calls } = fakeWallets();
    const m = transferRow();
    await expect(runTransfer(m, ports(port, "after_credit"))).rejects.toThrow("crash at after_credit");
    const decision = await runTransfer(m, ports(port));
    expect(decision).toMatchObject({ status: "succeeded", to_wallet_id: "wal_to", completed_at: "2026-11-30T00:00:01.000Z" });
    expect(decision.entries.map((e) => e.wallet_id)).toEqual(["wal_from", "wal_to"]);
    expect(calls).toEqual(["reserve wal_from", "credit wal_to", "reserve wal_from", "credit wal_to", "capture wal_from"]);
  });

  it("a capture that fails after the credit is an invariant violation, never a release", async () => {
    const { port, calls } = fakeWallets({ captureAnswer: "no_hold" });
    await expect(runTransfer(transferRow(), ports(port))).rejects.toThrow(/invariant/);
    expect(calls).not.toContain("release wal_from");
  });
});

describe("the directory", () => {
  it("a wallet id found by one coordinator is known to the next without reading D1 again", async () => {
    const reads = { n: 0 };
    const counting = new Proxy(env.DB, {
      get(target, prop) {
        if (prop === "prepare") reads.n++;
        const value: unknown = Reflect.get(target, prop);
        return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    const someone = await register();
    const first = new Directory(drizzle(counting));
    const second = new Directory(drizzle(counting));
    const found = { code: "ok", wallet_id: someone.wallet_id };
    expect(await first.resolve({ wallet_id: someone.wallet_id }, "USD")).toEqual(found);
    const afterFirst = reads.n;
    expect(afterFirst).toBeGreaterThan(0);
    expect(await second.resolve({ wallet_id: someone.wallet_id }, "USD")).toEqual(found);
    expect(reads.n).toBe(afterFirst);
    // An unknown id is still looked up every time, and never remembered.
    expect(await second.resolve({ wallet_id: "wal_0000000000000000000000000z" }, "USD")).toEqual({ code: "not_found" });
    expect(reads.n).toBe(afterFirst + 1);
  });
});
