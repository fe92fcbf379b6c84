/**
 * The webhook side of a user's coordinator: the user's endpoints, their deliveries' rows through each attempt,
 * and the hand-off of due deliveries to the queue (whose consumer, src/webhooks, makes the attempts). The rows
 * themselves are kept by coordinator/webhook-store.ts; this file is their wiring to the queue and the alarm.
 */
import type { Config } from "../config";
import { errorText, log } from "../observability/log";
import { eventJson, type EventRow, type EventStore, type EventType } from "./events";
import {
  deliveryView,
  endpointView,
  type AttemptJob,
  type AttemptResult,
  type DeliveryView,
  type EndpointView,
  type WebhookStore,
} from "./webhook-store";

/** What the webhook desk needs from its coordinator. */
export interface WebhookDeskPorts {
  env: Env;
  config: () => Config;
  storage: DurableObjectStorage;
  webhooks: WebhookStore;
  events: EventStore;
  /** The user this coordinator serves (null before their first session). */
  self: () => string | null;
  /** Makes sure the alarm fires by then, logging (not throwing) if it cannot be set. */
  alarmBy: (at_ms: number) => Promise<void>;
}

/** A new endpoint's fields, its secret sealed. */
export interface NewEndpointInput {
  url: string;
  types: EventType[];
  secret_cipher: string;
  secret_key_id: string;
}

/** A position in an endpoint's deliveries (newest first). */
export interface DeliveryPosition {
  at_ms: number;
  id: string;
}

/** One user's webhook endpoints and deliveries, and their queue hand-off. Callers check the schema exists. */
export class WebhookDesk {
  /** Deliveries written and not yet handed to the queue (sent after the turn that wrote them). */
  private toEnqueue: string[] = [];

  constructor(private readonly ports: WebhookDeskPorts) {}

  /** The deliveries of a newly appended event, enqueued once the transaction that appended it has committed. */
  onAppend(event: EventRow): void {
    this.enqueueSoon(this.ports.webhooks.deliveriesFor(event, Date.now(), this.leaseMs()));
  }

  /** Registers an endpoint (its secret arrives sealed), unless the user has WEBHOOK_ENDPOINTS_MAX_PER_USER. */
  create(input: NewEndpointInput): { code: "created"; webhook_endpoint: EndpointView } | { code: "limit_exceeded"; max: number } {
    const max = this.ports.config().webhook_endpoints_max_per_user;
    let row: ReturnType<WebhookStore["add"]>;
    try {
      row = this.ports.storage.transactionSync(() => this.ports.webhooks.add(input, max, Date.now()));
    } finally {
      this.ports.webhooks.forgetEndpoints();
    }
    return row === null ? { code: "limit_exceeded", max } : { code: "created", webhook_endpoint: endpointView(row) };
  }

  /** The user's endpoints, oldest first (at most WEBHOOK_ENDPOINTS_MAX_PER_USER). */
  list(): EndpointView[] {
    return this.ports.webhooks.endpoints().map(endpointView);
  }

  /** Removes an endpoint; its pending deliveries end. */
  remove(id: string): { code: "deleted" | "not_found" } {
    try {
      return { code: this.ports.storage.transactionSync(() => this.ports.webhooks.remove(id)) ? "deleted" : "not_found" };
    } finally {
      this.ports.webhooks.forgetEndpoints();
    }
  }

  /** A page of an endpoint's deliveries, newest first. */
  deliveries(
    endpoint_id: string,
    before: DeliveryPosition | null,
    limit: number,
  ): { code: "ok"; items: DeliveryView[]; last: DeliveryPosition | null } | { code: "not_found" } {
    const { webhooks } = this.ports;
    if (webhooks.endpoint(endpoint_id) === null) return { code: "not_found" };
    const rows = webhooks.page(endpoint_id, before, limit);
    const last = rows.length === limit ? rows[rows.length - 1] : undefined;
    return { code: "ok", items: rows.map(deliveryView), last: last === undefined ? null : { at_ms: last.created_at_ms, id: last.id } };
  }

