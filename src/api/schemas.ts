/**
 * The zod schemas of every request and response. The same objects validate requests at the edge and produce
 * the OpenAPI 3.1 document at /api/v1/openapi.json, so the document cannot drift from what is enforced.
 * Request bodies are strict: an unknown field is a validation error, never silently ignored.
 */
import { z } from "@hono/zod-openapi";
import { forbiddenCharacter } from "../domain/text";
import { CURRENCY_LIST_DATE, isCurrencyCode } from "../domain/currency";
import { ERRORS, type ErrorCode } from "./errors";

/** An amount in minor units: an integer from 1 to 2^53 - 1. Strings, floats, 0 and negatives are refused. */
export const Amount = z
  .number()
  .int()
  .min(1)
  .max(Number.MAX_SAFE_INTEGER)
  .openapi({ description: "Integer minor units (cents), 1 .. 2^53-1", example: 1250 });

export const Handle = z
  .string()
  .regex(/^[a-z0-9_]{3,32}$/, "3..32 of [a-z0-9_]")
  .openapi({ example: "alice" });
export const Phone = z
  .string()
  .regex(/^\+[1-9]\d{6,14}$/, "E.164, like +14155550123")
  .openapi({ example: "+14155550123" });
export const Currency = z
  .string()
  .regex(/^[A-Z]{3}$/, "ISO 4217, like USD")
  .refine(isCurrencyCode, "not an ISO 4217 currency a wallet can hold")
  .openapi({ example: "USD", description: `An active ISO 4217 code (list of ${CURRENCY_LIST_DATE})` });
export const Id = z.string().min(1).max(128);

/**
 * For free text that other users will see (memos, display names): no control or bidirectional override
 * character (domain/text.ts says which and why). Each such field also has a bound in UTF-16 code units, a
 * cheap check before anything segments it; the configured limits in characters as a reader sees them are
 * checked by the route, which has the configuration.
 */
function noForbiddenCharacters(text: string, ctx: z.RefinementCtx): void {
  const bad = forbiddenCharacter(text);
  if (bad !== null)
    ctx.addIssue({ code: "custom", message: `must not contain control, invisible or bidirectional override characters (found ${bad})` });
}

export const RegisterBody = z
  .strictObject({
    handle: Handle,
    password: z.string().min(10).max(128),
    display_name: z.string().trim().min(1).max(1_024).superRefine(noForbiddenCharacters).optional(),
    phone: Phone.optional(),
    currency: Currency.optional(),
  })
  .openapi("RegisterBody");

export const LoginBody = z
  .strictObject({ handle: z.string().min(1).max(256), password: z.string().min(1).max(1_024) })
  .openapi("LoginBody");

export const AmountBody = z.strictObject({ amount: Amount }).openapi("AmountBody");

export const Recipient = z
  .union([z.strictObject({ wallet_id: Id }), z.strictObject({ handle: z.string().min(1).max(64) }), z.strictObject({ phone: Phone })])
  .openapi("Recipient", { description: "Exactly one of wallet_id, handle or phone" });

export const TransferBody = z
  .strictObject({
    from_wallet_id: Id,
    to: Recipient,
    amount: Amount,
    memo: z.string().max(4_000).superRefine(noForbiddenCharacters).nullable().optional(),
  })
  .openapi("TransferBody");

export const HistoryQuery = z.object({
  limit: z
    .string()
    .regex(/^\d{1,4}$/, "a whole number")
    .optional()
    .openapi({ description: "1..200, default 50" }),
  cursor: z.string().max(200).optional().openapi({ description: "next_cursor of the previous page" }),
});

/** The history's filters (v1.1): all optional, all applied by the server, together with `limit` and `cursor`. */
export const HistoryFilterQuery = HistoryQuery.extend({
  kind: z.enum(["deposit", "withdrawal", "transfer_in", "transfer_out"]).optional().openapi({ description: "Only entries of this kind" }),
  from: z.string().max(64).optional().openapi({ description: "ISO 8601 instant with a zone; entries at or after it" }),
  to: z.string().max(64).optional().openapi({ description: "ISO 8601 instant with a zone; entries strictly before it" }),
  counterparty: Handle.optional().openapi({ description: "A handle: only entries with that user's wallets (none for an unknown handle)" }),
});

export const BalanceAtQuery = z.object({
  at: z.string().max(64).openapi({ description: "ISO 8601 instant with a zone, like 2026-11-30T10:00:00Z" }),
});

export const BalanceAt = z
  .object({ wallet_id: z.string(), at: z.string(), balance: z.number().int(), seq: z.number().int() })
  .openapi("BalanceAt");

