/**
 * The event feed's and the webhooks' limits (GET /events, src/webhooks/): how soon and how long events are
 * served, and how deliveries to endpoints are timed, retried and bounded.
 */
import { DAY_MS, integer, onOff, type VarsOf } from "./parse";

/** The validated event and webhook limits, part of Config (src/config.ts). */
export interface EventConfig {
  /** How soon an event is visible after its change (GET /events); the other party's coordinator is asked within half. */
  readonly event_max_lag_ms: number;
  /** How long events are kept (the contract: at least 30 days); older ones are pruned by the alarm. */
  readonly event_retention_ms: number;
  /** Webhook endpoints one user may register. */
  readonly webhook_endpoints_max_per_user: number;
  /** One delivery attempt, from the request to the end of the (bounded) response. */
  readonly webhook_timeout_ms: number;
  /** The first retry's delay and the cap of the jittered exponential back-off between attempts. */
  readonly webhook_retry_base_ms: number;
  readonly webhook_retry_max_ms: number;
  /** How long a delivery is retried before it is `failed` (the contract: at least 24 hours). */
  readonly webhook_retry_window_ms: number;
  /** Bytes of an endpoint's response body read (the rest is dropped). */
  readonly webhook_response_max_bytes: number;
  /** `npm start` and tests only: `http` (and any port) to loopback addresses is also allowed. */
  readonly webhook_allow_local: boolean;
}

/** The `[vars]` entries EventConfig is read from. */
export type EventVarName =
  | "EVENT_MAX_LAG_MS"
  | "EVENT_RETENTION_MS"
  | "WEBHOOK_ENDPOINTS_MAX_PER_USER"
  | "WEBHOOK_TIMEOUT_MS"
  | "WEBHOOK_RETRY_BASE_MS"
  | "WEBHOOK_RETRY_MAX_MS"
  | "WEBHOOK_RETRY_WINDOW_MS"
  | "WEBHOOK_RESPONSE_MAX_BYTES"
  | "WEBHOOK_ALLOW_LOCAL";

/** Parses and range-checks the event and webhook limits, in this order; throws an Error naming the first bad variable. */
export function parseEventConfig(vars: VarsOf<EventVarName>): EventConfig {
  return {
    event_max_lag_ms: integer(vars, "EVENT_MAX_LAG_MS", 100, 60_000),
    // The contract keeps events at least 30 days; a year bounds the table.
    event_retention_ms: integer(vars, "EVENT_RETENTION_MS", 30 * DAY_MS, 365 * DAY_MS),
    // Each event writes one delivery row per matching endpoint, in the transaction that appends it.
    webhook_endpoints_max_per_user: integer(vars, "WEBHOOK_ENDPOINTS_MAX_PER_USER", 1, 100),
    // A queue consumer invocation may run 15 minutes; an attempt must be far shorter so one slow endpoint holds little.
    webhook_timeout_ms: integer(vars, "WEBHOOK_TIMEOUT_MS", 1_000, 30_000),
    webhook_retry_base_ms: integer(vars, "WEBHOOK_RETRY_BASE_MS", 100, 3_600_000),
    webhook_retry_max_ms: integer(vars, "WEBHOOK_RETRY_MAX_MS", 1_000, DAY_MS),
    // The contract retries for at least 24 hours; a week bounds the rows kept pending.
    webhook_retry_window_ms: integer(vars, "WEBHOOK_RETRY_WINDOW_MS", DAY_MS, 7 * DAY_MS),
    webhook_response_max_bytes: integer(vars, "WEBHOOK_RESPONSE_MAX_BYTES", 0, 65_536),
    webhook_allow_local: onOff(vars, "WEBHOOK_ALLOW_LOCAL"),
  };
}