  /** A manual retry of one delivery of one of the user's endpoints: pending again and enqueued now. */
  async retry(endpoint_id: string, delivery_id: string): Promise<{ code: "accepted"; delivery: DeliveryView } | { code: "not_found" }> {
    const { webhooks } = this.ports;
    const d = webhooks.delivery(delivery_id);
    if (d === null || d.endpoint_id !== endpoint_id || webhooks.endpoint(endpoint_id) === null) return { code: "not_found" };
    const row = this.ports.storage.transactionSync(() => webhooks.retry(delivery_id, Date.now(), this.leaseMs()));
    this.enqueueSoon([delivery_id]);
    await this.ports.alarmBy(Date.now() + this.leaseMs());
    return { code: "accepted", delivery: deliveryView(row) };
  }

  /** The queue consumer starts an attempt: the job (with the sealed secret and the event's body), or skip. */
  begin(delivery_id: string): (AttemptJob & { body: string }) | { code: "skip" } {
    const job = this.ports.storage.transactionSync(() => this.ports.webhooks.begin(delivery_id, Date.now(), this.leaseMs()));
    const event = job === null ? null : this.ports.events.bySeq(job.seq);
    if (job === null || event === null) return { code: "skip" };
    return { ...job, body: eventJson(event) };
  }

  /** The queue consumer reports an attempt; the row says what comes next (the alarm enqueues it when due). */
  async end(delivery_id: string, result: AttemptResult): Promise<{ code: "recorded"; status: DeliveryView["status"] | null }> {
    const config = this.ports.config();
    const policy = {
      base_ms: config.webhook_retry_base_ms,
      max_ms: config.webhook_retry_max_ms,
      window_ms: config.webhook_retry_window_ms,
      lease_ms: this.leaseMs(),
    };
    const row = this.ports.storage.transactionSync(() => this.ports.webhooks.end(delivery_id, result, Date.now(), policy));
    if (row?.next_attempt_at_ms != null) await this.ports.alarmBy(row.next_attempt_at_ms);
    return { code: "recorded", status: row?.status ?? null };
  }

  /** The alarm's share of webhooks: deliveries that are due (or whose lease ended) are leased and enqueued. */
  leaseDue(now_ms: number): void {
    this.enqueueSoon(this.ports.storage.transactionSync(() => this.ports.webhooks.leaseDue(now_ms, this.leaseMs())));
  }

  /**
   * How long an attempt holds its delivery: past it, the alarm takes the delivery as lost (its message, or the
   * consumer running it, died) and enqueues it again. Twice the attempt's timeout, and some room.
   */
  private leaseMs(): number {
    return 2 * this.ports.config().webhook_timeout_ms + 5_000;
  }

  /** Hands deliveries to the queue after the current turn (once what wrote them has committed). */
  private enqueueSoon(ids: string[]): void {
    if (ids.length === 0) return;
    const first = this.toEnqueue.length === 0;
    this.toEnqueue.push(...ids);
    if (!first) return;
    setTimeout(() => void this.flushQueue(), 0);
  }

  private async flushQueue(): Promise<void> {
    const ids = this.toEnqueue;
    this.toEnqueue = [];
    const user_id = this.ports.self();
    if (user_id === null || ids.length === 0) return;
    try {
      for (let i = 0; i < ids.length; i += 100)
        await this.ports.env.WEBHOOK_QUEUE.sendBatch(ids.slice(i, i + 100).map((delivery_id) => ({ body: { user_id, delivery_id } })));
    } catch (error) {
      // The rows are leased, not lost: the alarm enqueues them again when the lease ends.
      log("warn", "webhook deliveries not enqueued; the alarm retries", { deliveries: ids.length, error: errorText(error) });
    }
    await this.ports.alarmBy(Date.now() + this.leaseMs());
  }
}
