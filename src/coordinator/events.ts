/**
 * The user's events (contract v1.1, "Events, webhooks and API keys"), kept by the user's coordinator. An event is
 * appended once per durable change, keyed by the change (`change_key`, unique), with the next `seq` of the user
 * (gapless from 1: a one-row counter, so pruning old events never lets a number be given twice). Its body
 * (`data.object`) is fixed when it is appended and never rewritten.
 *
 * Who appends what (docs/architecture.md, "Events"): the coordinator that records a change appends its own user's
 * event in the same transaction as the change where the change is a write of this object (a refusal, a refund's
 * settlement, a request's new status), or right after the change became durable elsewhere (a success's last
 * wallet step) and before the movement may end. The other party's event is appended by the other party's
 * coordinator (`appendEvents`), asked directly and, when that call fails, through a durable relay row retried by
 * the alarm until it is acknowledged. Appending is idempotent by change key, so every re-run after a crash is
 * harmless.
 *
 * The queries are plain SQL on `ctx.storage.sql`: every one is a walk of a primary key or of one index.
 */
import { randomBase32 } from "../domain/ids";

/** The event types of the contract. */
export const EVENT_TYPES = [
  "transfer.succeeded",
  "transfer.failed",
  "transfer.refunded",
  "deposit.succeeded",
  "withdrawal.succeeded",
  "payment_request.created",
  "payment_request.paid",
  "payment_request.declined",
  "payment_request.cancelled",
  "payment_request.expired",
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

const KNOWN_TYPES: ReadonlySet<string> = new Set(EVENT_TYPES);

/** Whether `type` is one of the contract's event types. */
export function isEventType(type: string): type is EventType {
  return KNOWN_TYPES.has(type);
}

/** An event to append: which change it records, its type and its body's object (JSON text, fixed from now on). */
export type NewEvent = {
  change_key: string;
  type: EventType;
  object: string;
};

/** A stored event. */
export type EventRow = {
  seq: number;
  id: string;
  change_key: string;
  type: EventType;
  created_at: string;
  created_at_ms: number;
  object: string;
};

/** An event owed to another user's coordinator (see the header). */
export type RelayRow = NewEvent & {
  user_id: string;
  attempts: number;
  next_attempt_at_ms: number;
};

/** The schema of events, relays and webhooks: one migration step, appended to COORDINATOR_MIGRATIONS. */
export const EVENTS_MIGRATION = `
  CREATE TABLE events (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    change_key TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    object TEXT NOT NULL
  ) STRICT;
  CREATE INDEX events_type ON events (type, seq);
  CREATE TABLE event_counter (one INTEGER PRIMARY KEY CHECK (one = 1), last_seq INTEGER NOT NULL CHECK (last_seq >= 0)) STRICT;
  CREATE TABLE event_relays (
    user_id TEXT NOT NULL,
    change_key TEXT NOT NULL,
    type TEXT NOT NULL,
    object TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at_ms INTEGER NOT NULL,
    PRIMARY KEY (user_id, change_key)
  ) STRICT;
  CREATE INDEX event_relays_due ON event_relays (next_attempt_at_ms);
  CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    types TEXT NOT NULL,
    secret_cipher TEXT NOT NULL,
    secret_key_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL
  ) STRICT;
  CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    endpoint_id TEXT NOT NULL,
    event_seq INTEGER NOT NULL,
    event_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts INTEGER NOT NULL CHECK (attempts >= 0),
    last_status_code INTEGER,
    next_attempt_at_ms INTEGER,
    window_start_ms INTEGER NOT NULL,
    created_at_ms INTEGER NOT NULL,
    CHECK ((status = 'pending') = (next_attempt_at_ms IS NOT NULL))
  ) STRICT;
  CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at_ms) WHERE status = 'pending';
  CREATE INDEX webhook_deliveries_list ON webhook_deliveries (endpoint_id, created_at_ms, id);
  CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_seq);`;

/** Events removed per prune, so one alarm run's work stays bounded however much has aged. */
export const PRUNE_BATCH = 500;

/** The user's event log and the relays owed to other users. Every method runs inside the caller's transaction. */
export class EventStore {
  /** Called for every event appended, inside the same transaction (the webhooks' deliveries). */
  onAppend: (event: EventRow) => void = () => undefined;

  constructor(private readonly sql: SqlStorage) {}

  /**
   * Appends `e` unless its change already has its event; returns the new row, or null when it existed. Two
   * statements: the row is inserted with the counter's next seq unless its change key is taken (a repeat inserts
   * nothing and takes no number), and only then the counter moves to that seq, in the caller's transaction. The
   * counter, not the table, gives the number, so pruning old events never lets one be given twice; any other
   * conflict (a seq or an id already used) still throws. Statements are most of an append's cost
   * (docs/performance.md, issue 17), so a repeat check, a counter bump and an insert became one insert here.
   */
  append(e: NewEvent, now_ms: number): EventRow | null {
    const id = `evt_${randomBase32()}`;
    const created_at = new Date(now_ms).toISOString();
    const inserted = this.sql
      .exec<{ seq: number }>(
        `INSERT INTO events (seq, id, change_key, type, created_at, created_at_ms, object)
         SELECT COALESCE((SELECT last_seq FROM event_counter), 0) + 1, ?, ?, ?, ?, ?, ? WHERE true
         ON CONFLICT (change_key) DO NOTHING RETURNING seq`,
        id,
        e.change_key,
        e.type,
        created_at,
        now_ms,
        e.object,
      )
      .toArray()[0];
    if (inserted === undefined) return null;
    this.sql.exec(
      "INSERT INTO event_counter (one, last_seq) VALUES (1, ?) ON CONFLICT (one) DO UPDATE SET last_seq = excluded.last_seq",
      inserted.seq,
    );
    const row: EventRow = {
      seq: inserted.seq,
      id,
      change_key: e.change_key,
      type: e.type,
      created_at,
      created_at_ms: now_ms,
      object: e.object,
    };
    this.onAppend(row);
    return row;
  }

  /** The event recorded for a change, if it is still kept. */
  byKey(change_key: string): EventRow | null {
    return this.sql.exec<EventRow>("SELECT * FROM events WHERE change_key = ?", change_key).toArray()[0] ?? null;
  }

  /** One event by seq. */
  bySeq(seq: number): EventRow | null {
    return this.sql.exec<EventRow>("SELECT * FROM events WHERE seq = ?", seq).toArray()[0] ?? null;
  }

  /**
   * Up to `limit` events after `after`, oldest first, of `types` (null: all). With types, one walk of the
   * (type, seq) index per type, merged: each walk stops after `limit` rows, so a page costs O(page × types).
   */
  page(after: number, types: readonly EventType[] | null, limit: number): EventRow[] {
    if (types === null) return this.sql.exec<EventRow>("SELECT * FROM events WHERE seq > ? ORDER BY seq LIMIT ?", after, limit).toArray();
    const rows = types.flatMap((type) =>
      this.sql
        .exec<EventRow>("SELECT * FROM events INDEXED BY events_type WHERE type = ? AND seq > ? ORDER BY seq LIMIT ?", type, after, limit)
        .toArray(),
    );
    return rows.sort((x, y) => x.seq - y.seq).slice(0, limit);
  }

  /** Removes up to PRUNE_BATCH events created before `cutoff_ms` (oldest first); returns how many went. */
  prune(cutoff_ms: number): number {
    // The oldest events by seq, then the prefix of them that has aged: seq follows creation time, and reading
    // a bounded prefix never scans the table when nothing is old enough.
    const head = this.sql
      .exec<{ seq: number; at: number }>("SELECT seq, created_at_ms AS at FROM events ORDER BY seq LIMIT ?", PRUNE_BATCH)
      .toArray();
    let last = 0;
    let count = 0;
    for (const row of head) {
      if (row.at >= cutoff_ms) break;
      last = row.seq;
      count++;
    }
    if (count === 0) return 0;
    this.sql.exec("DELETE FROM webhook_deliveries WHERE event_seq <= ?", last);
    this.sql.exec("DELETE FROM events WHERE seq <= ?", last);
    return count;
  }

  /** When the oldest kept event should be pruned (null: none kept). */
  nextPruneAt(retention_ms: number): number | null {
    const oldest = this.sql.exec<{ at: number | null }>("SELECT created_at_ms AS at FROM events ORDER BY seq LIMIT 1").toArray()[0];
    return oldest?.at === undefined || oldest.at === null ? null : oldest.at + retention_ms;
  }

  // ---- Relays --------------------------------------------------------------------------------------------

  /** Records that `user_id` is owed event `e` (idempotent by user and change). */
  owe(user_id: string, e: NewEvent, next_attempt_at_ms: number): void {
    this.sql.exec(
      `INSERT INTO event_relays (user_id, change_key, type, object, attempts, next_attempt_at_ms) VALUES (?, ?, ?, ?, 0, ?)
       ON CONFLICT (user_id, change_key) DO NOTHING`,
      user_id,
      e.change_key,
      e.type,
      e.object,
      next_attempt_at_ms,
    );
  }

  /** Relays due by `now_ms`, soonest first. */
  dueRelays(now_ms: number, limit: number): RelayRow[] {
    return this.sql
      .exec<RelayRow>("SELECT * FROM event_relays WHERE next_attempt_at_ms <= ? ORDER BY next_attempt_at_ms LIMIT ?", now_ms, limit)
      .toArray();
  }

  /** The other user acknowledged these events. */
  relayed(user_id: string, change_keys: string[]): void {
    this.sql.exec(
      "DELETE FROM event_relays WHERE user_id = ? AND change_key IN (SELECT value FROM json_each(?))",
      user_id,
      JSON.stringify(change_keys),
    );
  }

  /** The other user could not be reached: try again at `next_attempt_at_ms`. */
  deferRelay(user_id: string, change_key: string, next_attempt_at_ms: number): void {
    this.sql.exec(
      "UPDATE event_relays SET attempts = attempts + 1, next_attempt_at_ms = ? WHERE user_id = ? AND change_key = ?",
      next_attempt_at_ms,
      user_id,
      change_key,
    );
  }

  /** How many relays are owed, and when the next is due. */
  relaysOwed(): { count: number; next_at_ms: number | null } {
    const row = this.sql
      .exec<{ n: number; at: number | null }>("SELECT COUNT(*) AS n, MIN(next_attempt_at_ms) AS at FROM event_relays")
      .one();
    return { count: row.n, next_at_ms: row.at };
  }
}

/** The contract's event body, rendered from stored fields only, so every delivery of one event has the same bytes. */
export function eventJson(e: EventRow): string {
  return `{"id":${JSON.stringify(e.id)},"seq":${e.seq},"type":${JSON.stringify(e.type)},"created_at":${JSON.stringify(e.created_at)},"data":{"object":${e.object}}}`;
}
