/**
 * `GET /audit/verify`: proves, from D1 and the wallet objects, that no money was created, lost or rewritten.
 *
 * Per wallet (a page of wallets per call, with a cursor and progress): D1's mirror of the chain is recomputed
 * link by link; entries D1 lacks are looked up in the wallet object and reported as `pending` while younger
 * than OUTBOX_GRACE_MS (on their way through an outbox) and as `missing_in_d1` after that; the chain's head
 * must equal the wallet object's head, and its amounts must sum to the object's balance; no hold may be older
 * than HOLD_MAX_AGE_MS.
 *
 * Across the ledger (on the first page): every succeeded audit row has exactly the entries its kind implies
 * (a transfer one debit and one credit of its amount, a deposit one credit, a withdrawal one debit), failed
 * rows and unknown movements have none, and the sum of all entries equals deposits minus withdrawals. Each
 * movement reaches D1 in one batch with its entries, so these hold at every instant, outbox lag or not.
 *
 * Partitions (src/db/partitions.ts): a wallet's chain is read from its own partition; the ledger-wide checks
 * run inside each partition, where every entry has its audit row (a copy when the movement's home is
 * elsewhere), and conservation is summed across partitions exactly, a transfer between two partitions being
 * allowed to be on its way to the second one for OUTBOX_GRACE_MS.
 */
import type { WalletObject } from "../wallet-object";
import type { TransferCoordinator } from "../transfer-coordinator";
import { movementOwner } from "../domain/ids";
import { partitionOfWallet } from "../db/partitions";
import type { EntryView } from "../domain/views";
import { GENESIS, verifyChain, type ChainEnd, type Problem } from "./chain";
import { verifyLog, type LogCoverage, type LogVerifyOptions } from "./log-verify";

/** The verifier's answer: for one page of wallets, or (a v1 call, no cursor and no limit) the whole ledger. */
export interface VerifyReport {
  /** True only when `complete` and nothing is wrong: never for a part of the ledger. */
  ok: boolean;
  /** Whether every wallet's every mirrored entry was checked, live here or by the self-audit's marks. */
  complete: boolean;
  wallets_checked: number;
  entries_checked: number;
  pending: number;
  problems: Problem[];
  /** Problems beyond PROBLEMS_MAX are counted here instead of listed. */
  problems_omitted: number;
  /** Wallets this answer relied on the self-audit for (checked by it through their D1 head), and wallets nobody has checked yet. */
  verified_by_self_audit: number;
  unverified_wallets: number;
  next_cursor: string | null;
  progress: { wallets_done: number; wallets_total: number };
  /** The transparency log checked against D1 (src/audit/log-verify.ts), on the first page only. */
  log?: LogCoverage;
}

/** Settings of one verification run. */
export interface VerifyOptions {
  /** Wallets per page; null for a whole-ledger answer (a v1 client, which knows no cursor). */
  limit: number | null;
  cursor: string | null;
  /** A whole-ledger answer checks at most this many wallets live and relies on the self-audit for the rest. */
  whole_max_wallets: number;
  /** The coordinators, asked whether an old entry D1 lacks is still owed to it (see `stillOwed`). */
  coordinators: DurableObjectNamespace<TransferCoordinator>;
  /** How many of those questions this answer may still ask. */
  owed_lookups: { left: number };
  hold_max_age_ms: number;
  outbox_grace_ms: number;
  now_ms: number;
  /** The transparency log to check against D1 on the first page; absent: not checked. */
  log?: LogVerifyOptions;
}

/** Entries read per query, from D1 or from a wallet object: a chain of any length is checked in bounded memory. */
const ENTRY_PAGE = 1_000;
/** Problems listed in one answer; more are counted in `problems_omitted`. */
export const PROBLEMS_MAX = 1_000;

type WalletStub = DurableObjectStub<WalletObject>;

/** The audit store's partitions, main DB (the directory) first. */
export type Partitions = readonly D1Database[];

/** The partition holding `walletId`'s entries. */
function dbOf(dbs: Partitions, walletId: string): D1Database {
  const db = dbs[partitionOfWallet(walletId)];
  if (db === undefined) throw new Error(`invariant: wallet ${walletId} names an audit partition that is not configured`);
  return db;
}

/** D1's mirrored entries with seq in (after, upto], oldest first, at most one page. */
async function d1Page(db: D1Database, walletId: string, after: number, upto: number): Promise<EntryView[]> {
  const page = await db
    .prepare(
      "SELECT seq, id, kind, amount, balance_after, transfer_id, counterparty, memo, created_at, prev_hash, hash, refund_of FROM ledger_entries WHERE wallet_id = ? AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?",
    )
    .bind(walletId, after, upto, ENTRY_PAGE)
    .all<EntryView>();
  return page.results;
}

/** The contiguous run of `entries` that starts at `next` (stops at the first gap). */
function runFrom(next: number, entries: EntryView[]): EntryView[] {
  const out: EntryView[] = [];
  for (const e of entries) {
    if (e.seq !== next + out.length) break;
    out.push(e);
  }
  return out;
}

