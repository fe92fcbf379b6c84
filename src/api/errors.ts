/**
 * The one table from result codes to HTTP statuses, and the one error body shape:
 * `{"error": {"code", "message", "request_id", ...}}`. Clients branch on `code`; the messages are fixed per
 * code so that a stored outcome renders to the same bytes every time it is replayed.
 */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { FailureCode } from "../coordinator/rpc";

/** Every error code the API can answer with: a movement's refusals (listed once, in coordinator/rpc.ts) and the edge's own. */
export type ErrorCode =
  | FailureCode
  | "validation_error"
  | "unauthenticated"
  | "handle_taken"
  | "phone_taken"
  | "idempotency_in_progress"
  | "payload_too_large"
  | "idempotency_key_reused"
  | "idempotency_key_required"
  | "rate_limited"
  | "limit_exceeded"
  | "unavailable"
  | "internal"
  | "insufficient_scope"
  | "wallet_exists";

/** Status and fixed message of each code. The contract's table, plus the rows we added (documented). */
export const ERRORS: Readonly<Record<ErrorCode, { status: ContentfulStatusCode; message: string }>> = {
  validation_error: { status: 400, message: "The request is not valid; see details." },
  unauthenticated: { status: 401, message: "Missing, expired or revoked credentials." },
  forbidden: { status: 403, message: "You are not allowed to do this." },
  not_found: { status: 404, message: "No such resource." },
  handle_taken: { status: 409, message: "That handle is already taken." },
  phone_taken: { status: 409, message: "That phone number is already registered." },
  idempotency_in_progress: { status: 409, message: "A request with this Idempotency-Key is still in progress; retry later." },
  payload_too_large: { status: 413, message: "The request body is too large." },
  idempotency_key_reused: { status: 422, message: "This Idempotency-Key was used with a different request." },
  insufficient_funds: { status: 422, message: "The available balance is below the amount." },
  daily_limit_exceeded: { status: 422, message: "This would pass today's transfer and withdrawal limit." },
  currency_mismatch: { status: 422, message: "The wallets hold different currencies." },
  same_wallet: { status: 422, message: "A wallet cannot pay itself." },
  balance_limit_exceeded: { status: 422, message: "The receiving wallet would exceed its balance limit." },
  request_not_open: { status: 409, message: "This payment request is not open (paid, declined, cancelled or expired)." },
  transfer_not_refundable: { status: 409, message: "Only a succeeded transfer that is not itself a refund can be refunded." },
  refund_exceeds_transfer: { status: 422, message: "Refunds of this transfer would sum past its amount." },
  insufficient_scope: { status: 403, message: "This API key's scopes do not allow this." },
  wallet_exists: { status: 409, message: "You already hold a wallet in this currency." },
  limit_exceeded: { status: 422, message: "This would pass a limit; see details." },
  idempotency_key_required: { status: 428, message: "Money-moving requests need an Idempotency-Key header." },
  rate_limited: { status: 429, message: "Too many requests; retry after the time in Retry-After." },
  unavailable: { status: 503, message: "The request was recorded but could not finish now; retry with the same Idempotency-Key." },
  internal: { status: 500, message: "Something went wrong on our side." },
};

/** One field-level problem in a `validation_error`. */
export interface ErrorDetail {
  field: string;
  issue: string;
}

/** The error body, with its keys in a fixed order so the same inputs always give the same bytes. */
export function errorBody(code: ErrorCode, request_id: string, extra: { details?: ErrorDetail[]; transfer_id?: string } = {}): string {
  const error: Record<string, unknown> = { code, message: ERRORS[code].message, request_id };
  if (extra.details !== undefined) error.details = extra.details;
  if (extra.transfer_id !== undefined) error.transfer_id = extra.transfer_id;
  return JSON.stringify({ error });
}

/** A JSON response with the given status and already-serialised body. */
export function jsonResponse(c: Context, status: number, body: string, headers: Record<string, string> = {}): Response {
  return c.body(body, status as ContentfulStatusCode, { "content-type": "application/json; charset=utf-8", ...headers });
}

/** An error response for `code`, with the request's id. */
export function errorResponse(
  c: Context,
  code: ErrorCode,
  extra: { details?: ErrorDetail[]; transfer_id?: string; headers?: Record<string, string> } = {},
): Response {
  const request_id = typeof c.get("request_id") === "string" ? (c.get("request_id") as string) : "unknown";
  return jsonResponse(c, ERRORS[code].status, errorBody(code, request_id, extra), extra.headers);
}

/**
 * Thrown by edge helpers (never across RPC) to answer with a contract error; the app's error handler turns
 * it into the error body.
 */
export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly details?: ErrorDetail[],
    readonly headers?: Record<string, string>,
  ) {
    super(code);
  }
}
