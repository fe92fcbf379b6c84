/**
 * The user's webhook endpoints and their deliveries, in the user's coordinator beside the events they carry
 * (docs/architecture.md, "Webhooks"). A delivery row is written in the same transaction as its event, one per
 * endpoint whose types include the event's; the rows are the source of truth, the queue only carries the work:
 * a row is `pending` with the time its next attempt is due (while an attempt is on its way, that time is its
 * lease: the attempt's timeout with room to spare), and the coordinator's alarm enqueues every row that is due,
 * so a message lost with the queue (Miniflare keeps it in memory; a kill -9 drops it) only delays a delivery.
 *
 * The endpoint's secret is stored sealed (AES-GCM under the phone key, as phone numbers are, see the route): this
 * object never holds it in clear, and hands the sealed form to the queue consumer, which opens it to sign.
 */
import { randomBase32 } from "../domain/ids";
import type { EventRow, EventType } from "./events";

/** A webhook endpoint as stored. */
export type EndpointRow = {
  id: string;
  url: string;
  /** JSON list of event types. */
  types: string;
  secret_cipher: string;
  secret_key_id: string;
  created_at: string;
  created_at_ms: number;
};

/** A delivery as stored. */
export type DeliveryRow = {
  id: string;
  endpoint_id: string;
  event_seq: number;
  event_id: string;
  status: "pending" | "succeeded" | "failed";
  attempts: number;
  last_status_code: number | null;
  next_attempt_at_ms: number | null;
  window_start_ms: number;
  created_at_ms: number;
};

/** The contract's `webhook_endpoint`. */
export interface EndpointView {
  id: string;
  url: string;
  types: EventType[];
  created_at: string;
}

/** The contract's delivery item. */
export interface DeliveryView {
  id: string;
  event_id: string;
  status: DeliveryRow["status"];
  attempts: number;
  last_status_code: number | null;
  next_attempt_at: string | null;
}

/** What the consumer needs to make one attempt. */
export interface AttemptJob {
  code: "go";
  delivery_id: string;
  event_id: string;
  url: string;
  secret: { cipher: string; key_id: string };
  seq: number;
}

/** An attempt's result as the consumer reports it: the HTTP status (null: no answer, refused target, timeout). */
export interface AttemptResult {
  ok: boolean;
  status_code: number | null;
}

/** The retry policy, from the config. */
export interface RetryPolicy {
  base_ms: number;
  max_ms: number;
  window_ms: number;
  lease_ms: number;
}

/** Deliveries enqueued per alarm run; the next run takes the rest. */
export const SWEEP_BATCH = 200;

export const endpointView = (e: EndpointRow): EndpointView => ({
  id: e.id,
  url: e.url,
  types: JSON.parse(e.types) as EventType[],
  created_at: e.created_at,
});

export const deliveryView = (d: DeliveryRow): DeliveryView => ({
  id: d.id,
  event_id: d.event_id,
  status: d.status,
  attempts: d.attempts,
  last_status_code: d.last_status_code,
  next_attempt_at: d.next_attempt_at_ms === null ? null : new Date(d.next_attempt_at_ms).toISOString(),
});

/** Endpoints and deliveries of one coordinator. Every method runs inside the caller's transaction. */
export class WebhookStore {
  /**
   * Each endpoint's id and the event types it takes, as storage last had them, or null when unknown. Every event
   * appended asks which endpoints take it, and almost every user has none, so reading the table for each one was
   * a statement per event on the money path (docs/performance.md, issue 17). Only `add` and `remove` change the
   * table, and both forget this; so does the caller once their transaction has ended (`forgetEndpoints`), so a
   * rolled-back change is never remembered.
   */
  private routes: { id: string; types: ReadonlySet<string> }[] | null = null;

  constructor(private readonly sql: SqlStorage) {}

  endpoints(): EndpointRow[] {
    return this.sql.exec<EndpointRow>("SELECT * FROM webhook_endpoints ORDER BY created_at_ms, id").toArray();
  }