/**
 * Whether the coordinator that owns movement `transfer_id` still owes D1 its rows. Asked only for entries older
 * than the grace period (an outage can hold them back much longer), at most OWED_LOOKUPS_MAX times per answer;
 * past that, age alone decides.
 */
async function stillOwed(
  coordinators: DurableObjectNamespace<TransferCoordinator>,
  transfer_id: string,
  budget: { left: number },
): Promise<boolean> {
  const owner = movementOwner(transfer_id);
  if (owner === null || budget.left <= 0) return false;
  budget.left--;
  return (await coordinators.getByName(owner).outboxState(transfer_id)).code === "owed";
}

/** Coordinators asked per answer whether they still owe an old entry (see `stillOwed`). */
export const OWED_LOOKUPS_MAX = 200;

/**
 * Entries D1 lacks, from the wallet object, seq in (after, upto], at most one page: young ones, and old ones
 * whose coordinator still owes them to D1 (held back by an outage), count as pending; the rest are problems.
 */
async function fromObject(
  walletId: string,
  stub: WalletStub,
  after: number,
  upto: number,
  opts: VerifyOptions,
  problems: Problem[],
): Promise<{ entries: EntryView[]; pending: number }> {
  const page = (await stub.entriesAfter(after, Math.min(ENTRY_PAGE, upto - after))).filter((e) => e.seq <= upto);
  let pending = 0;
  for (const e of page) {
    if (
      opts.now_ms - Date.parse(e.created_at) < opts.outbox_grace_ms ||
      (await stillOwed(opts.coordinators, e.transfer_id, opts.owed_lookups))
    )
      pending++;
    else
      problems.push({
        wallet_id: walletId,
        seq: e.seq,
        transfer_id: e.transfer_id,
        kind: "missing_in_d1",
        detail: `the wallet object has seq ${e.seq} (${e.kind} ${e.amount}) but D1 does not: deleted, or never delivered`,
      });
  }
  return { entries: page, pending };
}

/**
 * Verifies one wallet, streaming its chain a page at a time: D1's entries where D1 has them, the object's
 * where D1 has a gap or has not received the tail yet. Returns the entries checked and pending.
 */
async function verifyWallet(
  dbs: Partitions,
  stub: WalletStub,
  walletId: string,
  opts: VerifyOptions,
  problems: Problem[],
): Promise<{ entries: number; pending: number }> {
  const db = dbOf(dbs, walletId);
  const head = await stub.chainHead();
  if (head.code !== "ok") {
    problems.push({ wallet_id: walletId, seq: null, kind: "wallet_missing", detail: "D1 lists this wallet but its object has no state" });
    return { entries: 0, pending: 0 };
  }
  let end: ChainEnd = GENESIS;
  let entries = 0;
  let pending = 0;
  while (end.last_seq < head.last_seq && problems.length <= PROBLEMS_MAX) {
    const next = end.last_seq + 1;
    const mirrored = runFrom(next, await d1Page(db, walletId, end.last_seq, head.last_seq));
    let chunk = mirrored;
    if (chunk.length === 0) {
      // D1 lacks `next`: fill the gap (up to D1's next entry, or the head) from the object.
      const upto = (await d1Page(db, walletId, end.last_seq, head.last_seq))[0]?.seq ?? head.last_seq + 1;
      const filled = await fromObject(walletId, stub, end.last_seq, upto - 1, opts, problems);
      pending += filled.pending;
      chunk = filled.entries;
      if (chunk.length === 0) {
        problems.push({ wallet_id: walletId, seq: next, kind: "gap", detail: `neither D1 nor the wallet object has seq ${next}` });
        break;
      }
    }
    end = verifyChain(walletId, chunk, problems, end);
    entries += chunk.length;
  }
  const ahead = await db
    .prepare("SELECT seq FROM ledger_entries WHERE wallet_id = ? AND seq > ? ORDER BY seq LIMIT 100")
    .bind(walletId, head.last_seq)
    .all<{ seq: number }>();
  for (const e of ahead.results)
    problems.push({
      wallet_id: walletId,
      seq: e.seq,
      kind: "unknown_entry",
      detail: `D1 has seq ${e.seq} but the wallet object's chain ends at ${head.last_seq}`,
    });
  if (end.last_seq === head.last_seq && end.head_hash !== head.head_hash) {
    problems.push({
      wallet_id: walletId,
      seq: head.last_seq,
      kind: "head_mismatch",
      detail: `D1's chain ends in ${end.head_hash.slice(0, 12)}…, the wallet object's in ${head.head_hash.slice(0, 12)}…`,
    });
  }
  if (end.last_seq === head.last_seq && end.balance !== head.balance) {
    problems.push({
      wallet_id: walletId,
      seq: head.last_seq,
      kind: "balance_mismatch",
      detail: `entries sum to ${end.balance} but the wallet's balance is ${head.balance}`,
    });
  }
  if (head.oldest_hold_created_at_ms !== null && opts.now_ms - head.oldest_hold_created_at_ms > opts.hold_max_age_ms) {
    const age_s = Math.round((opts.now_ms - head.oldest_hold_created_at_ms) / 1_000);
    problems.push({
      wallet_id: walletId,
      seq: null,
      kind: "stale_hold",
      detail: `a hold has been open for ${age_s} s (limit ${opts.hold_max_age_ms / 1_000} s)`,
    });
  }
  return { entries, pending };
}

