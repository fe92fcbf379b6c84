/**
 * The wallet object's RPC methods, one behaviour per test, each on a wallet of its own. Every test checks the
 * wallet's full state (balance, held, available, version) and, where entries appear, the chain.
 */
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { GENESIS_HASH, entryHash } from "../../src/domain/hash-chain";
import { newUserId, newWalletId } from "../../src/domain/ids";
import type { WalletObject } from "../../src/wallet-object";
import { walletStub } from "./helpers";

async function freshWallet(currency = "USD"): Promise<{ id: string; owner: string; stub: DurableObjectStub<WalletObject> }> {
  const id = newWalletId();
  const owner = newUserId();
  const stub = walletStub(id);
  const created = await stub.init({ wallet_id: id, owner_id: owner, currency });
  expect(created.code).toBe("created");
  return { id, owner, stub };
}

async function funded(amount: number): Promise<{ id: string; owner: string; stub: DurableObjectStub<WalletObject> }> {
  const w = await freshWallet();
  const res = await w.stub.deposit({ transfer_id: `dep_seed_${w.id}`, owner_id: w.owner, amount });
  expect(res.code).toBe("credited");
  return w;
}

async function state(
  stub: DurableObjectStub<WalletObject>,
): Promise<{ balance: number; held: number; available: number; version: number }> {
  const snap = await stub.snapshot();
  if (snap.code !== "ok") throw new Error("missing wallet");
  const { balance, held, available, version } = snap.wallet;
  return { balance, held, available, version };
}

describe("wallet object: creation", () => {
  it("an unknown wallet answers not_found to every call and writes no storage", async () => {
    const stub = walletStub(newWalletId());
    expect(await stub.snapshot()).toEqual({ code: "not_found" });
    expect((await stub.reserve({ transfer_id: "t", owner_id: "u", amount: 1 })).code).toBe("not_found");
    expect((await stub.credit({ transfer_id: "t", amount: 1, currency: "USD", counterparty: "x", memo: null })).code).toBe("not_found");
    const tables = await runInDurableObject(stub, (_instance, ctx) =>
      ctx.storage.sql.exec("SELECT name FROM sqlite_master WHERE type = 'table'").toArray(),
    );
    expect(tables).toEqual([]);
  });

  it("init is idempotent for the same owner and currency and refuses a different one", async () => {
    const w = await freshWallet();
    expect((await w.stub.init({ wallet_id: w.id, owner_id: w.owner, currency: "USD" })).code).toBe("exists");
    expect((await w.stub.init({ wallet_id: w.id, owner_id: newUserId(), currency: "USD" })).code).toBe("conflict");
    expect(await state(w.stub)).toEqual({ balance: 0, held: 0, available: 0, version: 0 });
  });
});