  /** Forgets what `routes` knew; called after any transaction that added or removed an endpoint, committed or not. */
  forgetEndpoints(): void {
    this.routes = null;
  }

  private endpointRoutes(): { id: string; types: ReadonlySet<string> }[] {
    this.routes ??= this.endpoints().map((e) => ({ id: e.id, types: new Set(JSON.parse(e.types) as string[]) }));
    return this.routes;
  }

  endpoint(id: string): EndpointRow | null {
    return this.sql.exec<EndpointRow>("SELECT * FROM webhook_endpoints WHERE id = ?", id).toArray()[0] ?? null;
  }

  /** Adds an endpoint unless the user has `max` already. */
  add(
    input: { url: string; types: EventType[]; secret_cipher: string; secret_key_id: string },
    max: number,
    now_ms: number,
  ): EndpointRow | null {
    const n = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM webhook_endpoints").one().n;
    if (n >= max) return null;
    this.forgetEndpoints();
    const row: EndpointRow = {
      id: `whe_${randomBase32()}`,
      url: input.url,
      types: JSON.stringify(input.types),
      secret_cipher: input.secret_cipher,
      secret_key_id: input.secret_key_id,
      created_at: new Date(now_ms).toISOString(),
      created_at_ms: now_ms,
    };
    this.sql.exec(
      "INSERT INTO webhook_endpoints (id, url, types, secret_cipher, secret_key_id, created_at, created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
      row.id,
      row.url,
      row.types,
      row.secret_cipher,
      row.secret_key_id,
      row.created_at,
      row.created_at_ms,
    );
    return row;
  }

  /** Removes an endpoint; its pending deliveries end as failed (nobody is there to receive them). */
  remove(id: string): boolean {
    if (this.endpoint(id) === null) return false;
    this.forgetEndpoints();
    this.sql.exec("DELETE FROM webhook_endpoints WHERE id = ?", id);
    this.sql.exec(
      "UPDATE webhook_deliveries SET status = 'failed', next_attempt_at_ms = NULL WHERE endpoint_id = ? AND status = 'pending'",
      id,
    );
    return true;
  }

  /** One pending delivery per endpoint that takes this event's type, leased for the first attempt. Returns their ids. */
  deliveriesFor(event: EventRow, now_ms: number, lease_ms: number): string[] {
    const ids: string[] = [];
    for (const e of this.endpointRoutes()) {
      if (!e.types.has(event.type)) continue;
      const id = `whd_${randomBase32()}`;
      this.sql.exec(
        `INSERT INTO webhook_deliveries (id, endpoint_id, event_seq, event_id, status, attempts, last_status_code, next_attempt_at_ms,
           window_start_ms, created_at_ms) VALUES (?, ?, ?, ?, 'pending', 0, NULL, ?, ?, ?)`,
        id,
        e.id,
        event.seq,
        event.id,
        now_ms + lease_ms,
        now_ms,
        now_ms,
      );
      ids.push(id);
    }
    return ids;
  }

  delivery(id: string): DeliveryRow | null {
    return this.sql.exec<DeliveryRow>("SELECT * FROM webhook_deliveries WHERE id = ?", id).toArray()[0] ?? null;
  }

  /** A page of an endpoint's deliveries, newest first, strictly before `before`. */
  page(endpoint_id: string, before: { at_ms: number; id: string } | null, limit: number): DeliveryRow[] {
    const at = before?.at_ms ?? Number.MAX_SAFE_INTEGER;
    const id = before?.id ?? "~";
    return this.sql
      .exec<DeliveryRow>(
        `SELECT * FROM webhook_deliveries INDEXED BY webhook_deliveries_list
         WHERE endpoint_id = ? AND (created_at_ms < ? OR (created_at_ms = ? AND id < ?))
         ORDER BY created_at_ms DESC, id DESC LIMIT ?`,
        endpoint_id,
        at,
        at,
        id,
        limit,
      )
      .toArray();
  }