/**
 * The partition index a wallet id names, in SQL (the same rule as `partitionOfWallet`): `wal_p<k>_...` is k,
 * anything else 0.
 */
const PARTITION_OF = (column: string): string =>
  `(CASE WHEN ${column} GLOB 'wal_p[1-9]_*' THEN CAST(substr(${column}, 6, 1) AS INTEGER)
         WHEN ${column} GLOB 'wal_p[1-9][0-9]_*' THEN CAST(substr(${column}, 6, 2) AS INTEGER) ELSE 0 END)`;

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
async function verifyLedger(dbs: Partitions, opts: VerifyOptions, problems: Problem[]): Promise<void> {
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

/** What one pass over a run of wallets found. */
interface Pass {
  ids: string[];
  entries: number;
  pending: number;
  more: boolean;
}

/** Verifies up to `limit` wallets after `after`, in id order. */
async function verifyWallets(
  dbs: Partitions,
  wallets: DurableObjectNamespace<WalletObject>,
  after: string,
  limit: number,
  opts: VerifyOptions,
  problems: Problem[],
): Promise<Pass> {
  const db = dbs[0];
  if (db === undefined) throw new Error("invariant: no main database");
  const page = await db
    .prepare("SELECT id FROM wallets WHERE id > ? ORDER BY id LIMIT ?")
    .bind(after, limit + 1)
    .all<{ id: string }>();
  const ids = page.results.slice(0, limit).map((r) => r.id);
  const pass: Pass = { ids, entries: 0, pending: 0, more: page.results.length > limit };
  for (const id of ids) {
    const r = await verifyWallet(dbs, wallets.getByName(id), id, opts, problems);
    pass.entries += r.entries;
    pass.pending += r.pending;
  }
  return pass;
}

/**
 * The wallets after `after` that the self-audit has checked through their D1 head (covered) and those it has
 * not (unverified), partition by partition. A wallet whose D1 entry at its mark no longer has the hash the self-audit verified was
 * rewritten after the check: a problem, named by wallet and seq. Open findings become problems here too, since
 * a finding keeps a wallet's mark in place. Everything is aggregated in D1: the answer is small at any size.
 */
async function coverageAfter(dbs: Partitions, after: string, problems: Problem[]): Promise<{ covered: number; unverified: number }> {
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

/**
 * Verifies one page of wallets (and, on the first page, the whole ledger's cross-checks), or, for a v1 call
 * with no cursor and no limit, the whole ledger: up to `whole_max_wallets` wallets live, the rest through the
 * self-audit's marks. `ok` is true only for an answer that covers the whole ledger and found nothing.
 */
export async function verify(dbs: Partitions, wallets: DurableObjectNamespace<WalletObject>, opts: VerifyOptions): Promise<VerifyReport> {
  const db = dbs[0];
  if (db === undefined) throw new Error("invariant: no main database");
  const problems: Problem[] = [];
  const after = opts.cursor ?? "";
  const total = (await db.prepare("SELECT count(*) AS n FROM wallets").first<{ n: number }>())?.n ?? 0;
  if (opts.cursor === null) await verifyLedger(dbs, opts, problems);
  const log = opts.cursor === null && opts.log !== undefined ? await verifyLog(dbs, opts.log, problems) : undefined;
  const whole = opts.limit === null;
  const pass = await verifyWallets(dbs, wallets, after, opts.limit ?? opts.whole_max_wallets, opts, problems);
  const last = pass.ids[pass.ids.length - 1] ?? after;
  const done = (await db.prepare("SELECT count(*) AS n FROM wallets WHERE id <= ?").bind(last).first<{ n: number }>())?.n ?? 0;
  // A whole-ledger answer past its live budget leans on the self-audit for the rest, and says how much.
  const rest = whole && pass.more ? await coverageAfter(dbs, last, problems) : { covered: 0, unverified: 0 };
  const complete = opts.cursor === null && (!pass.more || (whole && rest.unverified === 0));
  const problems_omitted = Math.max(0, problems.length - PROBLEMS_MAX);
  return {
    ok: complete && problems.length === 0,
    complete,
    wallets_checked: pass.ids.length,
    entries_checked: pass.entries,
    pending: pass.pending,
    problems: problems.slice(0, PROBLEMS_MAX),
    problems_omitted,
    verified_by_self_audit: rest.covered,
    unverified_wallets: rest.unverified,
    next_cursor: !whole && pass.more ? last : null,
    progress: { wallets_done: done, wallets_total: total },
    ...(log === undefined ? {} : { log }),
  };
}