export const StatementQuery = z.object({
  from: z.string().max(16).openapi({ description: "First UTC day of the period, YYYY-MM-DD" }),
  to: z.string().max(16).openapi({ description: "Last UTC day of the period (inclusive), YYYY-MM-DD; at most 366 days" }),
  format: z.enum(["json", "csv", "pdf"]).optional().openapi({ description: "json (default), csv or pdf" }),
});

export const WalletIdParam = z.object({ wallet_id: Id.openapi({ param: { name: "wallet_id", in: "path" } }) });
export const TransferIdParam = z.object({ transfer_id: Id.openapi({ param: { name: "transfer_id", in: "path" } }) });

/** For POSTs that move no money: the key is optional, and a repeat with it replays the first answer. */
export const OptionalIdempotencyHeaders = z.object({
  "idempotency-key": z
    .string()
    .openapi({ param: { name: "idempotency-key", in: "header", required: false }, description: "1..255 printable ASCII; optional" })
    .optional(),
});

export const IdempotencyHeaders = z.object({
  "idempotency-key": z
    .string()
    .openapi({ param: { name: "idempotency-key", in: "header", required: true }, description: "1..255 printable ASCII" })
    .optional(),
});

export const User = z.object({ id: z.string(), handle: z.string(), display_name: z.string(), created_at: z.string() }).openapi("User");

export const Wallet = z
  .object({
    id: z.string(),
    owner_id: z.string(),
    currency: z.string(),
    balance: z.number().int(),
    available: z.number().int(),
    held: z.number().int(),
    version: z.number().int(),
    chain: z.object({ head_seq: z.number().int(), head_hash: z.string(), verified_seq: z.number().int() }),
  })
  .openapi("Wallet");

export const Entry = z
  .object({
    id: z.string(),
    seq: z.number().int(),
    kind: z.enum(["deposit", "withdrawal", "transfer_in", "transfer_out"]),
    amount: z.number().int(),
    balance_after: z.number().int(),
    transfer_id: z.string(),
    counterparty: z.string().nullable(),
    memo: z.string().nullable(),
    created_at: z.string(),
    prev_hash: z.string(),
    hash: z.string(),
    refund_of: z.string().nullable().openapi({ description: "The transfer this entry's refund gives money back for (not hashed)" }),
  })
  .openapi("Entry");

export const Statement = z
  .object({
    wallet_id: z.string(),
    currency: z.string(),
    from: z.string(),
    to: z.string(),
    opening_balance: z.number().int(),
    total_in: z.number().int(),
    total_out: z.number().int(),
    closing_balance: z.number().int(),
    entries: z.array(Entry),
    chain_head: z.object({ seq: z.number().int(), hash: z.string() }),
  })
  .openapi("Statement");

export const SignedStatement = z
  .object({
    statement: Statement,
    signature: z.object({ alg: z.literal("Ed25519"), key_id: z.string(), value: z.string() }),
  })
  .openapi("SignedStatement");

export const Transfer = z
  .object({
    id: z.string(),
    status: z.enum(["succeeded", "failed", "pending"]),
    from_wallet_id: z.string().nullable(),
    to_wallet_id: z.string().nullable(),
    amount: z.number().int(),
    currency: z.string().nullable(),
    memo: z.string().nullable(),
    created_at: z.string(),
    completed_at: z.string().nullable(),
    failure_code: z.string().optional(),
    refund_of: z.string().nullable().openapi({ description: "The transfer this one refunds; null otherwise" }),
    refunded_amount: z
      .number()
      .int()
      .openapi({ description: "Sum of this transfer's succeeded refunds (as of a GET; an answer and its replays show 0)" }),
    payment_request_id: z.string().nullable().openapi({ description: "The payment request this transfer paid; null otherwise" }),
  })
  .openapi("Transfer");

export const RefundBody = z
  .strictObject({
    amount: Amount,
    memo: z.string().max(4_000).superRefine(noForbiddenCharacters).nullable().optional(),
  })
  .openapi("RefundBody");

export const Movement = z
  .object({
    id: z.string(),
    status: z.enum(["succeeded", "failed", "pending"]),
    wallet_id: z.string(),
    amount: z.number().int(),
    currency: z.string().nullable(),
    created_at: z.string(),
    completed_at: z.string().nullable(),
    failure_code: z.string().optional(),
  })
  .openapi("Movement");

