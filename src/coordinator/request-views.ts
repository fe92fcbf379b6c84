/**
 * The shapes a payment request takes outside its store: the contract's `payment_request` view, what creating and
 * changing requests answer, and the events each status owes. The desk (request-desk.ts) produces them; the routes
 * and the coordinator read them, so they live apart from the desk's wiring.
 */
import type { EventType, NewEvent } from "./events";
import type { RequestStatus } from "./payment-requests";

/** A payer as the requester named them: by handle (shown with the display name) or by phone (shown as that phone only). */
export type StoredPayer = { handle: string; display_name: string } | { phone: { cipher: string; key_id: string } };

/** The contract's `payment_request`. */
export interface PaymentRequestView {
  id: string;
  status: RequestStatus;
  requester: { handle: string; display_name: string };
  requester_wallet_id: string;
  payer: { handle: string; display_name: string } | { phone: string };
  amount: number;
  currency: string;
  memo: string | null;
  created_at: string;
  expires_at: string;
  resolved_at: string | null;
  transfer_id: string | null;
  split_id: string | null;
}

export interface NewShare {
  payer_user_id: string;
  payer: StoredPayer;
  amount: number;
}

export interface CreateRequestsInput {
  requester: { user_id: string; handle: string; display_name: string; wallet_ids: string[] };
  wallet_id: string;
  memo: string | null;
  expires_in_s: number;
  shares: NewShare[];
  /** A split: the requests share one split id, and are all created or none. */
  split: boolean;
}

export type CreateRequestsResult =
  | { code: "created"; split_id: string | null; requests: PaymentRequestView[] }
  | { code: "limit_exceeded"; field: string; max: number }
  | { code: "forbidden" }
  | { code: "not_found" }
  | { code: "same_wallet" }
  | { code: "unavailable" };

export type RequestReadResult = { code: "ok"; payment_request: PaymentRequestView } | { code: "not_found" } | { code: "forbidden" };

/** `unavailable`: this object's storage refused the write (a full disk); nothing changed, and a retry may pass. */
export type RequestChangeResult =
  | { code: "ok"; payment_request: PaymentRequestView }
  | { code: "request_not_open" }
  | { code: "not_found" }
  | { code: "forbidden" }
  | { code: "unavailable" };

/** What a pay needs to know before it is recorded: what it pays, and where to. */
export type PayQuote =
  | { code: "ok"; amount: number; currency: string; requester_wallet_id: string; memo: string | null }
  | { code: "not_found" }
  | { code: "forbidden" };

/** Each status's event type; `open` is the request's creation (an unclaimed pay's return to open adds none). */
const STATUS_EVENT: Record<RequestStatus, EventType> = {
  open: "payment_request.created",
  paid: "payment_request.paid",
  declined: "payment_request.declined",
  cancelled: "payment_request.cancelled",
  expired: "payment_request.expired",
};

/**
 * The events a request's current view owes its requester or payer: its creation (with the request as it was
 * created: every field but the status, its time and its transfer is fixed at creation) and, once it has left
 * `open`, that change. Keyed by request and status, so a view told twice, or told late, appends nothing new.
 */
export function requestEvents(view: PaymentRequestView): NewEvent[] {
  const created = { ...view, status: "open" as const, resolved_at: null, transfer_id: null };
  const out: NewEvent[] = [{ change_key: `${view.id}:open`, type: STATUS_EVENT.open, object: JSON.stringify(created) }];
  if (view.status !== "open")
    out.push({ change_key: `${view.id}:${view.status}`, type: STATUS_EVENT[view.status], object: JSON.stringify(view) });
  return out;
}