describe("wallet object: deposit and withdraw", () => {
  it("a deposit credits the balance and chains an entry from the genesis hash", async () => {
    const w = await freshWallet();
    const res = await w.stub.deposit({ transfer_id: "dep_1", owner_id: w.owner, amount: 1_250 });
    if (res.code !== "credited") throw new Error(res.code);
    expect(res.entry).toMatchObject({ seq: 1, kind: "deposit", amount: 1_250, balance_after: 1_250, prev_hash: GENESIS_HASH });
    const { hash, ...rest } = res.entry;
    expect(entryHash(w.id, rest)).toBe(hash);
    expect(await state(w.stub)).toEqual({ balance: 1_250, held: 0, available: 1_250, version: 1 });
  });

  it("a repeated deposit id is exists with the first entry and moves nothing", async () => {
    const w = await freshWallet();
    const first = await w.stub.deposit({ transfer_id: "dep_1", owner_id: w.owner, amount: 500 });
    const again = await w.stub.deposit({ transfer_id: "dep_1", owner_id: w.owner, amount: 500 });
    expect(again.code).toBe("exists");
    if (first.code !== "credited" || again.code !== "exists") throw new Error("unexpected");
    expect(again.entry).toEqual(first.entry);
    expect(await state(w.stub)).toEqual({ balance: 500, held: 0, available: 500, version: 1 });
  });

  it("someone other than the owner cannot deposit or withdraw", async () => {
    const w = await funded(1_000);
    expect((await w.stub.deposit({ transfer_id: "dep_x", owner_id: newUserId(), amount: 1 })).code).toBe("forbidden");
    expect((await w.stub.withdraw({ transfer_id: "wdr_x", owner_id: newUserId(), amount: 1 })).code).toBe("forbidden");
    expect(await state(w.stub)).toEqual({ balance: 1_000, held: 0, available: 1_000, version: 1 });
  });

  it("a withdrawal beyond the available balance is insufficient_funds", async () => {
    const w = await funded(1_000);
    expect((await w.stub.withdraw({ transfer_id: "wdr_1", owner_id: w.owner, amount: 1_001 })).code).toBe("insufficient_funds");
    const ok = await w.stub.withdraw({ transfer_id: "wdr_2", owner_id: w.owner, amount: 1_000 });
    expect(ok.code).toBe("debited");
    expect(await state(w.stub)).toEqual({ balance: 0, held: 0, available: 0, version: 2 });
  });

  it("a deposit past the balance cap is refused", async () => {
    const w = await freshWallet();
    const res = await w.stub.deposit({ transfer_id: "dep_big", owner_id: w.owner, amount: 1_000_000_000_000_001 });
    expect(res.code).toBe("balance_limit_exceeded");
    expect(await state(w.stub)).toEqual({ balance: 0, held: 0, available: 0, version: 0 });
  });

  it("a non-integer amount is refused at the boundary", async () => {
    const w = await freshWallet();
    // Called on the instance, so the assertion's rejection is observed here rather than reported by RPC.
    await runInDurableObject(w.stub, async (instance: WalletObject) => {
      await expect(instance.deposit({ transfer_id: "dep_f", owner_id: w.owner, amount: 1.5 })).rejects.toThrow(/safe integer/);
      await expect(instance.deposit({ transfer_id: "dep_f", owner_id: w.owner, amount: 2 ** 53 })).rejects.toThrow(/safe integer/);
      await expect(instance.reserve({ transfer_id: "trf_f", owner_id: w.owner, amount: 0 })).rejects.toThrow(/at least 1/);
    });
    expect(await state(w.stub)).toEqual({ balance: 0, held: 0, available: 0, version: 0 });
  });
});

