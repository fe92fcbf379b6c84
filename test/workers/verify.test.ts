/**
 * The auditor's verifier: ok after a random workload, and each kind of tampering with the D1 copy (an amount
 * edited behind the service's back, an entry deleted, an audit row changed) found and named by wallet and seq.
 * Tampering needs the append-only triggers dropped first, as an attacker with database access would.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { allRows, api, deposit, grantAuditor, register, settle, transfer, walletStub, type TestUser } from "./helpers";
import { tamper, verifyAll as verifyAllAs } from "./audit-helpers";
import { walletDb } from "../../src/db/partitions";

let auditor: TestUser;
beforeAll(async () => {
  auditor = await register({ prefix: "auditor" });
  await grantAuditor(auditor);
});

const verifyAll = (limit = 50) => verifyAllAs(auditor, limit);

async function workload(): Promise<TestUser[]> {
  const users: TestUser[] = [];
  for (let i = 0; i < 4; i++) users.push(await register({ prefix: "ver" }));
  for (const u of users) await deposit(u, 10_000);
  for (let i = 0; i < 30; i++) {
    const from = users[i % 4] as TestUser;
    const to = users[(i * 3 + 1) % 4] as TestUser;
    if (from !== to) await transfer(from, { wallet_id: to.wallet_id }, 1 + ((i * 37) % 3_000));
  }
  await api(`/wallets/${users[0]?.wallet_id}/withdrawals`, { token: users[0]?.token, key: crypto.randomUUID(), body: { amount: 500 } });
  await settle(users.map((u) => u.id));
  return users;
}

describe("audit verify", () => {
  it("reports ok after a random workload, in pages, with progress", async () => {
    await workload();
    const result = await verifyAll(2);
    expect(result.problems).toEqual([]);
    expect(result.pages).toBeGreaterThan(1);
    expect(result.entries).toBeGreaterThan(30);
  });

  it("names the wallet and seq of an amount edited in D1", async () => {
    const [a] = await workload();
    if (a === undefined) throw new Error("no user");
    await tamper("UPDATE ledger_entries SET amount = amount + 1 WHERE wallet_id = ? AND seq = 2", a.wallet_id);
    const result = await verifyAll();
    expect(result.problems).toEqual(
      expect.arrayContaining([expect.objectContaining({ wallet_id: a.wallet_id, seq: 2, kind: "hash_mismatch" })]),
    );
    expect(result.problems.map((p) => p.kind)).toContain("conservation");
    await tamper("UPDATE ledger_entries SET amount = amount - 1 WHERE wallet_id = ? AND seq = 2", a.wallet_id);
    expect((await verifyAll()).problems).toEqual([]);
  });

  it("names the wallet and seq of an entry deleted from D1", async () => {
    const [a] = await workload();
    if (a === undefined) throw new Error("no user");
    const row = await walletDb(env, a.wallet_id)
      .prepare("SELECT * FROM ledger_entries WHERE wallet_id = ? AND seq = 3")
      .bind(a.wallet_id)
      .first<Record<string, unknown>>();
    await new Promise((r) => setTimeout(r, 1_100));
    await tamper("DELETE FROM ledger_entries WHERE wallet_id = ? AND seq = 3", a.wallet_id);
    const result = await verifyAll();
    expect(result.problems).toEqual(
      expect.arrayContaining([expect.objectContaining({ wallet_id: a.wallet_id, seq: 3, kind: "missing_in_d1" })]),
    );
    expect(result.problems.map((p) => p.kind)).toEqual(expect.arrayContaining(["audit_entries_mismatch", "conservation"]));
    if (row === null) throw new Error("no row");
    const cols = Object.keys(row);
    await walletDb(env, a.wallet_id)
      .prepare(`INSERT INTO ledger_entries (${cols.join(",")}) VALUES (${cols.map(() => "?").join(",")})`)
      .bind(...Object.values(row))
      .run();
    expect((await verifyAll()).problems).toEqual([]);
  });

  it("names the movement whose audit row was changed", async () => {
    const users = await workload();
    const [row] = await allRows<{ transfer_id: string }>(
      "SELECT transfer_id FROM audit_log WHERE kind = 'transfer' AND status = 'succeeded' AND home = 1 AND from_wallet_id = ? LIMIT 1",
      users[1]?.wallet_id,
    );
    if (row === undefined) throw new Error("no transfer");
    await tamper("UPDATE audit_log SET amount = amount * 2 WHERE transfer_id = ?", row.transfer_id);
    const result = await verifyAll();
    expect(result.problems).toEqual(
      expect.arrayContaining([expect.objectContaining({ transfer_id: row.transfer_id, kind: "audit_entries_mismatch" })]),
    );
    await tamper("UPDATE audit_log SET amount = amount / 2 WHERE transfer_id = ?", row.transfer_id);
    expect((await verifyAll()).problems).toEqual([]);
  });

  it("reports a hold older than the limit", async () => {
    const a = await register({ prefix: "hold" });
    await deposit(a, 1_000);
    await settle([a.id]);
    const stub = walletStub(a.wallet_id);
    expect((await stub.reserve({ transfer_id: "trf_stuck", owner_id: a.id, amount: 10 })).code).toBe("reserved");
    await new Promise((r) => setTimeout(r, 1_100));
    const result = await verifyAll();
    expect(result.problems).toEqual([expect.objectContaining({ wallet_id: a.wallet_id, kind: "stale_hold" })]);
    expect((await stub.release({ transfer_id: "trf_stuck", reason: "not_found" })).code).toBe("released");
    expect((await verifyAll()).problems).toEqual([]);
  });
});
