/**
 * The partitioned audit store: the audit log and the entry mirror spread over several D1 databases, so that
 * neither one database's 10 GB nor its single writer bounds the service (docs/architecture.md, "Partitioned
 * audit store"; docs/capacity.md).
 *
 * Routing. D1 bindings are static, so the partitions are a list of binding names in [vars] (`AUDIT_PARTITIONS`,
 * main DB first) with the indexes that accept new wallets (`AUDIT_PARTITIONS_OPEN`). A wallet is placed in an
 * open partition when it is created, and its id names that index for ever: `wal_<26>` is partition 0 (every
 * wallet made before partitions existed, whose rows are in the main DB), `wal_p<k>_<26>` partition k. So
 * routing needs no lookup (the outbox, the verifier and the self-audit read it off the id), and adding a
 * partition is a deploy with a longer list that moves and rewrites nothing. One wallet's whole mirrored chain is
 * in its partition, so a chain is verified inside one database.
 *
 * Audit rows. A movement's home is the partition of its own wallet (the sender's for a transfer, refund or
 * payment, the wallet of a deposit or withdrawal; partition 0 when it names none, a refusal only), and its row
 * there is the one `GET /audit` lists. A copy (`home` = 0) goes to the partition of each other wallet it left
 * an entry in, in the same D1 batch as that wallet's entry, so that inside every partition each entry has its
 * audit row and each audit row all of its local entries, at every instant: the verifier's joins stay local.
 */
import { configOf } from "../config";
import { randomBase32, WALLET_ID_SHAPE } from "../domain/ids";

/** The partition index a wallet id names: 0 for an untagged (or unparseable) id. */
export function partitionOfWallet(walletId: string | null): number {
  if (walletId === null) return 0;
  const tag = WALLET_ID_SHAPE.exec(walletId)?.[1];
  return tag === undefined ? 0 : Number(tag);
}

/** A new wallet id placed in partition `index`. */
export function newWalletIdIn(index: number): string {
  if (!Number.isSafeInteger(index) || index < 0 || index > 99) throw new Error(`invariant: bad partition ${index}`);
  return index === 0 ? `wal_${randomBase32()}` : `wal_p${index}_${randomBase32()}`;
}

/** The partition a new wallet goes to: one of the open ones, at random, so that wallets spread evenly. */
export function pickPartition(env: Env): number {
  const open = configOf(env).audit_partitions_open;
  const pick = open[(crypto.getRandomValues(new Uint32Array(1))[0] ?? 0) % open.length];
  if (pick === undefined) throw new Error("invariant: no open audit partition");
  return pick;
}

/** A new wallet id in one of the open partitions. */
export function newWalletId(env: Env): string {
  return newWalletIdIn(pickPartition(env));
}

/** The partitions' databases, in index order. Throws, naming it, when a listed binding is not a D1 database. */
export function partitionDbs(env: Env): D1Database[] {
  return configOf(env).audit_partitions.map((name) => {
    const db = (env as unknown as Record<string, unknown>)[name];
    if (typeof db !== "object" || db === null || typeof (db as D1Database).batch !== "function")
      throw new Error(`config: AUDIT_PARTITIONS names ${name}, which is not a D1 binding`);
    return db as D1Database;
  });
}

/** The database holding wallet `walletId`'s entries (and the audit rows of the movements that touched it). */
export function walletDb(env: Env, walletId: string): D1Database {
  const index = partitionOfWallet(walletId);
  const db = partitionDbs(env)[index];
  if (db === undefined) throw new Error(`invariant: wallet ${walletId} names partition ${index}, which is not configured`);
  return db;
}

/** A mirrored ledger entry as `readNewEntries` returns it: what the transparency log's leaf needs, and where it was read. */
export interface NewEntry {
  partition: number;
  /** The row's rowid in its partition: the cursor to continue after it. */
  rowid: number;
  wallet_id: string;
  seq: number;
  hash: string;
  created_at: string;
}

/** What one `readNewEntries` call read. */
export interface NewEntries {
  /** The rows read, in one merged order (see readNewEntries). */
  entries: NewEntry[];
  /** The cursors after this read: advanced for the partitions that answered, unchanged for the others. */
  cursors: number[];
  /** True when some partition returned a full page of `limit` rows, so it may hold more. */
  full: boolean;
  /** The partitions that failed or did not answer within the timeout, with why: read again next time. */
  failed: { partition: number; error: string }[];
}

