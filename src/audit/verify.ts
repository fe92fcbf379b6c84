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
 */
import type { WalletObject } from "../wallet-object";
import type { EntryView } from "../domain/views";
import { verifyChain, type Problem } from "./chain";

/** The verifier's answer for one page. */
export interface VerifyReport {
  ok: boolean;
  wallets_checked: number;
  entries_checked: number;
  pending: number;
  problems: Problem[];
  next_cursor: string | null;
  progress: { wallets_done: number; wallets_total: number };
}

/** Settings of one verification run. */
export interface VerifyOptions {
  limit: number;
  cursor: string | null;
  hold_max_age_ms: number;
  outbox_grace_ms: number;
  now_ms: number;
}

const ENTRY_PAGE = 1_000;

type WalletStub = DurableObjectStub<WalletObject>;

async function d1Entries(db: D1Database, walletId: string): Promise<EntryView[]> {
  const out: EntryView[] = [];
  for (let after = 0; ; ) {
    const page = await db
      .prepare(
        "SELECT seq, id, kind, amount, balance_after, transfer_id, counterparty, memo, created_at, prev_hash, hash FROM ledger_entries WHERE wallet_id = ? AND seq > ? ORDER BY seq LIMIT ?",
      )
      .bind(walletId, after, ENTRY_PAGE)
      .all<EntryView>();
    out.push(...page.results);
    const last = page.results[page.results.length - 1];
    if (last === undefined || page.results.length < ENTRY_PAGE) return out;
    after = last.seq;
  }
}

/** The object's entries with seq in (after, upto], oldest first. */
async function objectEntries(stub: WalletStub, after: number, upto: number): Promise<EntryView[]> {
  const out: EntryView[] = [];
  for (let from = after; from < upto; ) {
    const page = await stub.entriesAfter(from, Math.min(ENTRY_PAGE, upto - from));
    out.push(...page.filter((e) => e.seq <= upto));
    const last = page[page.length - 1];
    if (last === undefined) return out;
    from = last.seq;
  }
  return out;
}

/**
 * D1's entries with every gap, and the tail D1 has not received yet, filled from the object: young ones count
 * as pending, old ones are problems. Returns the merged chain to verify.
 */
async function fillFromObject(
  walletId: string,
  mirrored: EntryView[],
  stub: WalletStub,
  objectLastSeq: number,
  opts: VerifyOptions,
  problems: Problem[],
): Promise<{ merged: EntryView[]; pending: number }> {
  const have = new Set(mirrored.map((e) => e.seq));
  const missing: number[] = [];
  for (let seq = 1; seq <= objectLastSeq; seq++) if (!have.has(seq)) missing.push(seq);
  if (missing.length === 0) return { merged: mirrored, pending: 0 };
  const first = missing[0] ?? 1;
  const fromObject = (await objectEntries(stub, first - 1, objectLastSeq)).filter((e) => !have.has(e.seq));
  let pending = 0;
  for (const e of fromObject) {
    const age = opts.now_ms - Date.parse(e.created_at);
    if (age < opts.outbox_grace_ms) pending++;
    else problems.push({ wallet_id: walletId, seq: e.seq, transfer_id: e.transfer_id, kind: "missing_in_d1", detail: `the wallet object has seq ${e.seq} (${e.kind} ${e.amount}) but D1 does not: deleted, or never delivered` });
  }
  const merged = [...mirrored, ...fromObject].sort((a, b) => a.seq - b.seq);
  return { merged, pending };
}

/** Verifies one wallet; returns the number of entries checked and pending. */
async function verifyWallet(db: D1Database, stub: WalletStub, walletId: string, opts: VerifyOptions, problems: Problem[]): Promise<{ entries: number; pending: number }> {
  const head = await stub.chainHead();
  if (head.code !== "ok") {
    problems.push({ wallet_id: walletId, seq: null, kind: "wallet_missing", detail: "D1 lists this wallet but its object has no state" });
    return { entries: 0, pending: 0 };
  }
  const mirrored = await d1Entries(db, walletId);
  const ahead = mirrored.filter((e) => e.seq > head.last_seq);
  for (const e of ahead) problems.push({ wallet_id: walletId, seq: e.seq, kind: "unknown_entry", detail: `D1 has seq ${e.seq} but the wallet object's chain ends at ${head.last_seq}` });
  const known = mirrored.filter((e) => e.seq <= head.last_seq);
  const { merged, pending } = await fillFromObject(walletId, known, stub, head.last_seq, opts, problems);
  const end = verifyChain(walletId, merged, problems);
  if (end.last_seq === head.last_seq && end.head_hash !== head.head_hash) {
    problems.push({ wallet_id: walletId, seq: head.last_seq, kind: "head_mismatch", detail: `D1's chain ends in ${end.head_hash.slice(0, 12)}…, the wallet object's in ${head.head_hash.slice(0, 12)}…` });
  }
  if (end.balance !== head.balance) {
    problems.push({ wallet_id: walletId, seq: head.last_seq, kind: "balance_mismatch", detail: `entries sum to ${end.balance} but the wallet's balance is ${head.balance}` });
  }
  if (head.oldest_hold_created_at_ms !== null && opts.now_ms - head.oldest_hold_created_at_ms > opts.hold_max_age_ms) {
    const age_s = Math.round((opts.now_ms - head.oldest_hold_created_at_ms) / 1_000);
    problems.push({ wallet_id: walletId, seq: null, kind: "stale_hold", detail: `a hold has been open for ${age_s} s (limit ${opts.hold_max_age_ms / 1_000} s)` });
  }
  return { entries: merged.length, pending };
}

