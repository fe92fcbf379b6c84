/**
 * GET /audit/verify's ledger-wide checks, run on the first page (src/audit/verify.ts): audit rows against
 * entries inside each partition, refunds against what they refund (src/audit/refund-checks.ts), and
 * conservation across partitions (src/audit/conservation.ts).
 */
import type { Problem } from "./chain";
import { conservationProblems } from "./conservation";
import { PARTITION_OF, type Partitions } from "./partition-sql";
import { refundProblems } from "./refund-checks";
import type { VerifyOptions } from "./verify";

/**
 * Audit rows against entries inside partition `index`: a row (home or copy) has exactly the entries its kind
 * implies on the wallets of this partition (a transfer's debit when its sender is here, its credit when its
 * recipient is), and every entry here has a succeeded audit row here.
 */
async function verifyPartition(db: D1Database, index: number, problems: Problem[]): Promise<void> {
  const mismatched = await db
    .prepare(
      `SELECT a.transfer_id, a.kind, a.status, a.amount,
              count(e.seq) AS n,
              coalesce(sum(CASE WHEN e.amount > 0 THEN e.amount END), 0) AS credited,
              coalesce(sum(CASE WHEN e.amount < 0 THEN -e.amount END), 0) AS debited,
              (a.from_wallet_id IS NOT NULL AND ${PARTITION_OF("a.from_wallet_id")} = ?1) AS from_here,
              (a.to_wallet_id IS NOT NULL AND ${PARTITION_OF("a.to_wallet_id")} = ?1) AS to_here
       FROM audit_log a LEFT JOIN ledger_entries e ON e.transfer_id = a.transfer_id
       GROUP BY a.transfer_id
       HAVING NOT (
         (a.status = 'failed' AND n = 0) OR
         (a.status = 'succeeded' AND a.kind = 'transfer' AND n = from_here + to_here
           AND credited = a.amount * to_here AND debited = a.amount * from_here) OR
         (a.status = 'succeeded' AND a.kind = 'deposit' AND n = 1 AND credited = a.amount AND debited = 0) OR
         (a.status = 'succeeded' AND a.kind = 'withdrawal' AND n = 1 AND debited = a.amount AND credited = 0))
       LIMIT 100`,
    )
    .bind(index)
    .all<{ transfer_id: string; kind: string; status: string; amount: number; n: number; credited: number; debited: number }>();
  for (const r of mismatched.results) {
    problems.push({
      wallet_id: null,
      seq: null,
      transfer_id: r.transfer_id,
      kind: "audit_entries_mismatch",
      detail: `${r.status} ${r.kind} of ${r.amount} has ${r.n} entries (credited ${r.credited}, debited ${r.debited})`,
    });
  }
  const orphans = await db
    .prepare(
      "SELECT e.wallet_id, e.seq, e.transfer_id FROM ledger_entries e LEFT JOIN audit_log a ON a.transfer_id = e.transfer_id AND a.status = 'succeeded' WHERE a.transfer_id IS NULL LIMIT 100",
    )
    .all<{ wallet_id: string; seq: number; transfer_id: string }>();
  for (const o of orphans.results) {
    problems.push({
      wallet_id: o.wallet_id,
      seq: o.seq,
      transfer_id: o.transfer_id,
      kind: "entry_without_audit",
      detail: "an entry whose movement has no succeeded audit row",
    });
  }
  problems.push(...(await refundProblems(db)));
}

/** Ledger-wide checks: each partition's own, then conservation across them (each problem listed once). */
export async function verifyLedger(dbs: Partitions, opts: VerifyOptions, problems: Problem[]): Promise<void> {
  const found: Problem[] = [];
  for (const [index, db] of dbs.entries()) await verifyPartition(db, index, found);
  found.push(...(await conservationProblems(dbs, opts.now_ms - opts.outbox_grace_ms)));
  const seen = new Set<string>();
  for (const p of found) {
    // A transfer between two partitions is checked in both; a problem with it is listed once.
    const key = `${p.kind}|${p.transfer_id ?? ""}|${p.wallet_id ?? ""}|${p.seq ?? ""}|${p.detail}`;
    if (!seen.has(key)) problems.push(p);
    seen.add(key);
  }
}
