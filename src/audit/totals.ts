/**
 * Money in the system beside the sum of balances, over time (issue 18's auditor dashboard): for each of a few
 * time buckets, deposits minus withdrawals up to the bucket's end, from the audit rows, and the sum of every
 * wallet's balance at the bucket's end, from the ledger_entries mirror's `balance_after`. The two are computed
 * from different columns of different tables, so they agree only when the ledger conserves money; a bucket where
 * they differ is a finding the dashboard shows.
 *
 * The audit store may be split over several D1 databases. `totalsPartial` reads ONE database and answers running
 * totals for the wallets and rows it holds; running totals of disjoint parts add up, so the route sums the
 * partials of every database (`addPartials`) without knowing how the parts were cut.
 *
 * Cost: the running totals need everything before `from` too, so each call reads the audit rows before `to` and
 * the whole ledger_entries mirror of the currency, inside SQLite, which answers at most `buckets + 1` rows per
 * table. The balance side walks ledger_entries in its primary key order (wallet, seq) with one index lookup into
 * audit_log per entry: about the work of the conservation check audit/verify already runs. The bucket count and
 * the window are bounded by AUDIT_TOTALS_BUCKETS_MAX and AUDIT_TOTALS_WINDOW_DAYS_MAX, which bound the answer, not
 * the rows read.
 */

/** The time buckets asked for: `buckets` equal spans of [from_ms, to_ms), in one currency. */
export interface TotalsWindow {
  currency: string;
  from_ms: number;
  to_ms: number;
  buckets: number;
}

/** Running totals at the end of each bucket, in integer minor units (BigInt: sums over every wallet pass 2^53). */
export interface TotalsPartial {
  /** Deposits minus withdrawals that succeeded before each bucket's end. */
  net: bigint[];
  /** The sum of every wallet's balance after its last entry before each bucket's end. */
  balances: bigint[];
}

/**
 * The instant of an ISO 8601 `created_at` in whole milliseconds, exactly (julianday's float could put an entry
 * on a bucket edge into the wrong bucket). Every `created_at` the service writes is `Date.toISOString()`.
 */
const MS = (column: string) =>
  `(CAST(strftime('%s', ${column}) AS INTEGER) * 1000 + CAST(round(strftime('%f', ${column}) * 1000) AS INTEGER) % 1000)`;

/** The bucket of a row: -1 before the window, else 0..buckets-1 (rows at or after `to` are not read). */
const BUCKET = (column: string) => `CASE WHEN ${MS(column)} < ?2 THEN -1 ELSE CAST((${MS(column)} - ?2) / ?4 AS INTEGER) END`;

/**
 * Each amount is split into its high and low 32 bits and each part summed in SQLite, as audit/verify's
 * conservation check does: SQLite's sum() stops at 2^63, JavaScript numbers round past 2^53. The shift is
 * arithmetic, so a negative change splits as -1 and the low bits, and the parts still add back exactly.
 */
const SPLIT_SUM = (value: string) => `CAST(sum((${value}) >> 32) AS TEXT) AS hi, CAST(sum((${value}) & 4294967295) AS TEXT) AS lo`;

/**
 * Deposits add and withdrawals take away, as each succeeded at its audit row's time. Transfers move money
 * between wallets and change nothing here, and a failed movement moved nothing.
 */
const NET_SQL = `SELECT bucket, ${SPLIT_SUM("change")} FROM (
    SELECT ${BUCKET("created_at")} AS bucket, CASE kind WHEN 'deposit' THEN amount ELSE -amount END AS change
      FROM audit_log
     WHERE home = 1 AND status = 'succeeded' AND kind IN ('deposit', 'withdrawal') AND currency = ?1 AND created_at < ?3
  ) GROUP BY bucket`;

/**
 * A wallet's balance at an instant is the `balance_after` of its last entry before it; the sum over wallets is
 * the running sum of each entry's change of `balance_after` (the first entry's change is its whole
 * `balance_after`), which telescopes to exactly that. An entry is placed at its movement's audit-row time, so
 * both lines put one movement in the same bucket (the wallet stamps its entry a few milliseconds apart from the
 * coordinator's row). The currency is the audit row's too: in a partition other than the main database the
 * `wallets` table is empty, and every entry has its movement's audit row (or a copy of it) in its own partition,
 * which the verifier checks; an entry without one drops out here and the two lines part, which is the finding.
 * The cut at `to` is made on that time, so a movement is in both lines or in neither.
 */
const BALANCES_SQL = `SELECT bucket, ${SPLIT_SUM("change")} FROM (
    SELECT ${BUCKET("at")} AS bucket, change FROM (
      SELECT a.created_at AS at,
             e.balance_after - coalesce(lag(e.balance_after) OVER (PARTITION BY e.wallet_id ORDER BY e.seq), 0) AS change
        FROM ledger_entries e JOIN audit_log a ON a.transfer_id = e.transfer_id
       WHERE a.currency = ?1
    ) WHERE at < ?3
  ) GROUP BY bucket`;

interface BucketSum {
  bucket: number;
  hi: string | null;
  lo: string | null;
}

/** Per-bucket changes (bucket -1 is everything before the window) turned into running totals at each bucket's end. */
function runningTotals(rows: readonly BucketSum[], buckets: number): bigint[] {
  const changes = new Array<bigint>(buckets + 1).fill(0n);
  for (const r of rows) {
    const index = Math.min(buckets, Math.max(0, r.bucket + 1));
    changes[index] = (changes[index] ?? 0n) + BigInt(r.hi ?? "0") * 4_294_967_296n + BigInt(r.lo ?? "0");
  }
  const totals: bigint[] = [];
  let running = changes[0] ?? 0n;
  for (let i = 1; i <= buckets; i++) {
    running += changes[i] ?? 0n;
    totals.push(running);
  }
  return totals;
}

/** The width of one bucket in whole milliseconds (the last bucket ends at `to`, whatever the rounding). */
export function bucketWidthMs(window: TotalsWindow): number {
  return Math.ceil((window.to_ms - window.from_ms) / window.buckets);
}

/** Running totals of the wallets and audit rows held by one D1 database. */
export async function totalsPartial(db: D1Database, window: TotalsWindow): Promise<TotalsPartial> {
  const to = new Date(window.to_ms).toISOString();
  const params = [window.currency, window.from_ms, to, bucketWidthMs(window)];
  const [net, balances] = await db.batch<BucketSum>([db.prepare(NET_SQL).bind(...params), db.prepare(BALANCES_SQL).bind(...params)]);
  return { net: runningTotals(net?.results ?? [], window.buckets), balances: runningTotals(balances?.results ?? [], window.buckets) };
}

/** The totals of several disjoint parts of the audit store: running totals add up bucket by bucket. */
export function addPartials(parts: readonly TotalsPartial[], buckets: number): TotalsPartial {
  const sum = (pick: (p: TotalsPartial) => bigint[]) =>
    Array.from({ length: buckets }, (_, i) => parts.reduce((total, p) => total + (pick(p)[i] ?? 0n), 0n));
  return { net: sum((p) => p.net), balances: sum((p) => p.balances) };
}
