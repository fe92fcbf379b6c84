/**
 * The contract's event types, shared by the webhook endpoint form and the event log's filter. The labels are a
 * Record over the generated type, so a type the server adds fails the type check here until it is worded.
 */
import type { components } from "../generated/api";

export type EventType = components["schemas"]["Event"]["type"];

const LABELS: Record<EventType, string> = {
  "transfer.succeeded": "a transfer succeeded",
  "transfer.failed": "a transfer you sent failed",
  "transfer.refunded": "a transfer was refunded",
  "deposit.succeeded": "a deposit succeeded",
  "withdrawal.succeeded": "a withdrawal succeeded",
  "payment_request.created": "a payment request was made",
  "payment_request.paid": "a payment request was paid",
  "payment_request.declined": "a payment request was declined",
  "payment_request.cancelled": "a payment request was cancelled",
  "payment_request.expired": "a payment request expired",
};

/** Every event type, in the contract's order, with what it means in words. */
export const EVENT_TYPE_CHOICES: readonly { type: EventType; label: string }[] = (Object.keys(LABELS) as EventType[]).map((type) => ({
  type,
  label: LABELS[type],
}));