export const AuditRow = z
  .object({
    id: z.string(),
    transfer_id: z.string(),
    kind: z.enum(["transfer", "deposit", "withdrawal"]),
    status: z.enum(["succeeded", "failed"]),
    from_wallet_id: z.string().nullable(),
    to_wallet_id: z.string().nullable(),
    amount: z.number().int(),
    currency: z.string().nullable(),
    failure_code: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi("AuditRow");

/** Every code the API answers with, from the one table in errors.ts: clients branch on these. */
const ERROR_CODES = Object.keys(ERRORS) as [ErrorCode, ...ErrorCode[]];

/** The error body with `error.code` one of `codes`. */
function errorBodyOf(codes: readonly [ErrorCode, ...ErrorCode[]]) {
  return z.object({
    error: z.object({
      code: z.enum(codes),
      message: z.string(),
      request_id: z.string(),
      details: z.array(z.object({ field: z.string(), issue: z.string() })).optional(),
      transfer_id: z.string().optional(),
    }),
  });
}

/** The error body with any code (the web client's `ContractError`); each route documents its own narrower list. */
export const ErrorBody = errorBodyOf(ERROR_CODES).openapi("Error");

/** An error response of the OpenAPI document: its description names its codes, and its schema allows only them. */
export interface ErrorResponse {
  description: string;
  content: { "application/json": { schema: z.ZodType } };
}

/**
 * The error responses for exactly `codes`, one per status of the one table in errors.ts, each allowing only the
 * codes of that status. Routes get theirs through `withErrors` (declared-errors.ts), which derives the list.
 */
export function errorResponses(codes: readonly ErrorCode[]): Record<number, ErrorResponse> {
  const byStatus = new Map<number, [ErrorCode, ...ErrorCode[]]>();
  for (const code of codes) {
    const status = ERRORS[code].status;
    const list = byStatus.get(status);
    if (list === undefined) byStatus.set(status, [code]);
    else list.push(code);
  }
  const out: Record<number, ErrorResponse> = {};
  for (const [status, list] of [...byStatus].sort(([a], [b]) => a - b)) {
    out[status] = { description: `Error: ${list.join(", ")}`, content: { "application/json": { schema: namedErrorBody(list) } } };
  }
  return out;
}

const errorBodies = new Map<string, z.ZodType>();

/**
 * The error body for one list of codes, as a named schema (`Error_forbidden_or_not_found`), made once: routes
 * that share a list share its schema, and the document reads as the list of codes.
 */
function namedErrorBody(codes: [ErrorCode, ...ErrorCode[]]): z.ZodType {
  const name = `Error_${codes.join("_or_")}`;
  let schema = errorBodies.get(name);
  if (schema === undefined) {
    schema = errorBodyOf(codes).openapi(name);
    errorBodies.set(name, schema);
  }
  return schema;
}

/** A JSON response entry for the OpenAPI document. */
export function jsonContent<T extends z.ZodType>(
  schema: T,
  description: string,
): { description: string; content: { "application/json": { schema: T } } } {
  return { description, content: { "application/json": { schema } } };
}

/** A person as a payment request shows them: by handle and display name, or (named by phone) by that phone only. */
const RequestParty = z.union([z.object({ handle: z.string(), display_name: z.string() }), z.object({ phone: z.string() })]);

export const PaymentRequest = z
  .object({
    id: z.string(),
    status: z.enum(["open", "paid", "declined", "cancelled", "expired"]),
    requester: z.object({ handle: z.string(), display_name: z.string() }),
    requester_wallet_id: z.string(),
    payer: RequestParty,
    amount: z.number().int(),
    currency: z.string(),
    memo: z.string().nullable(),
    created_at: z.string(),
    expires_at: z.string(),
    resolved_at: z.string().nullable(),
    transfer_id: z.string().nullable(),
    split_id: z.string().nullable(),
  })
  .openapi("PaymentRequest");

const Memo = z.string().max(4_000).superRefine(noForbiddenCharacters).nullable().optional();

export const PaymentRequestBody = z
  .strictObject({
    wallet_id: Id,
    payer: Recipient,
    amount: Amount,
    memo: Memo,
    expires_in_s: z.number().int().min(60).max(2_592_000).optional().openapi({ description: "60 .. 2,592,000; default 604,800" }),
  })
  .openapi("PaymentRequestBody");

export const SplitBody = z
  .strictObject({
    wallet_id: Id,
    memo: Memo,
    shares: z
      .array(z.strictObject({ payer: Recipient, amount: Amount }))
      .min(2)
      .max(200)
      .openapi({ description: "2 .. SPLIT_MAX_SHARES shares, payers distinct as written" }),
    expires_in_s: z.number().int().min(60).max(2_592_000).optional(),
  })
  .openapi("SplitBody");

export const Split = z
  .object({ id: z.string(), memo: z.string().nullable(), amount: z.number().int(), requests: z.array(PaymentRequest) })
  .openapi("Split");

export const PayBody = z.strictObject({ from_wallet_id: Id }).openapi("PayBody");

export const RequestIdParam = z.object({ request_id: Id.openapi({ param: { name: "request_id", in: "path" } }) });

export const RequestListQuery = z.object({
  role: z.enum(["incoming", "outgoing"]).optional().openapi({ description: "default incoming" }),
  status: z.enum(["open", "paid", "declined", "cancelled", "expired"]).optional(),
  limit: z.string().optional(),
  cursor: z.string().optional(),
});
