/**
 * The continuous self-audit, run by a Cron Trigger. Each run takes the wallets that changed since the last run
 * (those named by the audit rows D1 has received since its position in `cron_cursors`), and for each
 * recomputes the entries D1 has received since its verified mark (the seq through which the chain was already
 * verified), continuing the chain from the mark's hash. If the new links are sound and the wallet object
 * confirms its own entry at the new end has the same hash, the mark moves forward, in D1 and on the wallet
 * (whose view and live feed then carry it). Anything wrong is recorded in `audit_findings` and logged, and
 * the mark stays where it was. A gap (an entry still in an outbox) simply ends that wallet's progress; the
 * missing entry arrives with its own audit row, which names the wallet again.
 *
 * A run's work follows the traffic: a quiet minute costs one query, and a busy one audits up to
 * `wallets_per_run` wallets, leaving the rest to the next run (the auditor's view shows how far behind it is).
 * It used to take a fixed 100 least-recently-verified wallets, so with 2,000 wallets one pass took 20 minutes
 * whatever had changed (issue 19).
 *
 * Partitions (src/db/partitions.ts): each partition's audit rows are scanned after that partition's position
 * (the job's position is the list of them, comma-separated; a lone number is partition 0's, as written before
 * partitions), a wallet's entries are read from its partition and its mark is kept there beside them, so that
 * the verifier can compare marks and chains inside one database. Findings stay in the main database.
 *
 * A run spreads its wallets over `spread_ms`, pausing between them. Its total work is small, but done in one
 * burst it took the local server's thread from the money path for a second or two at the top of every minute
 * (docs/performance.md). A mark only ever moves forward, and so does the run's position, so a run that overlaps
 * the next one cannot undo it.
 */
