/**
 * The log's Merkle tree in the object's SQLite: appending leaves (each with the hashes of the complete subtrees
 * it completes) and reading any complete subtree's hash, so that roots and proofs cost O(log n) point reads.
 * The arithmetic of which subtrees a proof needs is src/domain/merkle.ts's; this file only stores and reads.
 */
import {
  completeSubtrees,
  consistencyRanges,
  EMPTY_ROOT,
  foldSubtrees,
  inclusionRanges,
  leafHash,
  logLeaf,
  nodeHash,
  type LeafRange,
} from "../domain/merkle";

/** One history entry to append, as read from a partition's ledger_entries (src/db/partitions.ts). */
export interface LeafInput {
  wallet_id: string;
  seq: number;
  hash: string;
  /** The audit partition the entry was read from, and its rowid there. */
  source_partition: number;
  source_rowid: number;
}

/** A stored leaf. */
export type LeafRow = {
  leaf_index: number;
  wallet_id: string;
  seq: number;
  entry_hash: string;
  source_partition: number;
  source_rowid: number;
};

/** log2 of a power of two, by arithmetic (sizes pass 2^31, where bit operators stop). */
function levelOf(width: number): number {
  let level = 0;
  for (let w = 1; w < width; w *= 2) level++;
  return level;
}

/**
 * The tree over the `leaves` and `nodes` tables. It keeps the right edge in memory (for each level, the
 * newest node still waiting for its right sibling), loaded from storage once, so appending a leaf reads
 * nothing and writes 1 + (trailing ones of its index) node rows: two on average.
 */
export class TreeStore {
  private frontier: (Uint8Array | undefined)[] | null = null;

  constructor(private readonly sql: SqlStorage) {}

  /** The number of leaves. */
  size(): number {
    return this.sql.exec<{ n: number }>("SELECT coalesce(max(leaf_index) + 1, 0) AS n FROM leaves").one().n;
  }

  /**
   * The feeding cursors of partitions 0..count-1: for each, the largest source rowid appended from it (0 for
   * none), after which its next read starts.
   */
  cursors(count: number): number[] {
    const cursors: number[] = [];
    for (let p = 0; p < count; p++)
      cursors.push(
        this.sql.exec<{ r: number }>("SELECT coalesce(max(source_rowid), 0) AS r FROM leaves WHERE source_partition = ?", p).one().r,
      );
    return cursors;
  }

  /**
   * For partitions 0..count-1, the source rowid of that partition's last leaf before leaf `index` (0 for none):
   * where a reader of that partition starts to line its rows up with the leaves from `index` on. A partition's
   * leaves are in its rowid order, so this is also the largest of its rowids before `index`.
   */
  sourcesBefore(index: number, count: number): number[] {
    const after: number[] = [];
    for (let p = 0; p < count; p++)
      after.push(
        this.sql
          .exec<{ r: number }>(
            "SELECT source_rowid AS r FROM leaves WHERE source_partition = ? AND leaf_index < ? ORDER BY leaf_index DESC LIMIT 1",
            p,
            index,
          )
          .toArray()[0]?.r ?? 0,
      );
    return after;
  }

  /** The stored hash of the complete subtree covering `range` (aligned, a power of two wide). */
  subtreeHash(range: LeafRange): Uint8Array {
    const width = range[1] - range[0];
    const level = levelOf(width);
    const row = this.sql
      .exec<{ hash: ArrayBuffer }>("SELECT hash FROM nodes WHERE level = ? AND idx = ?", level, range[0] / width)
      .toArray()[0];
    if (row === undefined) throw new Error(`log: node for leaves [${range[0]}, ${range[1]}) is missing`);
    return new Uint8Array(row.hash);
  }

  /** The hash of any range of existing leaves: its complete subtrees, folded. */
  rangeHash(range: LeafRange): Uint8Array {
    return foldSubtrees(completeSubtrees(range[0], range[1]).map((r) => this.subtreeHash(r)));
  }

  /** The root of the tree of the first `size` leaves (RFC 9162 MTH). */
  root(size: number): Uint8Array {
    return size === 0 ? EMPTY_ROOT : this.rangeHash([0, size]);
  }

  /** RFC 9162 inclusion proof of leaf `index` in the tree of `size` leaves. */
  inclusion(index: number, size: number): Uint8Array[] {
    return inclusionRanges(index, size).map((r) => this.rangeHash(r));
  }