/**
 * Reads one partition's rows after `after` in rowid order, or fails after `timeoutMs`. A timed-out read is
 * abandoned, not cancelled; it only reads, so whatever it returns later changes nothing.
 */
async function readPartition(db: D1Database, partition: number, after: number, limit: number, timeoutMs: number): Promise<NewEntry[]> {
  let timer: ReturnType<typeof setTimeout> | null = null;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const read = db
      .prepare("SELECT rowid, wallet_id, seq, hash, created_at FROM ledger_entries WHERE rowid > ? ORDER BY rowid LIMIT ?")
      .bind(after, limit)
      .all<Omit<NewEntry, "partition">>();
    return (await Promise.race([read, timeout])).results.map((e) => ({ ...e, partition }));
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Merges the partitions' pages into one order: repeatedly the head with the earliest `created_at` (ties by
 * partition index), so each partition's own rowid order is kept and the merged order is roughly the time order
 * the entries were made in. Deterministic: the same pages always merge the same way.
 */
export function mergePages(pages: readonly (readonly NewEntry[])[]): NewEntry[] {
  const heads = pages.map(() => 0);
  const merged: NewEntry[] = [];
  for (;;) {
    let pick = -1;
    for (let p = 0; p < pages.length; p++) {
      const head = pages[p]?.[heads[p] ?? 0];
      const best = pick < 0 ? undefined : pages[pick]?.[heads[pick] ?? 0];
      if (head !== undefined && (best === undefined || head.created_at < best.created_at)) pick = p;
    }
    const entry = pick < 0 ? undefined : pages[pick]?.[heads[pick] ?? 0];
    if (entry === undefined) return merged;
    merged.push(entry);
    heads[pick] = (heads[pick] ?? 0) + 1;
  }
}

/**
 * New ledger entries from every partition, for a reader that follows the mirror (the transparency log's feed).
 * `cursors[i]` is the last rowid already read from partition i (0, or a missing element, to start from the
 * beginning; a list shorter than the partitions grows when a partition is added). Reads at most `limit` rows
 * from each partition in rowid order, all partitions at once, and returns them merged (mergePages) with the
 * advanced cursors.
 *
 * Why a rowid is a safe cursor in each partition: `ledger_entries` is a rowid table (its primary key is
 * (wallet_id, seq), not an INTEGER PRIMARY KEY, and it is not WITHOUT ROWID), so SQLite gives each new row
 * max(rowid) + 1; rows are never deleted (triggers refuse it), so that maximum never falls and no rowid is
 * reused; and each D1 database runs one write transaction at a time, so in one partition a row committed later
 * has a larger rowid than every row committed before it. A reader that has seen rowid R of a partition has
 * therefore seen every row of that partition with a smaller rowid, and "rowid > R" can never skip one. Rowids of
 * different partitions are unrelated numbers, hence one cursor per partition.
 *
 * A partition that fails or does not answer within `timeoutMs` is reported in `failed` and keeps its cursor, so
 * its rows are read on a later call, after the rows other partitions returned meanwhile: a stalled partition
 * delays only itself and loses nothing.
 */
export async function readNewEntries(env: Env, cursors: readonly number[], limit: number, timeoutMs: number): Promise<NewEntries> {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > 10_000) throw new Error(`invariant: limit ${limit} out of 1..10,000`);
  const dbs = partitionDbs(env);
  const settled = await Promise.allSettled(dbs.map((db, p) => readPartition(db, p, cursors[p] ?? 0, limit, timeoutMs)));
  const pages = settled.map((r) => (r.status === "fulfilled" ? r.value : []));
  const failed = settled.flatMap((r, partition) =>
    r.status === "rejected" ? [{ partition, error: r.reason instanceof Error ? r.reason.message : String(r.reason) }] : [],
  );
  return {
    entries: mergePages(pages),
    cursors: dbs.map((_, p) => pages[p]?.at(-1)?.rowid ?? cursors[p] ?? 0),
    full: pages.some((page) => page.length >= limit),
    failed,
  };
}
