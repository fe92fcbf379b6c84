/**
 * The outbox: what the coordinator owes D1. A finished movement's row is marked `outbox_pending` in the same
 * transaction that records its outcome, so its audit row and entry mirrors can never be lost; a flush copies
 * a batch of them to D1 in one `batch()` (one D1 transaction) and then clears the mark. A flush that fails, or
 * that succeeds but crashes before clearing the mark, is simply repeated: every insert is
 * `ON CONFLICT DO NOTHING` on the row's natural key, so D1 ends with exactly one copy.
 */
import { auditLog, ledgerEntries } from "../db/schema";
import { insertIgnoring } from "../db/d1-inserts";
import { partitionOfWallet } from "../db/partitions";
import type { EntryView } from "../domain/views";
import type { MovementRow } from "./schema";
import { errorText } from "../observability/log";
import { jittered } from "../domain/delays";

/** An entry a movement produced, with the wallet it belongs to. */
export interface ProducedEntry {
  wallet_id: string;
  entry: EntryView;
}

const AUDIT_INSERT = insertIgnoring(
  auditLog,
  [
    "id",
    "transfer_id",
    "kind",
    "status",
    "user_id",
    "from_wallet_id",
    "to_wallet_id",
    "amount",
    "currency",
    "failure_code",
    "created_at",
    "refund_of",
    "payment_request_id",
    "home",
  ],
  ["transfer_id"],
);
const ENTRY_INSERT = insertIgnoring(
  ledgerEntries,
  [
    "wallet_id",
    "seq",
    "id",
    "kind",
    "amount",
    "balance_after",
    "transfer_id",
    "counterparty",
    "memo",
    "created_at",
    "prev_hash",
    "hash",
    "refund_of",
  ],
  ["wallet_id", "seq"],
);

/** The audit row of a finished movement, as D1 stores it in its home partition (`home` 1) or as a copy (0). */
function auditRow(m: MovementRow, home: 0 | 1 = 1) {
  if (m.state === "started") throw new Error(`invariant: movement ${m.id} is not finished`);
  return {
    id: `aud_${m.id.slice(4)}`,
    transfer_id: m.id,
    kind: m.kind,
    status: m.state,
    user_id: m.user_id,
    from_wallet_id: m.from_wallet_id,
    to_wallet_id: m.to_wallet_id,
    amount: m.amount,
    currency: m.currency,
    failure_code: m.failure_code,
    created_at: m.created_at,
    refund_of: m.refund_of,
    payment_request_id: m.payment_request_id,
    home,
  };
}

/** The entry mirrors a finished movement produced, as D1 stores them. */
function entryRows(m: MovementRow) {
  // Entries stored before refunds existed have no `refund_of`.
  return (JSON.parse(m.entries ?? "[]") as ProducedEntry[]).map((e) => ({
    wallet_id: e.wallet_id,
    ...e.entry,
    refund_of: e.entry.refund_of ?? null,
  }));
}

/**
 * The D1 inserts that deliver `movements` to one database: their audit rows, then their entries, each in the
 * movements' order and several rows to a statement. With one partition this is the whole delivery.
 */
export function movementInserts(db: D1Database, movements: readonly MovementRow[]): D1PreparedStatement[] {
  return [
    ...AUDIT_INSERT.bind(
      db,
      movements.map((m) => auditRow(m)),
    ),
    ...ENTRY_INSERT.bind(db, movements.flatMap(entryRows)),
  ];
}

/** A movement's home partition: its own wallet's (src/db/partitions.ts). */
export function homePartition(m: Pick<MovementRow, "from_wallet_id" | "to_wallet_id">): number {
  return partitionOfWallet(m.from_wallet_id ?? m.to_wallet_id);
}

/** What one partition is owed by a delivery: audit rows (home or copies) and the entries of its wallets. */
interface PartitionShare {
  audit: ReturnType<typeof auditRow>[];
  entries: ReturnType<typeof entryRows>;
}

/**
 * Splits a delivery by partition: each movement's audit row to its home, its entries to their wallets'
 * partitions, and a copy of the audit row beside each entry that is not at home, so that inside every partition
 * an entry has its audit row and an audit row all of its local entries.
 */
export function partitionShares(movements: readonly MovementRow[]): Map<number, PartitionShare> {
  const shares = new Map<number, PartitionShare>();
  const share = (index: number): PartitionShare => {
    let found = shares.get(index);
    if (found === undefined) shares.set(index, (found = { audit: [], entries: [] }));
    return found;
  };
  for (const m of movements) {
    const home = homePartition(m);
    share(home).audit.push(auditRow(m, 1));
    const copied = new Set<number>([home]);
    for (const e of entryRows(m)) {
      const index = partitionOfWallet(e.wallet_id);
      if (!copied.has(index)) {
        copied.add(index);
        share(index).audit.push(auditRow(m, 0));
      }
      share(index).entries.push(e);
    }
  }
  return shares;
}

/**
 * Delivers `movements` to the partitions `dbs` (index order), one batch (one D1 transaction) per partition
 * touched, all at once. D1 has no transaction across databases, so a delivery can land in one partition and
 * fail in another; it then fails as a whole and is repeated, and the inserts that already landed are no-ops
 * (ON CONFLICT DO NOTHING). Each partition's share is whole in its batch, so every partition is consistent
 * on its own at every instant.
 */
