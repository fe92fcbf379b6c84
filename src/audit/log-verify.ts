/**
 * The auditor's check of the transparency log against D1 (part of GET /audit/verify, on its first page):
 *
 * - the latest checkpoint's signature verifies with the log's key;
 * - every audit partition's entries (src/db/partitions.ts), read in that partition's rowid order (the order the
 *   log appends them in), are the log's leaves from that partition one for one: every entry a leaf exactly
 *   once, at its place among its partition's leaves, recorded with its own rowid, with the hash D1 holds now (an
 *   entry rewritten in D1 after it was logged no longer matches its leaf; an entry the log skipped shifts every
 *   leaf of its partition after it). How the partitions' leaves interleave is the log's choice, fixed once made;
 * - the checkpoint's root is the tree over those leaves: recomputed from D1's entries (placed in leaf order) for
 *   the windows checked and the tail, from the log's stored window hashes for the rest (each window hash is
 *   itself compared with D1's entries when its window is checked);
 * - no entry of any partition older than LOG_COVER_MAX_MS is outside every signed checkpoint.
 *
 * A window's rows are read from each partition after the rowid of that partition's last leaf before the window
 * (the log's auditView says which), as many as the window has leaves from it; a partition that cannot be read
 * fails the whole check (the route answers 503), so a report never passes a partition it did not see.
 *
 * The work is bounded: leaves are compared in windows of WINDOW leaves (one stored node each), at most
 * LOG_VERIFY_LEAVES_MAX per call: the newest complete window and the tail always, then windows in a rotation
 * that moves on every minute, so that calls over time (the auditor's, and the Cron's every minute) cover every
 * window, each again every (leaves / LOG_VERIFY_LEAVES_MAX) minutes. The answer says how many leaves it compared.
 */
import { EMPTY_ROOT, foldSubtrees, completeSubtrees, hashFromHex, hashToHex, leafHash, logLeaf, nodeHash, rootOf } from "../domain/merkle";
import { checkNoteSignature, parseCheckpointBody, parseNote } from "../domain/signed-note";
import { configOf } from "../config";
import type { AuditView, TransparencyLog } from "../log-object";
import { LOG_OBJECT_NAME } from "../log/name";
import { logSigner } from "../log/keys";
import type { LeafRow } from "../log/tree";
import type { Problem } from "./chain";

/** Leaves per compared window: 2^WINDOW_LEVEL, one stored node each. */
export const WINDOW_LEVEL = 10;
export const WINDOW = 2 ** WINDOW_LEVEL;

/** Entries counted per call when looking for entries in no checkpoint. */
const UNCOVERED_COUNT_MAX = 10_000;

/** Settings of the log check. */
export interface LogVerifyOptions {
  log: DurableObjectStub<TransparencyLog>;
  /** The log's verifier key: the checkpoint must be signed by it. */
  key: Parameters<typeof checkNoteSignature>[1];
  leaves_max: number;
  cover_max_ms: number;
  now_ms: number;
}

/** What the log check covered. */
export interface LogCoverage {
  tree_size: number;
  leaves_checked: number;
  /** Entries in D1 that no signed checkpoint covers yet (counted up to 10,000). */
  uncovered: number;
}

interface D1Row {
  rowid: number;
  wallet_id: string;
  seq: number;
  hash: string;
  created_at: string;
}

async function d1After(db: D1Database, afterRowid: number, count: number): Promise<D1Row[]> {
  if (count === 0) return [];
  return (
    await db
      .prepare("SELECT rowid, wallet_id, seq, hash, created_at FROM ledger_entries WHERE rowid > ? ORDER BY rowid LIMIT ?")
      .bind(afterRowid, count)
      .all<D1Row>()
  ).results;
}

/**
 * The D1 rows in the places of a run of leaves: for each partition the run draws from, as many of its rows after
 * `after[partition]` as the run has leaves from it, handed out to those leaves in order. A place is undefined
 * where the partition has no row for it (or the leaf names a partition that is not configured).
 */
