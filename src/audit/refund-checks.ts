/**
 * The verifier's refund checks (part of GET /audit/verify's ledger-wide checks, src/audit/ledger-checks.ts):
 * kept apart because they read refunds against the transfers they name, not entries against audit rows.
 */
import type { Problem } from "./chain";

/**
 * Refunds, checked like any transfer above (a refund is a transfer), and against what they refund: each names a
 * succeeded transfer that is not itself a refund, goes back between the same two wallets the other way, in the
 * same currency, and the succeeded refunds of a transfer never sum past its amount. Run inside each partition:
 * a succeeded refund and the transfer it refunds both left entries in both wallets' partitions, so both rows are
 * in each (a refused refund, which moved nothing, may name a transfer whose row is elsewhere).
 */
export async function refundProblems(db: D1Database): Promise<Problem[]> {
  const rows = await db
    .prepare(
      `SELECT r.refund_of, o.transfer_id AS original, o.status, o.kind, o.refund_of AS original_refund_of, o.amount,
              sum(CASE WHEN r.status = 'succeeded' THEN r.amount ELSE 0 END) AS refunded,
              sum(CASE WHEN r.status = 'succeeded' AND (r.from_wallet_id IS NOT o.to_wallet_id OR r.to_wallet_id IS NOT o.from_wallet_id
                                                        OR r.currency IS NOT o.currency) THEN 1 ELSE 0 END) AS misrouted
         FROM audit_log r LEFT JOIN audit_log o ON o.transfer_id = r.refund_of
        WHERE r.refund_of IS NOT NULL
        GROUP BY r.refund_of
       HAVING (original IS NULL AND refunded > 0) OR (refunded > 0 AND (o.status <> 'succeeded' OR o.kind <> 'transfer' OR original_refund_of IS NOT NULL))
           OR refunded > o.amount OR misrouted > 0
        LIMIT 100`,
    )
    .all<{ refund_of: string; original: string | null; amount: number | null; refunded: number; misrouted: number }>();
  return rows.results.map((r) => ({
    wallet_id: null,
    seq: null,
    transfer_id: r.refund_of,
    kind: "refund_mismatch",
    detail:
      r.original === null
        ? "refunds name a transfer that has no audit row"
        : r.misrouted > 0
          ? `${r.misrouted} refunds do not go back between the transfer's wallets in its currency`
          : `succeeded refunds sum to ${r.refunded} of a transfer of ${r.amount ?? "?"}, or refund what cannot be refunded`,
  }));
}