describe("wallet object: holds", () => {
  it("reserve holds funds: available drops, balance does not", async () => {
    const w = await funded(1_000);
    const res = await w.stub.reserve({ transfer_id: "trf_1", owner_id: w.owner, amount: 300 });
    expect(res.code).toBe("reserved");
    expect(await state(w.stub)).toEqual({ balance: 1_000, held: 300, available: 700, version: 2 });
    expect(await w.stub.openHolds()).toEqual([expect.objectContaining({ transfer_id: "trf_1", amount: 300 })]);
  });

  it("a second hold cannot take funds the first one holds", async () => {
    const w = await funded(1_000);
    expect((await w.stub.reserve({ transfer_id: "trf_1", owner_id: w.owner, amount: 700 })).code).toBe("reserved");
    expect((await w.stub.reserve({ transfer_id: "trf_2", owner_id: w.owner, amount: 301 })).code).toBe("insufficient_funds");
    expect((await w.stub.withdraw({ transfer_id: "wdr_1", owner_id: w.owner, amount: 301 })).code).toBe("insufficient_funds");
    expect(await state(w.stub)).toEqual({ balance: 1_000, held: 700, available: 300, version: 2 });
  });

  it("a repeated reserve is exists and holds nothing more", async () => {
    const w = await funded(1_000);
    await w.stub.reserve({ transfer_id: "trf_1", owner_id: w.owner, amount: 300 });
    const again = await w.stub.reserve({ transfer_id: "trf_1", owner_id: w.owner, amount: 300 });
    expect(again).toMatchObject({ code: "exists", state: "held" });
    expect(await state(w.stub)).toEqual({ balance: 1_000, held: 300, available: 700, version: 2 });
  });

  it("capture posts the hold as a transfer_out entry, once", async () => {
    const w = await funded(1_000);
    await w.stub.reserve({ transfer_id: "trf_1", owner_id: w.owner, amount: 300 });
    const captured = await w.stub.capture({ transfer_id: "trf_1", counterparty: "wal_other", memo: "rent" });
    if (captured.code !== "captured") throw new Error(captured.code);
    expect(captured.entry).toMatchObject({
      seq: 2,
      kind: "transfer_out",
      amount: -300,
      balance_after: 700,
      counterparty: "wal_other",
      memo: "rent",
    });
    const again = await w.stub.capture({ transfer_id: "trf_1", counterparty: "wal_other", memo: "rent" });
    expect(again.code).toBe("exists");
    expect(await state(w.stub)).toEqual({ balance: 700, held: 0, available: 700, version: 3 });
    expect(await w.stub.openHolds()).toEqual([]);
  });

  it("release voids the hold; a later capture or reserve of it is refused", async () => {
    const w = await funded(1_000);
    await w.stub.reserve({ transfer_id: "trf_1", owner_id: w.owner, amount: 300 });
    expect((await w.stub.release({ transfer_id: "trf_1", reason: "currency_mismatch" })).code).toBe("released");
    expect((await w.stub.release({ transfer_id: "trf_1", reason: "currency_mismatch" })).code).toBe("exists");
    expect((await w.stub.capture({ transfer_id: "trf_1", counterparty: "x", memo: null })).code).toBe("released");
    expect(await w.stub.reserve({ transfer_id: "trf_1", owner_id: w.owner, amount: 300 })).toEqual({
      code: "released",
      reason: "currency_mismatch",
    });
    expect(await state(w.stub)).toEqual({ balance: 1_000, held: 0, available: 1_000, version: 3 });
  });

  it("releasing a hold that never arrived leaves a tombstone that refuses the late reserve", async () => {
    const w = await funded(1_000);
    expect((await w.stub.release({ transfer_id: "trf_late", reason: "not_found" })).code).toBe("released");
    expect(await w.stub.reserve({ transfer_id: "trf_late", owner_id: w.owner, amount: 10 })).toEqual({
      code: "released",
      reason: "not_found",
    });
    expect(await state(w.stub)).toEqual({ balance: 1_000, held: 0, available: 1_000, version: 1 });
  });

  it("a captured hold cannot be released", async () => {
    const w = await funded(1_000);
    await w.stub.reserve({ transfer_id: "trf_1", owner_id: w.owner, amount: 300 });
    await w.stub.capture({ transfer_id: "trf_1", counterparty: "x", memo: null });
    expect((await w.stub.release({ transfer_id: "trf_1", reason: "not_found" })).code).toBe("captured");
    expect(await state(w.stub)).toEqual({ balance: 700, held: 0, available: 700, version: 3 });
  });

  it("capture without a hold is no_hold", async () => {
    const w = await funded(1_000);
    expect((await w.stub.capture({ transfer_id: "trf_none", counterparty: "x", memo: null })).code).toBe("no_hold");
  });

  it("the daily limit counts holds and withdrawals, and a release gives the room back", async () => {
    const w = await funded(5_000_000);
    expect((await w.stub.reserve({ transfer_id: "trf_1", owner_id: w.owner, amount: 900_000 })).code).toBe("reserved");
    expect((await w.stub.withdraw({ transfer_id: "wdr_1", owner_id: w.owner, amount: 100_001 })).code).toBe("daily_limit_exceeded");
    expect((await w.stub.release({ transfer_id: "trf_1", reason: "not_found" })).code).toBe("released");
    expect((await w.stub.withdraw({ transfer_id: "wdr_2", owner_id: w.owner, amount: 1_000_000 })).code).toBe("debited");
    expect((await w.stub.reserve({ transfer_id: "trf_2", owner_id: w.owner, amount: 1 })).code).toBe("daily_limit_exceeded");
    expect(await state(w.stub)).toEqual({ balance: 4_000_000, held: 0, available: 4_000_000, version: 4 });
  });
});

