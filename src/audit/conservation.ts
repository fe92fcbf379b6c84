/**
 * The verifier's conservation check per currency (part of GET /audit/verify's ledger-wide checks,
 * src/audit/ledger-checks.ts): exact sums in SQLite, compared as BigInt, per partition and across them.
 */
import type { Problem } from "./chain";
import { PARTITION_OF, type Partitions } from "./partition-sql";

/** Exact per-currency totals of one partition, from SQLite's halves (see `conservationProblems`). */
type Totals = Map<string, Record<Side, bigint>>;
type Side = "entries" | "deposit" | "withdrawal" | "in" | "out" | "in_young" | "out_young";
const SIDES: readonly Side[] = ["entries", "deposit", "withdrawal", "in", "out", "in_young", "out_young"];

/**
 * One partition's totals per currency: its entries (currency from their audit row, which every entry has in
 * its own partition), its deposits and withdrawals (home rows: a deposit's one wallet is its home), and the
 * succeeded transfers that enter or leave it (recipient here and sender elsewhere, or the other way), all of
 * them and those younger than `young_after` (created at or after it) apart.
 */
async function partitionTotals(db: D1Database, index: number, young_after: string): Promise<Totals> {
  const halves = (column: string) => `CAST(sum(${column} >> 32) AS TEXT) AS hi, CAST(sum(${column} & 4294967295) AS TEXT) AS lo`;
  const crossing = (here: string, there: string) =>
    `kind = 'transfer' AND status = 'succeeded' AND ${here} IS NOT NULL AND ${PARTITION_OF(here)} = ?1
     AND (${there} IS NULL OR ${PARTITION_OF(there)} <> ?1)`;
  const rows = await db
    .prepare(
      `SELECT 'entries' AS side, a.currency AS currency, ${halves("e.amount")}
         FROM ledger_entries e JOIN audit_log a ON a.transfer_id = e.transfer_id GROUP BY a.currency
       UNION ALL
       SELECT kind AS side, currency, ${halves("amount")}
         FROM audit_log WHERE home = 1 AND status = 'succeeded' AND kind IN ('deposit', 'withdrawal') GROUP BY kind, currency
       UNION ALL
       SELECT CASE WHEN created_at >= ?2 THEN 'in_young' ELSE 'in' END AS side, currency, ${halves("amount")}
         FROM audit_log WHERE ${crossing("to_wallet_id", "from_wallet_id")} GROUP BY 1, currency
       UNION ALL
       SELECT CASE WHEN created_at >= ?2 THEN 'out_young' ELSE 'out' END AS side, currency, ${halves("amount")}
         FROM audit_log WHERE ${crossing("from_wallet_id", "to_wallet_id")} GROUP BY 1, currency`,
    )
    .bind(index, young_after)
    .all<{ side: Side; currency: string | null; hi: string | null; lo: string | null }>();
  const totals: Totals = new Map();
  for (const r of rows.results) {
    const key = r.currency ?? "no currency";
    const t = totals.get(key) ?? (Object.fromEntries(SIDES.map((side) => [side, 0n])) as Record<Side, bigint>);
    t[r.side] += BigInt(r.hi ?? "0") * 4_294_967_296n + BigInt(r.lo ?? "0");
    totals.set(key, t);
  }
  return totals;
}

/**
 * Conservation per currency: all entries sum to deposits minus withdrawals. Sums over many wallets pass 2^53,
 * where JavaScript numbers round (an outside probe made the check report a false, permanent problem with ten
 * nearly full wallets), and SQLite's own `sum()` stops with "integer overflow" at 2^63 (about 9,200 full
 * wallets). So each amount is split into its high and low 32 bits, each part is summed in SQLite (exact while
 * a currency has fewer than 2^31 rows), the parts come back as text, and the totals are put together and
 * compared as BigInt.
 *
 * With partitions, each partition must balance on its own (its entries are its deposits minus withdrawals
 * plus the transfers entering it minus those leaving it: its delivery batches are atomic, so this holds at
 * every instant), and the sum over partitions must balance up to the transfers between partitions younger
 * than `young_before_ms`, whose second half may still be on its way through an outbox.
 */
export async function conservationProblems(dbs: Partitions, young_before_ms = Date.now()): Promise<Problem[]> {
  const young_after = new Date(young_before_ms).toISOString();
  const problems: Problem[] = [];
  const all = new Map<string, { entries: bigint; net: bigint; in_flight: bigint }>();
  for (const [index, db] of dbs.entries()) {
    for (const [currency, t] of await partitionTotals(db, index, young_after)) {
      const net = t.deposit - t.withdrawal;
      const inward = t.in + t.in_young - t.out - t.out_young;
      // With one partition this is the check below, said once.
      if (dbs.length > 1 && t.entries !== net + inward)
        problems.push({
          wallet_id: null,
          seq: null,
          kind: "conservation",
          detail: `${currency} in partition ${index}: entries sum to ${t.entries}, but deposits minus withdrawals plus transfers in minus out is ${net + inward}`,
        });
      const sum = all.get(currency) ?? { entries: 0n, net: 0n, in_flight: 0n };
      sum.entries += t.entries;
      sum.net += net;
      sum.in_flight += t.in_young - t.out_young;
      all.set(currency, sum);
    }
  }
  for (const [currency, t] of all) {
    if (t.entries !== t.net + t.in_flight) {
      problems.push({
        wallet_id: null,
        seq: null,
        kind: "conservation",
        detail:
          t.in_flight === 0n
            ? `${currency}: all entries sum to ${t.entries}, but deposits minus withdrawals is ${t.net}`
            : `${currency}: all entries sum to ${t.entries}, but deposits minus withdrawals is ${t.net} (${t.in_flight} of recent transfers between partitions on their way)`,
      });
    }
  }
  return problems;
}