export async function deliver(dbs: readonly D1Database[], movements: readonly MovementRow[]): Promise<void> {
  const writes = [...partitionShares(movements)].map(([index, rows]) => {
    const db = dbs[index];
    if (db === undefined) throw new Error(`invariant: a wallet names audit partition ${index}, which is not configured`);
    const statements = [...AUDIT_INSERT.bind(db, rows.audit), ...ENTRY_INSERT.bind(db, rows.entries)];
    return statements.length > 0 ? db.batch(statements) : Promise.resolve([]);
  });
  const failed = (await Promise.allSettled(writes)).find((r) => r.status === "rejected");
  if (failed !== undefined) throw failed.reason;
}

/** What the outbox needs from its coordinator. */
export interface OutboxPorts {
  /** The audit store's partitions, in index order (src/db/partitions.ts). */
  d1: readonly D1Database[];
  /** Finished movements D1 has not had yet, oldest first, at most `limit`. */
  pending(limit: number): MovementRow[];
  /** Clears the pending mark of these movements, in one transaction. */
  markDelivered(ids: string[]): void;
  /**
   * A delivery failed and the outbox is backing off: the coordinator moves what it keeps in memory for D1 into
   * storage, so that nothing waits in memory while D1 is down.
   */
  failed(): void;
  /** Test failpoints and faults around the D1 write. */
  beforeWrite(): Promise<void>;
  afterWrite(): void;
  /** Makes sure the alarm comes back by `at_ms` to try again. */
  retryAt(at_ms: number): Promise<void>;
  /** Whether the alarm, which flushes too, is already set to run by `at_ms`. */
  alarmBy(at_ms: number): boolean;
  /** The delay before retry number `failures`. */
  backoffMs(failures: number): number;
  log(message: string, fields: Record<string, unknown>): void;
}

/** The outbox's limits, from the config. */
export interface OutboxLimits {
  batch_max: number;
  flush_delay_ms: number;
  /** Batches per flush, so one call does bounded work; the alarm comes back for the rest. */
  batches_per_flush: number;
}

/**
 * Sends a coordinator's finished movements to D1 in batches. A movement that finishes asks for a flush
 * `flush_delay_ms` later, so every movement finishing meanwhile shares that D1 transaction: a D1 write costs
 * about as much as a whole transfer, so batching is what keeps it off the money path's budget. The pending
 * mark is durable (set with the outcome), so a flush that never happens (an eviction, a crash) is done by the
 * alarm instead; one flush runs at a time.
 */
export class Outbox {
  private flushing: Promise<void> | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private failures = 0;
  /** After a failed delivery, the earliest time of the next attempt (0: no back-off). */
  private retryAtMs = 0;

  constructor(
    private readonly ports: OutboxPorts,
    private readonly limits: OutboxLimits,
  ) {}

  /** Consecutive failed deliveries (0 after a success). */
  get failureCount(): number {
    return this.failures;
  }

  /** Whether a delivery failed recently and the back-off before the next attempt has not passed yet. */
  backingOff(now_ms = Date.now()): boolean {
    return this.failures > 0 && now_ms < this.retryAtMs;
  }

  /** When the next attempt is due after a failure, or null when the last delivery succeeded. */
  get retryAt(): number | null {
    return this.failures > 0 ? this.retryAtMs : null;
  }

  /**
   * Flushes after the delay, unless a flush is already planned (a timer, or the alarm, which flushes first).
   * While backing off it waits for the back-off too: a stream of new movements must not turn a D1 outage into a
   * stream of failing batches.
   */
  soon(): void {
    const now = Date.now();
    const at_ms = Math.max(now + jittered(this.limits.flush_delay_ms), this.retryAtMs);
    if (this.timer !== null || this.ports.alarmBy(at_ms)) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.now();
    }, at_ms - now);
  }

  /** Flushes unless backing off (the alarm's call: the back-off decides, not the alarm's own schedule). */
  due(): Promise<void> {
    return this.backingOff() ? Promise.resolve() : this.now();
  }

  /** Flushes now (one flush at a time: a second caller waits for the running one). */
  now(): Promise<void> {
    this.flushing ??= this.flushBatches().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  private async flushBatches(): Promise<void> {
    for (let batch = 0; batch < this.limits.batches_per_flush; batch++) {
      const rows = this.ports.pending(this.limits.batch_max);
      if (rows.length === 0) return;
      try {
        await this.ports.beforeWrite();
        await deliver(this.ports.d1, rows);
        this.ports.afterWrite();
        // Clearing the marks is a storage write, which fails on a full disk: D1 then has the rows and the next
        // delivery repeats them, which ON CONFLICT DO NOTHING makes harmless.
        this.ports.markDelivered(rows.map((r) => r.id));
      } catch (error) {
        await this.backOff(rows.length, error);
        return;
      }
      this.failures = 0;
      this.retryAtMs = 0;
    }
    // More than one flush's worth is pending: the alarm continues at once.
    await this.schedule(Date.now());
  }

  /** Counts the failure, hands the in-memory rows to storage, and has the alarm come back after the back-off. */
  private async backOff(rows: number, error: unknown): Promise<void> {
    this.failures++;
    this.retryAtMs = Date.now() + this.ports.backoffMs(this.failures);
    this.ports.log("outbox delivery failed", {
      rows,
      failures: this.failures,
      retry_in_ms: this.retryAtMs - Date.now(),
      error: errorText(error),
    });
    this.ports.failed();
    await this.schedule(this.retryAtMs);
  }

  /**
   * Asks for the alarm by `at_ms`. Setting an alarm is a storage write too; when it fails the flush still ends
   * normally, because the alarm that is running (or the next request) schedules again with its own back-off.
   */
  private async schedule(at_ms: number): Promise<void> {
    try {
      await this.ports.retryAt(at_ms);
    } catch (error) {
      this.ports.log("outbox could not schedule its retry", { error: errorText(error) });
    }
  }
}
