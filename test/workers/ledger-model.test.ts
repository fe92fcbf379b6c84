/**
 * Property tests of the wallet state machine against a simple model. Random sequences of deposits,
 * withdrawals, reserves, captures, releases and credits (ids drawn from a small pool, so repeats and
 * out-of-order resolutions are common) must give the same answer the model gives, keep every invariant
 * after every step, and leave a hash chain whose amounts sum to the balance. The pure planner is checked with
 * many runs; the real Durable Object, over RPC, with fewer.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GENESIS_HASH, entryHash } from "../../src/domain/hash-chain";
import { newUserId, newWalletId } from "../../src/domain/ids";
import type { EntryView } from "../../src/domain/views";
import {
  assertWallet,
  newWallet,
  planCapture,
  planCredit,
  planDeposit,
  planRelease,
  planReserve,
  planWithdraw,
  type Plan,
  type WalletLimits,
} from "../../src/wallet/ledger";
import type { EntryRow, HoldRow, WalletRow } from "../../src/wallet/schema";
import { walletStub } from "./helpers";

type Op =
  | { op: "deposit"; n: number }
  | { op: "withdraw"; n: number }
  | { op: "reserve"; n: number }
  | { op: "capture"; n: number }
  | { op: "release"; n: number }
  | { op: "credit"; n: number };

/** Each id always carries the same amount, so a repeat is a true retry, never a conflicting request. */
const amountOf = (n: number): number => 1 + ((n * 7_919) % 2_500);
const opArb: fc.Arbitrary<Op> = fc.record({
  op: fc.constantFrom("deposit", "withdraw", "reserve", "capture", "release", "credit"),
  n: fc.integer({ min: 0, max: 11 }),
});

/** The model: plain numbers and maps, written from the contract, not from the implementation. */
class Model {
  balance = 0;
  held = 0;
  daily = 0;
  holds = new Map<string, { amount: number; state: "held" | "captured" | "released" }>();
  entries = new Set<string>();
  constructor(private readonly limits: WalletLimits) {}

  apply(o: Op): string {
    const amount = amountOf(o.n);
    const available = this.balance - this.held;
    switch (o.op) {
      case "deposit": {
        const id = `dep_${o.n}`;
        if (this.entries.has(id)) return "exists";
        if (this.balance + amount > this.limits.max_balance_minor) return "balance_limit_exceeded";
        this.entries.add(id);
        this.balance += amount;
        return "credited";
      }
      case "credit": {
        const id = `in_${o.n}`;
        if (this.entries.has(id)) return "exists";
        if (this.balance + amount > this.limits.max_balance_minor) return "balance_limit_exceeded";
        this.entries.add(id);
        this.balance += amount;
        return "credited";
      }
      case "withdraw": {
        const id = `wdr_${o.n}`;
        if (this.entries.has(id)) return "exists";
        if (available < amount) return "insufficient_funds";
        if (this.daily + amount > this.limits.daily_limit_minor) return "daily_limit_exceeded";
        this.entries.add(id);
        this.balance -= amount;
        this.daily += amount;
        return "debited";
      }
      case "reserve": {
        const hold = this.holds.get(`trf_${o.n}`);
        if (hold !== undefined) return hold.state === "released" ? "released" : "exists";
        if (available < amount) return "insufficient_funds";
        if (this.daily + amount > this.limits.daily_limit_minor) return "daily_limit_exceeded";
        this.holds.set(`trf_${o.n}`, { amount, state: "held" });
        this.held += amount;
        this.daily += amount;
        return "reserved";
      }
      case "capture": {
        const hold = this.holds.get(`trf_${o.n}`);
        if (hold === undefined) return "no_hold";
        if (hold.state !== "held") return hold.state === "released" ? "released" : "exists";
        hold.state = "captured";
        this.held -= hold.amount;
        this.balance -= hold.amount;
        this.entries.add(`trf_${o.n}`);
        return "captured";
      }
      case "release": {
        const hold = this.holds.get(`trf_${o.n}`);
        if (hold === undefined) {
          this.holds.set(`trf_${o.n}`, { amount: 0, state: "released" });
          return "released";
        }
        if (hold.state !== "held") return hold.state === "released" ? "exists" : "captured";
        hold.state = "released";
        this.held -= hold.amount;
        this.daily -= hold.amount;
        return "released";
      }
    }
  }
}

/** The same operations on the pure planner, with rows kept in memory the way the object keeps them in SQLite. */
class Planner {
  holds = new Map<string, HoldRow>();
  entries: EntryRow[] = [];
  constructor(
    public wallet: WalletRow,
    private readonly limits: WalletLimits,
    private readonly now_ms: number,
  ) {}

  private entry(id: string): EntryRow | null {
    return this.entries.find((e) => e.transfer_id === id) ?? null;
  }

  private take<R extends { code: string }>(plan: Plan<R>): string {
    if (plan.wallet !== undefined) {
      assertWallet(plan.wallet);
      this.wallet = plan.wallet;
    }
    if (plan.hold !== undefined) this.holds.set(plan.hold.transfer_id, plan.hold);
    if (plan.entry !== undefined) this.entries.push(plan.entry);
    return plan.result.code;
  }