import { eq, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { auditFindings, cronCursors, verifiedMarks } from "../db/schema";
import { sleep } from "../domain/delays";
import { partitionDbs, walletDb } from "../db/partitions";
import type { EntryView } from "../domain/views";
import { log } from "../observability/log";
import type { WalletObject } from "../wallet-object";
import { GENESIS, verifyChain, type ChainEnd, type Problem } from "./chain";

/** Limits of one run. */
export interface SelfAuditLimits {
  wallets_per_run: number;
  entries_per_wallet: number;
  /** A run pauses `spread_ms / wallets` between the wallets it audits, so it lasts about this long (0: no pause). */
  spread_ms: number;
}

/** What one run did. */
export interface SelfAuditResult {
  wallets: number;
  advanced: number;
  findings: number;
}

/** The contiguous run of entries right after the mark (stops at the first gap). */
function contiguous(from: number, entries: EntryView[]): EntryView[] {
  const out: EntryView[] = [];
  let expected = from + 1;
  for (const e of entries) {
    if (e.seq !== expected) break;
    out.push(e);
    expected++;
  }
  return out;
}

async function auditWallet(
  env: Env,
  walletId: string,
  mark: ChainEnd,
  limits: SelfAuditLimits,
  now: string,
): Promise<{ advanced: boolean; problems: Problem[] }> {
  const db = walletDb(env, walletId);
  const rows = await db
    .prepare(
      "SELECT seq, id, kind, amount, balance_after, transfer_id, counterparty, memo, created_at, prev_hash, hash FROM ledger_entries WHERE wallet_id = ? AND seq > ? ORDER BY seq LIMIT ?",
    )
    .bind(walletId, mark.last_seq, limits.entries_per_wallet)
    .all<EntryView>();
  const fresh = contiguous(mark.last_seq, rows.results);
  const problems: Problem[] = [];
  const end = verifyChain(walletId, fresh, problems, mark);
  if (problems.length > 0 || end.last_seq === mark.last_seq) return { advanced: false, problems };
  const stub: DurableObjectStub<WalletObject> = env.WALLET.getByName(walletId);
  const confirmed = await stub.markVerified(end.last_seq, end.head_hash);
  if (confirmed.code === "mismatch" || confirmed.code === "not_found") {
    const detail = confirmed.code === "mismatch" ? confirmed.detail : "the wallet object has no state";
    return { advanced: false, problems: [{ wallet_id: walletId, seq: end.last_seq, kind: "head_mismatch", detail }] };
  }
  const row = { wallet_id: walletId, seq: end.last_seq, hash: end.head_hash, balance: end.balance, verified_at: now };
  await drizzle(db)
    .insert(verifiedMarks)
    .values(row)
    .onConflictDoUpdate({ target: verifiedMarks.wallet_id, set: row, setWhere: sql`${verifiedMarks.seq} <= ${row.seq}` });
  return { advanced: true, problems };
}

/** The wallets a run audits, and per partition the audit row through which they cover every change. */
interface Due {
  wallet_ids: string[];
  through: number[];
}

/**
 * The wallets named by partition `db`'s audit rows after `after_seq`, oldest first, at most `max_wallets` new
 * ones added to `wallets`: a row is taken only with all its wallets, so that the position returned covers every
 * row up to it.
 */
async function changedSince(db: D1Database, after_seq: number, max_wallets: number, wallets: Set<string>): Promise<number> {
  const scan = await db
    .prepare("SELECT seq, from_wallet_id, to_wallet_id FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?")
    .bind(after_seq, max_wallets * ROWS_SCANNED_PER_WALLET)
    .all<{ seq: number; from_wallet_id: string | null; to_wallet_id: string | null }>();
  const limit = wallets.size + max_wallets;
  let through_seq = after_seq;
  for (const row of scan.results) {
    const named = [row.from_wallet_id, row.to_wallet_id].filter((w): w is string => w !== null && !wallets.has(w));
    if (wallets.size + named.length > limit) break;
    for (const w of named) wallets.add(w);
    through_seq = row.seq;
  }
  return through_seq;
}

/**
 * Every partition's changed wallets, each partition with an equal share of `max_wallets` (rounded up, so the
 * whole budget is used), so that a busy partition cannot keep the others waiting.
 */
async function dueWallets(env: Env, after: readonly number[], max_wallets: number): Promise<Due> {
  const dbs = partitionDbs(env);
  const share = Math.ceil(max_wallets / dbs.length);
  const wallets = new Set<string>();
  const through: number[] = [];
  for (const [i, db] of dbs.entries()) {
    const budget = Math.min(share, max_wallets - wallets.size);
    through.push(budget > 0 ? await changedSince(db, after[i] ?? 0, budget, wallets) : (after[i] ?? 0));
  }
  // What a quiet partition left unused goes to the others, continuing where each stopped.
  for (const [i, db] of dbs.entries()) {
    const budget = max_wallets - wallets.size;
    if (budget > 0) through[i] = await changedSince(db, through[i] ?? 0, budget, wallets);
  }
  return { wallet_ids: [...wallets], through };
}

/** Audit rows read per wallet a run may audit: a busy wallet appears in many rows, and the scan stays bounded. */
const ROWS_SCANNED_PER_WALLET = 4;

/** The job's position: one audit row seq per partition ("12,40"; "12" from before partitions is partition 0's). */
function parsePosition(text: string | undefined): number[] {
  return text === undefined || text === "" ? [] : text.split(",").map(Number);
}

async function cursorOf(env: Env): Promise<{ text: string | undefined; seqs: number[] }> {
  const row = await drizzle(env.DB)
    .select({ position: cronCursors.position })
    .from(cronCursors)
    .where(eq(cronCursors.name, "self_audit"))
    .get();
  return { text: row?.position, seqs: parsePosition(row?.position) };
}

/**
 * Moves the run's position forward, partition by partition (never back: an older run that ends late cannot undo
 * a newer one). A compare-and-set on the text read, repeated with the newer position if another run moved it.
 */
async function advanceCursor(env: Env, through: readonly number[], now: string): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const current = await cursorOf(env);
    const merged = through.map((seq, i) => Math.max(seq, current.seqs[i] ?? 0)).join(",");
    const row = { name: "self_audit" as const, position: merged, updated_at: now };
    const written =
      current.text === undefined
        ? await drizzle(env.DB).insert(cronCursors).values(row).onConflictDoNothing().run()
        : await drizzle(env.DB)
            .update(cronCursors)
            .set(row)
            .where(sql`${cronCursors.name} = 'self_audit' AND ${cronCursors.position} = ${current.text}`)
            .run();
    if (written.meta.changes > 0) return;
  }
}

/**
 * One run of the self-audit: every wallet that changed since the last run (named by the audit rows D1 has
 * received since), up to `wallets_per_run`; the rest are the next run's. A run's work therefore follows the
 * traffic, not the number of wallets, and a quiet minute costs one query.
 */