  /** Deliveries due by `now_ms`, each leased for one attempt; the caller enqueues them. */
  leaseDue(now_ms: number, lease_ms: number): string[] {
    const due = this.sql
      .exec<{ id: string }>(
        "SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at_ms <= ? ORDER BY next_attempt_at_ms LIMIT ?",
        now_ms,
        SWEEP_BATCH,
      )
      .toArray()
      .map((r) => r.id);
    for (const id of due) this.sql.exec("UPDATE webhook_deliveries SET next_attempt_at_ms = ? WHERE id = ?", now_ms + lease_ms, id);
    return due;
  }

  /** When the next pending delivery is due (its attempt, or the end of its lease), or null. */
  nextDue(): number | null {
    return (
      this.sql.exec<{ at: number | null }>("SELECT MIN(next_attempt_at_ms) AS at FROM webhook_deliveries WHERE status = 'pending'").one()
        .at ?? null
    );
  }

  /** Pending deliveries (for tests and the sweep's "is anything owed"). */
  pendingCount(): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM webhook_deliveries WHERE status = 'pending'").one().n;
  }

  /** The job of one attempt, if the delivery is still pending and its endpoint exists; renews its lease. */
  begin(id: string, now_ms: number, lease_ms: number): AttemptJob | null {
    const d = this.delivery(id);
    if (d === null || d.status !== "pending") return null;
    const e = this.endpoint(d.endpoint_id);
    if (e === null) return null;
    this.sql.exec("UPDATE webhook_deliveries SET next_attempt_at_ms = ? WHERE id = ?", now_ms + lease_ms, id);
    return {
      code: "go",
      delivery_id: id,
      event_id: d.event_id,
      url: e.url,
      secret: { cipher: e.secret_cipher, key_id: e.secret_key_id },
      seq: d.event_seq,
    };
  }

  /**
   * Records an attempt: a 2xx ends it; otherwise the next attempt is due after a jittered exponential back-off,
   * until the retry window has passed, then it is `failed`. A delivery that is no longer pending is left alone (a
   * duplicate message's late attempt). Returns the row as written, or null.
   */
  end(id: string, result: AttemptResult, now_ms: number, policy: RetryPolicy, jitter = Math.random()): DeliveryRow | null {
    const d = this.delivery(id);
    if (d === null || d.status !== "pending") return null;
    const attempts = d.attempts + 1;
    const next = nextAttempt(attempts, d.window_start_ms, result.ok, now_ms, policy, jitter);
    const row: DeliveryRow = {
      ...d,
      attempts,
      last_status_code: result.status_code,
      status: next === "succeeded" || next === "failed" ? next : "pending",
      next_attempt_at_ms: typeof next === "number" ? next : null,
    };
    this.sql.exec(
      "UPDATE webhook_deliveries SET attempts = ?, last_status_code = ?, status = ?, next_attempt_at_ms = ? WHERE id = ?",
      row.attempts,
      row.last_status_code,
      row.status,
      row.next_attempt_at_ms,
      id,
    );
    return row;
  }

  /** A manual retry: pending again, due now, with a fresh retry window. */
  retry(id: string, now_ms: number, lease_ms: number): DeliveryRow {
    this.sql.exec(
      "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at_ms = ?, window_start_ms = ? WHERE id = ?",
      now_ms + lease_ms,
      now_ms,
      id,
    );
    const d = this.delivery(id);
    if (d === null) throw new Error(`invariant: delivery ${id} vanished`);
    return d;
  }
}

/**
 * After attempt number `attempts`: `succeeded` on a 2xx; else the time of the next attempt, base × 2^(n-1) capped
 * at max and jittered down by up to half, while the window since `window_start_ms` lasts; then `failed`.
 */
export function nextAttempt(
  attempts: number,
  window_start_ms: number,
  ok: boolean,
  now_ms: number,
  policy: RetryPolicy,
  jitter: number,
): "succeeded" | "failed" | number {
  if (ok) return "succeeded";
  if (now_ms - window_start_ms >= policy.window_ms) return "failed";
  const exponential = Math.min(policy.max_ms, policy.base_ms * 2 ** Math.min(attempts - 1, 30));
  return now_ms + Math.round(exponential / 2 + jitter * (exponential / 2));
}