describe("wallet object: credit", () => {
  it("credit chains a transfer_in entry and is idempotent", async () => {
    const w = await funded(100);
    const res = await w.stub.credit({ transfer_id: "trf_in", amount: 50, currency: "USD", counterparty: "wal_a", memo: null });
    expect(res.code).toBe("credited");
    expect((await w.stub.credit({ transfer_id: "trf_in", amount: 50, currency: "USD", counterparty: "wal_a", memo: null })).code).toBe(
      "exists",
    );
    expect(await state(w.stub)).toEqual({ balance: 150, held: 0, available: 150, version: 2 });
  });

  it("credit in another currency is currency_mismatch", async () => {
    const w = await freshWallet("EUR");
    expect((await w.stub.credit({ transfer_id: "trf_in", amount: 50, currency: "USD", counterparty: "wal_a", memo: null })).code).toBe(
      "currency_mismatch",
    );
    expect(await state(w.stub)).toEqual({ balance: 0, held: 0, available: 0, version: 0 });
  });
});

describe("wallet object: history and storage", () => {
  it("history pages newest first with a cursor and no gaps or repeats", async () => {
    const w = await freshWallet();
    for (let i = 1; i <= 7; i++) await w.stub.deposit({ transfer_id: `dep_${i}`, owner_id: w.owner, amount: i });
    const seen: number[] = [];
    let before: number | undefined;
    for (;;) {
      const page = await w.stub.history({ limit: 3, ...(before === undefined ? {} : { before_seq: before }) });
      if (page.code !== "ok") throw new Error("missing");
      seen.push(...page.items.map((e) => e.seq));
      if (page.next_before_seq === null) break;
      before = page.next_before_seq;
    }
    expect(seen).toEqual([7, 6, 5, 4, 3, 2, 1]);
  });

  it("entries cannot be updated or deleted, even from inside the object", async () => {
    const w = await funded(100);
    await runInDurableObject(w.stub, (_instance, ctx) => {
      expect(() => ctx.storage.sql.exec("UPDATE entries SET amount = 1")).toThrow(/append-only/);
      expect(() => ctx.storage.sql.exec("DELETE FROM entries")).toThrow(/append-only/);
    });
    expect(await state(w.stub)).toEqual({ balance: 100, held: 0, available: 100, version: 1 });
  });

  it("the database refuses a negative balance or more held than the balance", async () => {
    const w = await funded(100);
    await runInDurableObject(w.stub, (_instance, ctx) => {
      expect(() => ctx.storage.sql.exec("UPDATE wallet SET balance = -1")).toThrow(/CHECK/);
      expect(() => ctx.storage.sql.exec("UPDATE wallet SET held = 101")).toThrow(/CHECK/);
    });
  });

  it("state survives an eviction", async () => {
    const w = await funded(1_000);
    await w.stub.reserve({ transfer_id: "trf_1", owner_id: w.owner, amount: 250 });
    await evictDurableObject(w.stub);
    const stub = walletStub(w.id);
    expect(await state(stub)).toEqual({ balance: 1_000, held: 250, available: 750, version: 2 });
    expect((await stub.capture({ transfer_id: "trf_1", counterparty: "x", memo: null })).code).toBe("captured");
    expect(await state(stub)).toEqual({ balance: 750, held: 0, available: 750, version: 3 });
  });
});
