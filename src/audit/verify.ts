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
 *
 * This file walks the chains and puts the answer together; the ledger-wide checks are in ledger-checks.ts (with
 * refund-checks.ts and conservation.ts), the self-audit coverage in coverage.ts, the partition SQL in partition-sql.ts.
 */
import type { WalletObject } from "../wallet-object";
import type { TransferCoordinator } from "../transfer-coordinator";
import { movementOwner } from "../domain/ids";
import { partitionOfWallet } from "../db/partitions";
import type { EntryView } from "../domain/views";
import { GENESIS, verifyChain, type ChainEnd, type Problem } from "./chain";
import { coverageAfter } from "./coverage";
import { verifyLedger } from "./ledger-checks";
import { verifyLog, type LogCoverage, type LogVerifyOptions } from "./log-verify";
import type { Partitions } from "./partition-sql";

// The ledger-wide checks live in their own modules; their entry points are re-exported so importers keep one path.
export { conservationProblems } from "./conservation";
export { refundProblems } from "./refund-checks";
export type { Partitions } from "./partition-sql";

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