  /** RFC 9162 consistency proof from the tree of `first` leaves to the tree of `second`. */
  consistency(first: number, second: number): Uint8Array[] {
    return consistencyRanges(first, second).map((r) => this.rangeHash(r));
  }

  /** The leaf of entry (wallet_id, seq), if it is one. */
  leafOf(walletId: string, seq: number): LeafRow | null {
    return (
      this.sql
        .exec<LeafRow>(
          "SELECT leaf_index, wallet_id, seq, entry_hash, source_partition, source_rowid FROM leaves WHERE wallet_id = ? AND seq = ?",
          walletId,
          seq,
        )
        .toArray()[0] ?? null
    );
  }

  /** Leaves [start, start + count), in order. */
  leavesFrom(start: number, count: number): LeafRow[] {
    return this.sql
      .exec<LeafRow>(
        "SELECT leaf_index, wallet_id, seq, entry_hash, source_partition, source_rowid FROM leaves WHERE leaf_index >= ? ORDER BY leaf_index LIMIT ?",
        start,
        count,
      )
      .toArray();
  }

  /**
   * Appends the entries that are not leaves yet, in the order given, in one transaction, and returns how many
   * it appended. An entry already a leaf (the same wallet and seq, or the same partition's row) is skipped, so feeding
   * a batch twice appends it once; the UNIQUE constraints are the backstop if this check were ever wrong.
   */
  append(entries: readonly LeafInput[]): number {
    let appended = 0;
    try {
      const storage = this.sql;
      let next = this.size();
      const frontier = this.loadFrontier(next);
      for (const e of entries) {
        // Two point lookups, each on its UNIQUE index (an OR of the two would scan the table).
        const known =
          storage.exec("SELECT 1 FROM leaves WHERE wallet_id = ? AND seq = ?", e.wallet_id, e.seq).toArray().length > 0 ||
          storage.exec("SELECT 1 FROM leaves WHERE source_partition = ? AND source_rowid = ?", e.source_partition, e.source_rowid).toArray()
            .length > 0;
        if (known) continue;
        storage.exec(
          "INSERT INTO leaves (leaf_index, wallet_id, seq, entry_hash, source_partition, source_rowid) VALUES (?, ?, ?, ?, ?, ?)",
          next,
          e.wallet_id,
          e.seq,
          e.hash,
          e.source_partition,
          e.source_rowid,
        );
        this.addNodes(next, leafHash(logLeaf(e.wallet_id, e.seq, e.hash)), frontier);
        next++;
        appended++;
      }
    } catch (error) {
      // The caller's transaction rolls back; the in-memory edge may be ahead of storage, so it is reloaded.
      this.frontier = null;
      throw error;
    }
    return appended;
  }

  /** Forgets the in-memory right edge (after a transaction that appended rolled back); it is reloaded on use. */
  reset(): void {
    this.frontier = null;
  }

  /** Writes leaf `index`'s hash and every subtree it completes, climbing while the node is a right child. */
  private addNodes(index: number, hash: Uint8Array, frontier: (Uint8Array | undefined)[]): void {
    let level = 0;
    let idx = index;
    let h = hash;
    this.sql.exec("INSERT INTO nodes (level, idx, hash) VALUES (0, ?, ?)", idx, h);
    while (idx % 2 === 1) {
      const left = frontier[level];
      if (left === undefined) throw new Error(`log: right edge lacks level ${level}`);
      h = nodeHash(left, h);
      level++;
      idx = (idx - 1) / 2;
      this.sql.exec("INSERT INTO nodes (level, idx, hash) VALUES (?, ?, ?)", level, idx, h);
    }
    frontier[level] = h;
  }

  /** The right edge for a tree of `size` leaves: at each level with an odd count, its last node. */
  private loadFrontier(size: number): (Uint8Array | undefined)[] {
    if (this.frontier !== null) return this.frontier;
    const frontier: (Uint8Array | undefined)[] = [];
    for (let level = 0, width = 1; width <= size; level++, width *= 2) {
      const count = Math.floor(size / width);
      if (count % 2 === 1) frontier[level] = this.subtreeHash([(count - 1) * width, count * width]);
    }
    this.frontier = frontier;
    return frontier;
  }
}
