/**
 * Conservation past 2^63 (an outside re-probe): SQLite's sum() stops with "integer overflow" there, which made
 * the whole verifier answer 500 for ever once a currency's deposits passed it (about 9,200 full wallets). The
 * check sums high and low halves and compares as BigInt: exact, and still names a one-unit difference.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { conservationProblems } from "../../src/audit/verify";

const ROWS = 9_300;
const AMOUNT = 999_999_999_999_990;

/** A synthetic ledger in its own currency: one wallet, ROWS deposits and their entries (only sums matter here). */
async function seed(currency: string, entryDelta = 0): Promise<void> {
  const wallet = `wal_overflow${currency.toLowerCase()}${"0".repeat(14)}`.slice(0, 30);
  const ids = JSON.stringify(Array.from({ length: ROWS }, (_, i) => i + 1));
  await env.DB.batch([
    env.DB.prepare(
      "INSERT INTO users (id, handle, display_name, password_hash, role, created_at) VALUES ('usr_overflow' || ?1, 'overflow_' || ?1, 'x', 'x', 'user', '2026-11-30T00:00:00.000Z')",
    ).bind(currency),
    env.DB.prepare(
      "INSERT INTO wallets (id, owner_id, currency, created_at) VALUES (?1, 'usr_overflow' || ?2, ?2, '2026-11-30T00:00:00.000Z')",
    ).bind(wallet, currency),
    env.DB.prepare(
      `INSERT INTO audit_log (id, transfer_id, kind, status, user_id, from_wallet_id, to_wallet_id, amount, currency, failure_code, created_at)
       SELECT 'aud_' || ?1 || value, 'dep_' || ?1 || value, 'deposit', 'succeeded', 'usr_overflow', NULL, ?2, ?3, ?4, NULL, '2026-11-30T00:00:00.000Z'
       FROM json_each(?5)`,
    ).bind(currency, wallet, AMOUNT, currency, ids),
    env.DB.prepare(
      `INSERT INTO ledger_entries (wallet_id, seq, id, kind, amount, balance_after, transfer_id, counterparty, memo, created_at, prev_hash, hash)
       SELECT ?1, value, 'ent_' || value, 'deposit', ?2 + CASE WHEN value = 1 THEN ?3 ELSE 0 END, 0, 'dep_' || ?4 || value, NULL, NULL,
              '2026-11-30T00:00:00.000Z', '', ''
       FROM json_each(?5)`,
    ).bind(wallet, AMOUNT, entryDelta, currency, ids),
  ]);
}

describe("conservation past 2^63", () => {
  it("sums past SQLite's integer range still balance exactly, and a one-unit difference is named exactly", async () => {
    await seed("XTS");
    const overflow = await env.DB.prepare("SELECT sum(amount) FROM audit_log WHERE currency = 'XTS'")
      .first()
      .then(
        () => "no error",
        (error: unknown) => String(error),
      );
    expect(overflow).toMatch(/overflow/);
    expect(await conservationProblems([env.DB])).toEqual([]);
    await seed("XXX", 1);
    const problems = await conservationProblems([env.DB]);
    const total = BigInt(ROWS) * BigInt(AMOUNT);
    expect(problems).toEqual([
      expect.objectContaining({
        kind: "conservation",
        detail: `XXX: all entries sum to ${total + 1n}, but deposits minus withdrawals is ${total}`,
      }),
    ]);
  });
});
