/**
 * The transparency log object's SQLite schema (migrated by src/db/do-migrations.ts; steps are append-only).
 *
 * Every table is append-only, enforced by triggers: a leaf, a node hash, a signed checkpoint or a received
 * cosignature, once written, is never changed or removed by anything that runs SQL in the object (the log's own
 * code included). Storage grows O(leaves): each leaf is one `leaves` row and one level-0 `nodes` row, and each
 * complete aligned subtree one more `nodes` row (n - 1 of them in all), so about 2n hashes.
 */
import { appendOnlyTriggers } from "../db/do-migrations";

/** The steps, oldest first. Step 1's `leaves` is rebuilt by step 2 with the partition each leaf was read from. */
export const LOG_SCHEMA: readonly string[] = [
  `
  -- One row per leaf, in leaf order. source_rowid is the D1 ledger_entries rowid the leaf was read from: the
  -- feeding cursor (the next batch starts after the largest) and what lets the auditor line leaves up with D1.
  -- UNIQUE (wallet_id, seq): an entry is a leaf at most once, whatever feeds it twice.
  CREATE TABLE leaves (
    leaf_index INTEGER PRIMARY KEY CHECK (leaf_index >= 0),
    wallet_id TEXT NOT NULL,
    seq INTEGER NOT NULL CHECK (seq >= 1),
    entry_hash TEXT NOT NULL CHECK (length(entry_hash) = 64),
    source_rowid INTEGER NOT NULL UNIQUE,
    UNIQUE (wallet_id, seq)
  ) STRICT;
  -- The hash of every complete aligned subtree: (level, idx) covers leaves [idx * 2^level, (idx + 1) * 2^level).
  -- Level 0 holds the leaf hashes. A proof reads O(log n) of these by primary key.
  CREATE TABLE nodes (
    level INTEGER NOT NULL CHECK (level >= 0 AND level < 64),
    idx INTEGER NOT NULL CHECK (idx >= 0),
    hash BLOB NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (level, idx)
  ) STRICT, WITHOUT ROWID;
  -- Every checkpoint signed, one per tree size (a new one is signed only when the tree grew).
  CREATE TABLE checkpoints (
    tree_size INTEGER PRIMARY KEY CHECK (tree_size >= 0),
    root BLOB NOT NULL CHECK (length(root) = 32),
    note TEXT NOT NULL,
    signed_at TEXT NOT NULL
  ) STRICT;
  -- Witness cosignatures received, at most one per witness key per checkpoint (the first is kept).
  CREATE TABLE cosignatures (
    tree_size INTEGER NOT NULL REFERENCES checkpoints (tree_size),
    key_name TEXT NOT NULL,
    key_id INTEGER NOT NULL,
    line TEXT NOT NULL,
    cosigned_at_s INTEGER NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (tree_size, key_name, key_id)
  ) STRICT;
  -- The newest checkpoints one witness cosigned (GET /log/checkpoint?witnessed=1).
  CREATE INDEX cosignatures_by_key ON cosignatures (key_name, key_id, tree_size);
  ${appendOnlyTriggers("leaves")}
  ${appendOnlyTriggers("nodes")}
  ${appendOnlyTriggers("checkpoints")}
  ${appendOnlyTriggers("cosignatures")}
  `,
  // Step 2, the partitioned audit store (docs/architecture.md, "Partitioned audit store"): leaves are read from
  // several D1 databases, whose rowids are unrelated numbers, so a leaf's source is (partition, rowid) and the
  // one-leaf-per-row rule is UNIQUE over both. SQLite cannot drop step 1's UNIQUE (source_rowid), so the table
  // is rebuilt once: every leaf is copied unchanged, at its index, with partition 0 (before this step there was
  // only the main DB); the append-only triggers go with the old table and are made again on the new one.
  // leaves_by_partition answers "the last leaf of partition p before leaf i" (the auditor's window starts) and
  // each partition's feeding cursor with one index seek.
  `
  CREATE TABLE leaves_v2 (
    leaf_index INTEGER PRIMARY KEY CHECK (leaf_index >= 0),
    wallet_id TEXT NOT NULL,
    seq INTEGER NOT NULL CHECK (seq >= 1),
    entry_hash TEXT NOT NULL CHECK (length(entry_hash) = 64),
    source_partition INTEGER NOT NULL CHECK (source_partition >= 0 AND source_partition < 100),
    source_rowid INTEGER NOT NULL CHECK (source_rowid >= 1),
    UNIQUE (wallet_id, seq),
    UNIQUE (source_partition, source_rowid)
  ) STRICT;
  INSERT INTO leaves_v2 (leaf_index, wallet_id, seq, entry_hash, source_partition, source_rowid)
    SELECT leaf_index, wallet_id, seq, entry_hash, 0, source_rowid FROM leaves ORDER BY leaf_index;
  DROP TABLE leaves;
  ALTER TABLE leaves_v2 RENAME TO leaves;
  CREATE INDEX leaves_by_partition ON leaves (source_partition, leaf_index);
  ${appendOnlyTriggers("leaves")}
  `,
];
