/**
 * What the verifier's modules share about partitions (src/db/partitions.ts): the list of audit stores, and the
 * rule that names a wallet's partition, said in SQL so the ledger-wide checks can group by it inside D1.
 */

/** The audit store's partitions, main DB (the directory) first. */
export type Partitions = readonly D1Database[];

/**
 * The partition index a wallet id names, in SQL (the same rule as `partitionOfWallet`): `wal_p<k>_...` is k,
 * anything else 0.
 */
export const PARTITION_OF = (column: string): string =>
  `(CASE WHEN ${column} GLOB 'wal_p[1-9]_*' THEN CAST(substr(${column}, 6, 1) AS INTEGER)
         WHEN ${column} GLOB 'wal_p[1-9][0-9]_*' THEN CAST(substr(${column}, 6, 2) AS INTEGER) ELSE 0 END)`;
