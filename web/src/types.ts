/**
 * The shapes of the public contract as the client reads them, under short names. Every one comes from
 * ./generated/api.ts, which `npm run gen:api` makes from the server's own OpenAPI document (built from the zod
 * schemas that validate each request), so the client cannot drift from the server: `npm test` checks that the
 * generated files match the server's schemas.
 */

import type { components, paths } from "./generated/api";

type Schemas = components["schemas"];
/** The JSON body of a route's 200 answer. */
type Ok<P extends keyof paths, M extends "get" | "post"> = paths[P][M] extends {
  responses: { 200: { content: { "application/json": infer B } } };
}
  ? B
  : never;

/** The error body's inner object: clients branch on `code`, never on `message`. */
export type ContractError = Schemas["Error"]["error"];
/** One field-level problem of a `validation_error`. */
export type ErrorDetail = NonNullable<ContractError["details"]>[number];
/**
 * An error as the client handles it: a contract error, or one the client makes itself (`network_error` when
 * nothing came back, `http_error` when a proxy answered with something that is not the contract's body). A code
 * this client does not know yet (a newer server's) is kept as it came and handled by its HTTP status.
 */
export type ApiErrorBody = Omit<ContractError, "code" | "transfer_id"> & {
  code: ContractError["code"] | "network_error" | "http_error" | (string & {});
};

export type User = Schemas["User"];
export type Wallet = Schemas["Wallet"];
export type Me = Ok<"/me", "get">;
/** The user as `GET /me` shows them to themselves: with the masked phone and the role. */
export type MeUser = Me["user"];
export type Entry = Schemas["Entry"];
export type EntryKind = Entry["kind"];
/** An entry as a history page lists it: with its counterparty's display name, read by the server for the page. */
export type HistoryEntry = Schemas["HistoryEntry"];
export type Transfer = Schemas["Transfer"];
/** A deposit or withdrawal as its POST answers it. */
export type Movement = Schemas["Movement"];
export type AuditRow = Schemas["AuditRow"];
/** One page of GET /audit/verify (the model asks for pages and combines them). */
export type VerifyResult = Ok<"/audit/verify", "get">;
/** One thing the verifier found wrong, named by wallet, seq and movement where it can be. */
export type VerifyProblem = VerifyResult["problems"][number];
/** How far the continuous self-audit is behind the audit log (GET /audit/self-audit). */
export type SelfAuditStatus = Ok<"/audit/self-audit", "get">;
/** GET /audit/totals: deposits minus withdrawals beside the sum of balances, per time bucket. */
export type AuditTotals = Ok<"/audit/totals", "get">;

/** A request for money, to its requester or its payer (contract v1.1). */
export type PaymentRequest = Schemas["PaymentRequest"];
export type PaymentRequestStatus = PaymentRequest["status"];
/** A bill split into one payment request per share. */
export type Split = Schemas["Split"];
/** Who is asked to pay: the contract's `Recipient` (a handle, a phone number or a wallet id). */
export type PayerInput = Schemas["Recipient"];

/** GET /me/contacts: the people the user dealt with, most recent first. */
export type ContactsBody = Ok<"/me/contacts", "get">;
/** Someone the user paid, was paid by, or exchanged requests with. */
export type Contact = Schemas["Contact"];

/** The combined verdict of every page, as the auditor's screen shows it. */
export interface VerifySummary {
  ok: boolean;
  wallets_checked: number;
  entries_checked: number;
  pending: number;
  problems: VerifyProblem[];
  problems_omitted: number;
  /** Wallets past the live budget that the self-audit's marks cover, and those nobody has checked (coverage). */
  verified_by_self_audit: number;
  unverified_wallets: number;
  wallets_total: number;
  /** The transparency log checked against D1 on the first page (null: the server did not check it). */
  log: LogCoverage | null;
}

/** How much of the ledger the transparency log covers: leaves, those compared with D1 by this check, entries in no checkpoint yet. */
export type LogCoverage = NonNullable<VerifyResult["log"]>;

/** A cursor page: `next_cursor` is null on the last page. */
export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}