/** Ledger-wide checks in D1: audit rows against entries, and conservation. */
async function verifyLedger(db: D1Database, problems: Problem[]): Promise<void> {
  const mismatched = await db
    .prepare(
      `SELECT a.transfer_id, a.kind, a.status, a.amount,
              count(e.seq) AS n,
              coalesce(sum(CASE WHEN e.amount > 0 THEN e.amount END), 0) AS credited,
              coalesce(sum(CASE WHEN e.amount < 0 THEN -e.amount END), 0) AS debited
       FROM audit_log a LEFT JOIN ledger_entries e ON e.transfer_id = a.transfer_id
       GROUP BY a.transfer_id
       HAVING NOT (
         (a.status = 'failed' AND n = 0) OR
         (a.status = 'succeeded' AND a.kind = 'transfer' AND n = 2 AND credited = a.amount AND debited = a.amount) OR
         (a.status = 'succeeded' AND a.kind = 'deposit' AND n = 1 AND credited = a.amount AND debited = 0) OR
         (a.status = 'succeeded' AND a.kind = 'withdrawal' AND n = 1 AND debited = a.amount AND credited = 0))
       LIMIT 100`,
    )
    .all<{ transfer_id: string; kind: string; status: string; amount: number; n: number; credited: number; debited: number }>();
  for (const r of mismatched.results) {
    problems.push({ wallet_id: null, seq: null, transfer_id: r.transfer_id, kind: "audit_entries_mismatch", detail: `${r.status} ${r.kind} of ${r.amount} has ${r.n} entries (credited ${r.credited}, debited ${r.debited})` });
  }
  const orphans = await db
    .prepare("SELECT e.wallet_id, e.seq, e.transfer_id FROM ledger_entries e LEFT JOIN audit_log a ON a.transfer_id = e.transfer_id AND a.status = 'succeeded' WHERE a.transfer_id IS NULL LIMIT 100")
    .all<{ wallet_id: string; seq: number; transfer_id: string }>();
  for (const o of orphans.results) {
    problems.push({ wallet_id: o.wallet_id, seq: o.seq, transfer_id: o.transfer_id, kind: "entry_without_audit", detail: "an entry whose movement has no succeeded audit row" });
  }
  const sums = await db
    .prepare(
      `SELECT (SELECT coalesce(sum(amount), 0) FROM ledger_entries) AS entries,
              (SELECT coalesce(sum(amount), 0) FROM audit_log WHERE status = 'succeeded' AND kind = 'deposit') AS deposits,
              (SELECT coalesce(sum(amount), 0) FROM audit_log WHERE status = 'succeeded' AND kind = 'withdrawal') AS withdrawals`,
    )
    .first<{ entries: number; deposits: number; withdrawals: number }>();
  if (sums !== null && sums.entries !== sums.deposits - sums.withdrawals) {
    problems.push({ wallet_id: null, seq: null, kind: "conservation", detail: `all entries sum to ${sums.entries}, but deposits minus withdrawals is ${sums.deposits - sums.withdrawals}` });
  }
}

/** Verifies one page of wallets (and, on the first page, the whole ledger's cross-checks). */
export async function verify(db: D1Database, wallets: DurableObjectNamespace<WalletObject>, opts: VerifyOptions): Promise<VerifyReport> {
  const problems: Problem[] = [];
  const after = opts.cursor ?? "";
  const page = await db.prepare("SELECT id FROM wallets WHERE id > ? ORDER BY id LIMIT ?").bind(after, opts.limit + 1).all<{ id: string }>();
  const ids = page.results.slice(0, opts.limit).map((r) => r.id);
  const total = (await db.prepare("SELECT count(*) AS n FROM wallets").first<{ n: number }>())?.n ?? 0;
  const done = (await db.prepare("SELECT count(*) AS n FROM wallets WHERE id <= ?").bind(ids[ids.length - 1] ?? after).first<{ n: number }>())?.n ?? 0;
  if (opts.cursor === null) await verifyLedger(db, problems);
  let entries = 0;
  let pending = 0;
  for (const id of ids) {
    const r = await verifyWallet(db, wallets.getByName(id), id, opts, problems);
    entries += r.entries;
    pending += r.pending;
  }
  const next_cursor = page.results.length > opts.limit ? (ids[ids.length - 1] ?? null) : null;
  return { ok: problems.length === 0, wallets_checked: ids.length, entries_checked: entries, pending, problems, next_cursor, progress: { wallets_done: done, wallets_total: total } };
}
