/**
 * The audit store's partitions (src/db/partitions.ts): which D1 bindings hold the audit log and the entry mirror,
 * and which of them take new wallets.
 */

/** The partitions' validated configuration, part of Config (src/config.ts). */
export interface PartitionsConfig {
  /**
   * The audit store's partitions: the D1 bindings that hold the audit log and the entry mirror, in order; a
   * wallet's id names its index here for ever (src/db/partitions.ts), so the list only ever grows at its end.
   */
  readonly audit_partitions: readonly string[];
  /** The indexes of `audit_partitions` that new wallets are placed in (the others keep serving their wallets). */
  readonly audit_partitions_open: readonly number[];
}

/** The `[vars]` entries PartitionsConfig is read from. */
export type PartitionsVarName = "AUDIT_PARTITIONS" | "AUDIT_PARTITIONS_OPEN";

/** A wallet id holds its partition's index in two base-10 digits at most (src/db/partitions.ts). */
export const AUDIT_PARTITIONS_MAX = 100;

/** D1 binding names, comma-separated, distinct, 1..AUDIT_PARTITIONS_MAX of them. */
export function partitionNames(raw: string): string[] {
  const list = raw.split(",").map((name) => name.trim());
  if (list.length > AUDIT_PARTITIONS_MAX || new Set(list).size !== list.length || list.some((n) => !/^[A-Z][A-Z0-9_]{0,62}$/.test(n)))
    throw new Error(`config: AUDIT_PARTITIONS must be 1..${AUDIT_PARTITIONS_MAX} distinct D1 binding names, got ${JSON.stringify(raw)}`);
  // Partition 0 is the main database: it holds every wallet made before partitions existed, and the directory.
  if (list[0] !== "DB") throw new Error(`config: AUDIT_PARTITIONS must start with DB (the main database), got ${JSON.stringify(raw)}`);
  return list;
}

/** Indexes into AUDIT_PARTITIONS, comma-separated, distinct, at least one: new wallets must have somewhere to go. */
export function openPartitions(raw: string, count: number): number[] {
  const list = raw.split(",").map((n) => n.trim());
  const indexes = list.map(Number);
  if (list.some((n) => !/^\d{1,2}$/.test(n)) || indexes.some((i) => i >= count) || new Set(indexes).size !== indexes.length)
    throw new Error(
      `config: AUDIT_PARTITIONS_OPEN must be distinct indexes into AUDIT_PARTITIONS (0..${count - 1}), got ${JSON.stringify(raw)}`,
    );
  return indexes;
}