  apply(o: Op): string {
    const amount = amountOf(o.n);
    const w = this.wallet;
    const owner_id = w.owner_id;
    switch (o.op) {
      case "deposit":
        return this.take(
          planDeposit(w, this.entry(`dep_${o.n}`), { transfer_id: `dep_${o.n}`, owner_id, amount }, this.limits, this.now_ms),
        );
      case "credit":
        return this.take(
          planCredit(
            w,
            this.entry(`in_${o.n}`),
            { transfer_id: `in_${o.n}`, amount, currency: "USD", counterparty: "wal_x", memo: null },
            this.limits,
            this.now_ms,
          ),
        );
      case "withdraw":
        return this.take(
          planWithdraw(w, this.entry(`wdr_${o.n}`), { transfer_id: `wdr_${o.n}`, owner_id, amount }, this.limits, this.now_ms),
        );
      case "reserve":
        return this.take(
          planReserve(w, this.holds.get(`trf_${o.n}`) ?? null, { transfer_id: `trf_${o.n}`, owner_id, amount }, this.limits, this.now_ms),
        );
      case "capture":
        return this.take(
          planCapture(
            w,
            this.holds.get(`trf_${o.n}`) ?? null,
            this.entry(`trf_${o.n}`),
            { transfer_id: `trf_${o.n}`, counterparty: "wal_y", memo: null },
            this.now_ms,
          ),
        );
      case "release":
        return this.take(
          planRelease(w, this.holds.get(`trf_${o.n}`) ?? null, { transfer_id: `trf_${o.n}`, reason: "not_found" }, this.now_ms),
        );
    }
  }
}

function assertChain(walletId: string, entries: EntryView[], balance: number): void {
  let prev = GENESIS_HASH;
  let sum = 0;
  entries.forEach((e, i) => {
    expect(e.seq).toBe(i + 1);
    expect(e.prev_hash).toBe(prev);
    const { hash, ...rest } = e;
    expect(entryHash(walletId, rest)).toBe(hash);
    sum += e.amount;
    expect(e.balance_after).toBe(sum);
    prev = hash;
  });
  expect(sum).toBe(balance);
}

describe("wallet state machine", () => {
  it("the pure planner agrees with the model on every step", () => {
    const limits = { daily_limit_minor: 9_000, max_balance_minor: 30_000 };
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 80 }), (ops) => {
        const model = new Model(limits);
        const id = newWalletId();
        const planner = new Planner(newWallet(id, newUserId(), "USD", Date.UTC(2026, 10, 21, 12)), limits, Date.UTC(2026, 10, 21, 12));
        for (const o of ops) {
          expect(planner.apply(o), JSON.stringify(o)).toBe(model.apply(o));
          expect(planner.wallet.balance).toBe(model.balance);
          expect(planner.wallet.held).toBe(model.held);
          expect(planner.wallet.daily_used).toBe(model.daily);
        }
        assertChain(id, planner.entries, planner.wallet.balance);
      }),
      { numRuns: 400 },
    );
  });

  it("the wallet object agrees with the model over RPC", async () => {
    const limits = { daily_limit_minor: 1_000_000, max_balance_minor: 1_000_000_000_000_000 };
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 40 }), async (ops) => {
        const model = new Model(limits);
        const id = newWalletId();
        const owner_id = newUserId();
        const stub = walletStub(id);
        await stub.init({ wallet_id: id, owner_id, currency: "USD" });
        for (const o of ops) {
          const amount = amountOf(o.n);
          let code: string;
          if (o.op === "deposit") code = (await stub.deposit({ transfer_id: `dep_${o.n}`, owner_id, amount })).code;
          else if (o.op === "credit")
            code = (await stub.credit({ transfer_id: `in_${o.n}`, amount, currency: "USD", counterparty: "wal_x", memo: null })).code;
          else if (o.op === "withdraw") code = (await stub.withdraw({ transfer_id: `wdr_${o.n}`, owner_id, amount })).code;
          else if (o.op === "reserve") code = (await stub.reserve({ transfer_id: `trf_${o.n}`, owner_id, amount })).code;
          else if (o.op === "capture") code = (await stub.capture({ transfer_id: `trf_${o.n}`, counterparty: "wal_y", memo: null })).code;
          else code = (await stub.release({ transfer_id: `trf_${o.n}`, reason: "not_found" })).code;
          expect(code, JSON.stringify(o)).toBe(model.apply(o));
        }
        const snap = await stub.snapshot();
        if (snap.code !== "ok") throw new Error("missing");
        expect(snap.wallet.balance).toBe(model.balance);
        expect(snap.wallet.held).toBe(model.held);
        expect(snap.wallet.available).toBe(model.balance - model.held);
        assertChain(id, await stub.entriesAfter(0, 1_000), model.balance);
      }),
      { numRuns: 25 },
    );
  });
});
