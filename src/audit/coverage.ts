/**
 * What a whole-ledger GET /audit/verify answer past its live budget relies on (src/audit/verify.ts): the
 * self-audit's marks (src/audit/self-audit.ts), counted and checked in D1.
 */
import type { Problem } from "./chain";
import type { Partitions } from "./partition-sql";

/**
 * The wallets after `after` that the self-audit has checked through their D1 head (covered) and those it has
 * not (unverified), partition by partition. A wallet whose D1 entry at its mark no longer has the hash the self-audit verified was
 * rewritten after the check: a problem, named by wallet and seq. Open findings become problems here too, since
 * a finding keeps a wallet's mark in place. Everything is aggregated in D1: the answer is small at any size.
 */
export async function coverageAfter(dbs: Partitions, after: string, problems: Problem[]): Promise<{ covered: number; unverified: number }> {
  const main = dbs[0];
  if (main === undefined) throw new Error("invariant: no main database");
  // Marks live beside the chains they cover, so each partition counts its own wallets that changed since their
  // mark; a wallet with no entry anywhere is covered by definition.
  const perWallet = `SELECT h.wallet_id, h.d1_head, coalesce(m.seq, 0) AS mark_seq
       FROM (SELECT wallet_id, max(seq) AS d1_head FROM ledger_entries WHERE wallet_id > ? GROUP BY wallet_id) h
       LEFT JOIN verified_marks m ON m.wallet_id = h.wallet_id`;
  let unverified = 0;
  for (const db of dbs) {
    const [counts, rewritten] = await db.batch<Record<string, unknown>>([
      db.prepare(`SELECT count(*) AS n FROM (${perWallet}) WHERE d1_head > mark_seq`).bind(after),
      db
        .prepare(
          `SELECT m.wallet_id, m.seq AS mark_seq FROM verified_marks m LEFT JOIN ledger_entries e ON e.wallet_id = m.wallet_id AND e.seq = m.seq
            WHERE m.wallet_id > ? AND m.seq > 0 AND e.hash IS NOT m.hash LIMIT 100`,
        )
        .bind(after),
    ]);
    unverified += ((counts?.results[0] ?? {}) as { n?: number }).n ?? 0;
    for (const r of (rewritten?.results ?? []) as { wallet_id: string; mark_seq: number }[]) {
      problems.push({
        wallet_id: r.wallet_id,
        seq: r.mark_seq,
        kind: "rewritten_after_check",
        detail: `D1's entry ${r.mark_seq} no longer has the hash the self-audit verified`,
      });
    }
  }
  const [wallets, findings] = await main.batch<Record<string, unknown>>([
    main.prepare("SELECT count(*) AS n FROM wallets WHERE id > ?").bind(after),
    main
      .prepare("SELECT wallet_id, entry_seq, kind, detail FROM audit_findings WHERE wallet_id > ? ORDER BY seq DESC LIMIT 100")
      .bind(after),
  ]);
  for (const f of (findings?.results ?? []) as { wallet_id: string; entry_seq: number | null; kind: string; detail: string }[]) {
    problems.push({ wallet_id: f.wallet_id, seq: f.entry_seq, kind: `self_audit_${f.kind}`, detail: f.detail });
  }
  const total = ((wallets?.results[0] ?? {}) as { n?: number }).n ?? 0;
  return { covered: Math.max(0, total - unverified), unverified };
}