export async function selfAudit(env: Env, limits: SelfAuditLimits, now_ms: number): Promise<SelfAuditResult> {
  const db = drizzle(env.DB);
  const now = new Date(now_ms).toISOString();
  const due = await dueWallets(env, (await cursorOf(env)).seqs, limits.wallets_per_run);
  const result: SelfAuditResult = { wallets: due.wallet_ids.length, advanced: 0, findings: 0 };
  const marks = await marksOf(env, due.wallet_ids);
  const pause_ms = due.wallet_ids.length > 1 ? Math.floor(limits.spread_ms / due.wallet_ids.length) : 0;
  for (const [i, wallet_id] of due.wallet_ids.entries()) {
    if (i > 0 && pause_ms > 0) await sleep(pause_ms);
    const mark = marks.get(wallet_id) ?? GENESIS;
    const { advanced, problems } = await auditWallet(env, wallet_id, mark, limits, now);
    if (advanced) result.advanced++;
    for (const p of problems) {
      result.findings++;
      await db.insert(auditFindings).values({ wallet_id: p.wallet_id, entry_seq: p.seq, kind: p.kind, detail: p.detail, found_at: now });
      log("error", "self-audit finding", { wallet_id: p.wallet_id, seq: p.seq, kind: p.kind, detail: p.detail });
    }
  }
  await advanceCursor(env, due.through, now);
  return result;
}

/** The verified marks of `wallet_ids`, each read from its wallet's partition (a wallet never verified has none). */
async function marksOf(env: Env, wallet_ids: string[]): Promise<Map<string, ChainEnd>> {
  const marks = new Map<string, ChainEnd>();
  const byDb = new Map<D1Database, string[]>();
  for (const id of wallet_ids) {
    const db = walletDb(env, id);
    byDb.set(db, [...(byDb.get(db) ?? []), id]);
  }
  for (const [db, ids] of byDb) {
    const rows = await db
      .prepare("SELECT wallet_id, seq, hash, balance FROM verified_marks WHERE wallet_id IN (SELECT value FROM json_each(?))")
      .bind(JSON.stringify(ids))
      .all<{ wallet_id: string; seq: number; hash: string; balance: number }>();
    for (const r of rows.results) marks.set(r.wallet_id, { last_seq: r.seq, head_hash: r.hash, balance: r.balance });
  }
  return marks;
}

/** How far the self-audit is behind the audit log, for the auditor's view. */
export interface SelfAuditStatus {
  /** The last audit row whose wallets have been audited, and the newest audit row. */
  audited_through_seq: number;
  newest_seq: number;
  /** Audit rows received but not yet covered by a run (counted up to `BACKLOG_COUNT_MAX`). */
  backlog_rows: number;
  /** When the oldest row not yet covered was created, and how long ago that is; null when none is waiting. */
  oldest_waiting_at: string | null;
  lag_ms: number;
  /** When a run last moved the position; null before the first run. */
  last_run_at: string | null;
  /** Findings recorded so far (append-only). */
  findings: number;
}

/** The backlog is counted up to this many rows, so the status query stays cheap however far behind it is. */
export const BACKLOG_COUNT_MAX = 100_000;

/**
 * The self-audit's position against the audit log. With partitions, the seqs are sums over partitions (rows
 * audited and rows received, since each partition's seqs count its rows), the backlog a sum, and the oldest row
 * waiting the oldest of any partition.
 */
export async function selfAuditStatus(env: Env, now_ms: number): Promise<SelfAuditStatus> {
  const cursor = await drizzle(env.DB).select().from(cronCursors).where(eq(cronCursors.name, "self_audit")).get();
  const through = parsePosition(cursor?.position);
  const status = { audited_through_seq: 0, newest_seq: 0, backlog_rows: 0, oldest_waiting_at: null as string | null };
  for (const [i, db] of partitionDbs(env).entries()) {
    const after = through[i] ?? 0;
    const [newest, backlog, oldest] = await db.batch<{ n: number | null; at?: string }>([
      db.prepare("SELECT MAX(seq) AS n FROM audit_log"),
      db.prepare("SELECT COUNT(*) AS n FROM (SELECT 1 FROM audit_log WHERE seq > ? LIMIT ?)").bind(after, BACKLOG_COUNT_MAX),
      db.prepare("SELECT seq AS n, created_at AS at FROM audit_log WHERE seq > ? ORDER BY seq LIMIT 1").bind(after),
    ]);
    status.audited_through_seq += after;
    status.newest_seq += newest?.results[0]?.n ?? 0;
    status.backlog_rows = Math.min(BACKLOG_COUNT_MAX, status.backlog_rows + (backlog?.results[0]?.n ?? 0));
    const at = oldest?.results[0]?.at;
    if (at !== undefined && (status.oldest_waiting_at === null || at < status.oldest_waiting_at)) status.oldest_waiting_at = at;
  }
  const findings = await env.DB.prepare("SELECT COUNT(*) AS n FROM audit_findings").first<{ n: number }>();
  return {
    ...status,
    lag_ms: status.oldest_waiting_at === null ? 0 : Math.max(0, now_ms - Date.parse(status.oldest_waiting_at)),
    last_run_at: cursor?.updated_at ?? null,
    findings: findings?.n ?? 0,
  };
}
