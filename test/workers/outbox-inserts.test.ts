/**
 * The outbox's D1 inserts: several rows to a statement within D1's limit on bound parameters, every row
 * delivered once and in order, and a repeated delivery leaving exactly one copy of each row.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { deliver, movementInserts } from "../../src/coordinator/outbox";
import { finishedRow, newMovementRow } from "../../src/coordinator/movements";
import type { MovementRow } from "../../src/coordinator/schema";
import { D1_MAX_BOUND_PARAMETERS, insertIgnoring } from "../../src/db/d1-inserts";
import { ledgerEntries } from "../../src/db/schema";
import { newUserId, newWalletId } from "../../src/domain/ids";

const ENTRY_COLUMNS = [
  "wallet_id",
  "seq",
  "id",
  "kind",
  "amount",
  "balance_after",
  "transfer_id",
  "counterparty",
  "memo",
  "created_at",
  "prev_hash",
  "hash",
] as const;

function entry(walletId: string, seq: number) {
  return {
    wallet_id: walletId,
    seq,
    id: `ent_${walletId.slice(4)}_${seq}`,
    kind: "deposit" as const,
    amount: 100,
    balance_after: 100 * seq,
    transfer_id: `dep_${walletId.slice(4)}_${seq}`,
    counterparty: null,
    memo: null,
    created_at: new Date(0).toISOString(),
    prev_hash: "0".repeat(64),
    hash: seq.toString(16).padStart(64, "0"),
    refund_of: null,
  };
}

/** A succeeded deposit of `amount` into `walletId`, with the one entry it produced. */
function succeededDeposit(userId: string, walletId: string, seq: number): MovementRow {
  const req = { user_id: userId, token_hash: "t", idempotency_key: `k${seq}`, request_hash: "h", request_id: "r", amount: 100 };
  const started = newMovementRow(
    "deposit",
    req,
    { from_wallet_id: null, to_wallet_id: walletId, recipient: null, memo: null },
    [walletId],
    Date.now(),
    5_000,
  );
  const { wallet_id, ...view } = entry(walletId, seq);
  const decision = {
    status: "succeeded" as const,
    failure_code: null,
    to_wallet_id: wallet_id,
    currency: "USD",
    entries: [{ wallet_id, entry: view }],
    completed_at: view.created_at,
  };
  return finishedRow(started, decision, 0);
}

describe("outbox inserts", () => {
  it("puts as many rows in one statement as D1's bound-parameter limit allows", () => {
    const insert = insertIgnoring(ledgerEntries, ENTRY_COLUMNS, ["wallet_id", "seq"]);
    expect(insert.rows_per_statement).toBe(Math.floor(D1_MAX_BOUND_PARAMETERS / ENTRY_COLUMNS.length));
    const widest = insert.sql(insert.rows_per_statement);
    expect(widest.split("?").length - 1).toBeLessThanOrEqual(D1_MAX_BOUND_PARAMETERS);
    expect(() => insert.sql(insert.rows_per_statement + 1)).toThrow(/invariant/);
    expect(() => insert.sql(0)).toThrow(/invariant/);
  });

  it("inserts every row once, in order, and a repeat leaves one copy of each", async () => {
    const walletId = newWalletId();
    const insert = insertIgnoring(ledgerEntries, ENTRY_COLUMNS, ["wallet_id", "seq"]);
    const rows = Array.from({ length: 20 }, (_, i) => entry(walletId, i + 1));
    const statements = insert.bind(env.DB, rows);
    expect(statements).toHaveLength(Math.ceil(20 / insert.rows_per_statement));
    await env.DB.batch(statements);
    await env.DB.batch(insert.bind(env.DB, rows));
    const stored = await env.DB.prepare("SELECT seq, hash FROM ledger_entries WHERE wallet_id = ? ORDER BY rowid")
      .bind(walletId)
      .all<{ seq: number; hash: string }>();
    expect(stored.results.map((r) => r.seq)).toEqual(rows.map((r) => r.seq));
    expect(stored.results.map((r) => r.hash)).toEqual(rows.map((r) => r.hash));
    expect(insert.bind(env.DB, [])).toEqual([]);
  });

  it("delivers a batch of movements: one audit row each, in the movements' order, and their entries", async () => {
    const userId = newUserId();
    const walletId = newWalletId();
    const movements = Array.from({ length: 23 }, (_, i) => succeededDeposit(userId, walletId, i + 1));
    await deliver([env.DB], movements);
    await deliver([env.DB], movements.slice(0, 10));
    const audit = await env.DB.prepare("SELECT transfer_id FROM audit_log WHERE user_id = ? ORDER BY seq")
      .bind(userId)
      .all<{ transfer_id: string }>();
    expect(audit.results.map((r) => r.transfer_id)).toEqual(movements.map((m) => m.id));
    const entries = await env.DB.prepare("SELECT COUNT(*) AS n FROM ledger_entries WHERE wallet_id = ?")
      .bind(walletId)
      .first<{ n: number }>();
    expect(entries?.n).toBe(23);
    expect(movementInserts(env.DB, [])).toEqual([]);
  });
});
