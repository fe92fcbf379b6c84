/**
 * The continuous self-audit, run by a Cron Trigger. Each run takes the wallets verified least recently, and
 * for each recomputes the entries D1 has received since its mark (the seq through which the chain was already
 * verified), continuing the chain from the mark's hash. If the new links are sound and the wallet object
 * confirms its own entry at the new end has the same hash, the mark moves forward, in D1 and on the wallet
 * (whose view and live feed then carry it). Anything wrong is recorded in `audit_findings` and logged, and
 * the mark stays where it was. A gap (an entry still in an outbox) simply ends this run's progress.
 *
 * A run spreads its wallets over `spread_ms`, pausing between them. Its total work is small (about 1 % of a
 * busy local server's thread), but done in one burst it took that thread from the money path for a second or
 * two at the top of every minute: every transfer slower than 400 ms in a 75 s benchmark fell there
 * (docs/performance.md). A mark only ever moves forward, so a run that overlaps the next one cannot undo it.
 */
import { asc, eq, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { auditFindings, verifiedMarks, wallets } from "../db/schema";
import { sleep } from "../domain/delays";
import type { EntryView } from "../domain/views";
import { log } from "../observability/log";
import type { WalletObject } from "../wallet-object";
import { GENESIS, verifyChain, type ChainEnd, type Problem } from "./chain";

/** Limits of one run. */
export interface SelfAuditLimits {
  wallets_per_run: number;
  entries_per_wallet: number;
  /** A run pauses `spread_ms / wallets_per_run` between wallets, so a full run lasts about this long (0: no pause). */
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

async function auditWallet(env: Env, walletId: string, mark: ChainEnd, limits: SelfAuditLimits, now: string): Promise<{ advanced: boolean; problems: Problem[] }> {
  const rows = await env.DB.prepare(
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
  await drizzle(env.DB)
    .insert(verifiedMarks)
    .values(row)
    .onConflictDoUpdate({ target: verifiedMarks.wallet_id, set: row, setWhere: sql`${verifiedMarks.seq} <= ${row.seq}` });
  return { advanced: true, problems };
}

/** One run of the self-audit over the least recently verified wallets. */
export async function selfAudit(env: Env, limits: SelfAuditLimits, now_ms: number): Promise<SelfAuditResult> {
  const db = drizzle(env.DB);
  const now = new Date(now_ms).toISOString();
  const due = await db
    .select({ id: wallets.id, seq: verifiedMarks.seq, hash: verifiedMarks.hash, balance: verifiedMarks.balance })
    .from(wallets)
    .leftJoin(verifiedMarks, eq(verifiedMarks.wallet_id, wallets.id))
    .orderBy(sql`${verifiedMarks.verified_at} IS NOT NULL`, asc(verifiedMarks.verified_at))
    .limit(limits.wallets_per_run)
    .all();
  const result: SelfAuditResult = { wallets: due.length, advanced: 0, findings: 0 };
  const pause_ms = Math.floor(limits.spread_ms / limits.wallets_per_run);
  for (const [i, w] of due.entries()) {
    if (i > 0 && pause_ms > 0) await sleep(pause_ms);
    const mark: ChainEnd = w.seq === null || w.hash === null || w.balance === null ? GENESIS : { last_seq: w.seq, head_hash: w.hash, balance: w.balance };
    const { advanced, problems } = await auditWallet(env, w.id, mark, limits, now);
    if (advanced) result.advanced++;
    else if (problems.length === 0) {
      // Nothing new: note the visit, so the next run starts with other wallets.
      const row = { wallet_id: w.id, seq: mark.last_seq, hash: mark.head_hash, balance: mark.balance, verified_at: now };
      await db.insert(verifiedMarks).values(row).onConflictDoUpdate({ target: verifiedMarks.wallet_id, set: { verified_at: now } });
    }
    for (const p of problems) {
      result.findings++;
      await db.insert(auditFindings).values({ wallet_id: p.wallet_id, entry_seq: p.seq, kind: p.kind, detail: p.detail, found_at: now });
      log("error", "self-audit finding", { wallet_id: p.wallet_id, seq: p.seq, kind: p.kind, detail: p.detail });
    }
  }
  return result;
}