async function rowsInLeafOrder(
  dbs: readonly D1Database[],
  after: readonly number[],
  leaves: readonly LeafRow[],
): Promise<(D1Row | undefined)[]> {
  const counts = new Map<number, number>();
  for (const leaf of leaves) counts.set(leaf.source_partition, (counts.get(leaf.source_partition) ?? 0) + 1);
  const pages = new Map<number, D1Row[]>();
  await Promise.all(
    [...counts].map(async ([partition, count]) => {
      const db = dbs[partition];
      pages.set(partition, db === undefined ? [] : await d1After(db, after[partition] ?? 0, count));
    }),
  );
  const taken = new Map<number, number>();
  return leaves.map((leaf) => {
    const i = taken.get(leaf.source_partition) ?? 0;
    taken.set(leaf.source_partition, i + 1);
    return pages.get(leaf.source_partition)?.[i];
  });
}

/** Compares a run of leaves with D1's rows in the same places; reports each difference. Returns whether all matched. */
function compareRun(leaves: readonly LeafRow[], rows: readonly (D1Row | undefined)[], problems: Problem[]): boolean {
  let ok = true;
  for (let i = 0; i < leaves.length; i++) {
    const leaf = leaves[i] as LeafRow;
    const row = rows[i];
    if (row === undefined) {
      problems.push({
        wallet_id: leaf.wallet_id,
        seq: leaf.seq,
        kind: "log_leaf_not_in_d1",
        detail: `leaf ${leaf.leaf_index} names an entry partition ${leaf.source_partition} does not have at that place`,
      });
      return false;
    }
    if (row.wallet_id !== leaf.wallet_id || row.seq !== leaf.seq) {
      problems.push({
        wallet_id: row.wallet_id,
        seq: row.seq,
        kind: "log_missing_leaf",
        detail: `D1's entry is not leaf ${leaf.leaf_index} (which is ${leaf.wallet_id} seq ${leaf.seq}): the log skipped it, or holds another`,
      });
      return false;
    }
    if (row.rowid !== leaf.source_rowid) {
      // The next window's rows start after this leaf's recorded rowid: a wrong one could hide a skipped row there.
      problems.push({
        wallet_id: row.wallet_id,
        seq: row.seq,
        kind: "log_missing_leaf",
        detail: `leaf ${leaf.leaf_index} records rowid ${leaf.source_rowid} of partition ${leaf.source_partition}, but its entry is row ${row.rowid}`,
      });
      return false;
    }
    if (row.hash !== leaf.entry_hash) {
      ok = false;
      problems.push({
        wallet_id: row.wallet_id,
        seq: row.seq,
        kind: "log_leaf_mismatch",
        detail: `D1's entry no longer has the hash logged as leaf ${leaf.leaf_index}: rewritten after it was logged`,
      });
    }
  }
  return ok;
}

const leafHashOf = (r: { wallet_id: string; seq: number; hash: string }): Uint8Array => leafHash(logLeaf(r.wallet_id, r.seq, r.hash));

/** The rows when every place has one, else null. */
const whole = (rows: readonly (D1Row | undefined)[]): D1Row[] | null => (rows.every((r) => r !== undefined) ? (rows as D1Row[]) : null);

/** The root of an aligned run of complete windows, from their hashes (a balanced tree). */
function balanced(hashes: readonly Uint8Array[]): Uint8Array {
  if (hashes.length === 1) return hashes[0] as Uint8Array;
  const half = hashes.length / 2;
  return nodeHash(balanced(hashes.slice(0, half)), balanced(hashes.slice(half)));
}

/** The checkpoint's root recomputed from the stored window hashes and D1's tail, or null when D1 lacks tail rows. */
function recomputeRoot(size: number, windowHashes: readonly Uint8Array[], tail: readonly Uint8Array[] | null): Uint8Array | null {
  if (size === 0) return EMPTY_ROOT;
  const tailStart = windowHashes.length * WINDOW;
  const parts: Uint8Array[] = [];
  for (const [s, e] of completeSubtrees(0, size)) {
    if (e - s >= WINDOW) parts.push(balanced(windowHashes.slice(s / WINDOW, e / WINDOW)));
    else if (tail === null) return null;
    else parts.push(rootOf(tail.slice(s - tailStart, e - tailStart)));
  }
  return foldSubtrees(parts);
}

