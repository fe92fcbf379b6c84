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
import { randomBase32 } from "../domain/ids";

const WALLET_ID = /^wal_(?:p([1-9][0-9]?)_)?[0-9a-hjkmnp-tv-z]{26}$/;

/** The partition index a wallet id names: 0 for an untagged (or unparseable) id. */
export function partitionOfWallet(walletId: string | null): number {
  if (walletId === null) return 0;
  const tag = WALLET_ID.exec(walletId)?.[1];
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

/** A mirrored ledger entry as `readNewEntries` returns it, with where it was read. */
export interface NewEntry {
  partition: number;
  /** The row's rowid in its partition: the cursor to continue after it. */
  rowid: number;
  wallet_id: string;
  seq: number;
  id: string;
  kind: string;
  amount: number;
  balance_after: number;
  transfer_id: string;
  counterparty: string | null;
  memo: string | null;
  created_at: string;
  prev_hash: string;
  hash: string;
  refund_of: string | null;
}

/**
 * New ledger entries from every partition, for a reader that follows the mirror (the transparency log's feed).
 * `cursors[i]` is the last rowid already read from partition i (0, or a missing element, to start from the
 * beginning; a list shorter than the partitions grows when a partition is added). Reads at most `limit` rows
 * from each partition in rowid order (insertion order: the ledger is append-only, so a rowid is never reused
 * and every row arrives after the ones before it) and returns them with the advanced cursors. Entries of one
 * wallet are in one partition, in seq order; entries of different partitions have no order between them.
 */
export async function readNewEntries(
  env: Env,
  cursors: readonly number[],
  limit: number,
): Promise<{ entries: NewEntry[]; cursors: number[] }> {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > 10_000) throw new Error(`invariant: limit ${limit} out of 1..10,000`);
  const dbs = partitionDbs(env);
  const pages = await Promise.all(
    dbs.map((db, partition) =>
      db
        .prepare(
          "SELECT rowid, wallet_id, seq, id, kind, amount, balance_after, transfer_id, counterparty, memo, created_at, prev_hash, hash, refund_of FROM ledger_entries WHERE rowid > ? ORDER BY rowid LIMIT ?",
        )
        .bind(cursors[partition] ?? 0, limit)
        .all<Omit<NewEntry, "partition">>()
        .then((r) => r.results.map((e) => ({ ...e, partition }))),
    ),
  );
  return {
    entries: pages.flat(),
    cursors: dbs.map((_, i) => pages[i]?.at(-1)?.rowid ?? cursors[i] ?? 0),
  };
}