/** Checks the log against the partitions' D1 databases `dbs` (index order; see the file comment), adding what it finds to `problems`. */
export async function verifyLog(dbs: readonly D1Database[], opts: LogVerifyOptions, problems: Problem[]): Promise<LogCoverage> {
  const budget = Math.max(1, Math.floor(opts.leaves_max / WINDOW) - 1);
  const view: AuditView = await opts.log.auditView(WINDOW_LEVEL, budget, Math.floor(opts.now_ms / 60_000));
  const size = view.checkpoint?.tree_size ?? 0;
  if (view.checkpoint !== null) await checkSignature(view.checkpoint.note, opts, problems);
  let checked = 0;
  const windowHashes = view.window_hashes.map(hashFromHex);
  for (const w of view.windows) {
    const rows = await rowsInLeafOrder(dbs, w.after, w.leaves);
    const matched = compareRun(w.leaves, rows, problems);
    const found = whole(rows);
    checked += w.leaves.length;
    if (matched && found !== null && found.length === WINDOW && hashToHex(rootOf(found.map(leafHashOf))) !== view.window_hashes[w.index]) {
      problems.push({
        wallet_id: null,
        seq: null,
        kind: "log_node_mismatch",
        detail: `the log's hash of leaves window ${w.index} is not D1's`,
      });
    }
  }
  const tailRows = await rowsInLeafOrder(dbs, view.tail.after, view.tail.leaves);
  const tailOk = compareRun(view.tail.leaves, tailRows, problems);
  const tailFound = whole(tailRows);
  checked += view.tail.leaves.length;
  if (view.checkpoint !== null) {
    const root = recomputeRoot(size, windowHashes, tailOk && tailFound !== null ? tailFound.map(leafHashOf) : null);
    const signedRoot = parseCheckpointBody(parseNote(view.checkpoint.note).body).root;
    if (root === null || hashToHex(root) !== hashToHex(signedRoot)) {
      problems.push({
        wallet_id: null,
        seq: null,
        kind: "log_root_mismatch",
        detail: `the root of checkpoint ${size} is not the tree over D1's entries in leaf order`,
      });
    }
  }
  const uncovered = await uncoveredEntries(dbs, view.last, opts, problems);
  return { tree_size: size, leaves_checked: checked, uncovered };
}

async function checkSignature(note: string, opts: LogVerifyOptions, problems: Problem[]): Promise<void> {
  const check = await checkNoteSignature(parseNote(note), opts.key);
  if (check.code !== "verified") {
    problems.push({
      wallet_id: null,
      seq: null,
      kind: "log_bad_signature",
      detail: "the latest checkpoint is not signed by the log's key",
    });
  }
}

/**
 * Counts each partition's entries after its last leaf in the latest checkpoint (up to 10,000 each); reports them,
 * naming the partitions, when the oldest is past the promise. Returns the total.
 */
async function uncoveredEntries(
  dbs: readonly D1Database[],
  last: readonly number[],
  opts: LogVerifyOptions,
  problems: Problem[],
): Promise<number> {
  const counts = await Promise.all(
    dbs.map((db, partition) =>
      db
        .prepare(
          "SELECT count(*) AS n, min(created_at) AS oldest FROM (SELECT created_at FROM ledger_entries WHERE rowid > ? ORDER BY rowid LIMIT ?)",
        )
        .bind(last[partition] ?? 0, UNCOVERED_COUNT_MAX)
        .first<{ n: number; oldest: string | null }>()
        .then((row) => ({ partition, n: row?.n ?? 0, oldest: row?.oldest ?? null })),
    ),
  );
  const late = counts.filter((c) => c.oldest !== null && opts.now_ms - Date.parse(c.oldest) > opts.cover_max_ms);
  const oldest = late.map((c) => c.oldest as string).sort()[0];
  if (oldest !== undefined) {
    const n = late.reduce((sum, c) => sum + c.n, 0);
    problems.push({
      wallet_id: null,
      seq: null,
      kind: "log_not_covered",
      detail: `${n} entries (partitions ${late.map((c) => c.partition).join(", ")}) are in no signed checkpoint; the oldest was written at ${oldest}, more than ${opts.cover_max_ms / 1_000} s ago`,
    });
  }
  return counts.reduce((sum, c) => sum + c.n, 0);
}

/** The log check's settings for this environment: the one log object, its key, the configured limits. */
export async function logVerifyOptions(env: Env, now_ms: number): Promise<LogVerifyOptions> {
  const config = configOf(env);
  return {
    log: env.LOG.getByName(LOG_OBJECT_NAME),
    key: (await logSigner(env, config.log_origin)).key,
    leaves_max: config.log_verify_leaves_max,
    cover_max_ms: config.log_cover_max_ms,
    now_ms,
  };
}
