/**
 * The coordinator's RPC surface. One coordinator serves one user (it is named by the user id), which is
 * exactly the scope of an Idempotency-Key. Outcomes are closed unions; the edge maps each code to HTTP in
 * one table (src/api/errors.ts) and renders stored outcomes deterministically, so replays are byte-identical.
 */
import type { MovementKind } from "../domain/ids";

/** The user a coordinator serves, as recorded at their last login (or role change). */
export interface Profile {
  user_id: string;
  handle: string;
  role: "user" | "auditor";
  /** The wallets this user owns, oldest first (one today; a list so the contract's `wallets: [wallet]` holds). */
  wallet_ids: string[];
}

/** The authenticated caller: the profile behind a live session, that session's token hash and its expiry. */
export interface Caller extends Profile {
  token_hash: string;
  /** When the session expires (epoch ms): a live feed socket opened with it gets nothing after this. */
  expires_at_ms: number;
}

export type AuthResult = { code: "ok"; caller: Caller } | { code: "unauthenticated" };

/** Who the money goes to. A phone number never reaches the coordinator, only its keyed blind index. */
export type Recipient = { wallet_id: string } | { handle: string } | { phone_index: string };

/** What every money-moving request carries besides its own fields. */
export interface MovementRequestBase {
  /** The user the session token names; the coordinator serves only that user. */
  user_id: string;
  /** The session to check before anything else (the hash of the caller's token). */
  token_hash: string;
  idempotency_key: string;
  /** SHA-256 of the route and the canonical body: a key reused with anything else is refused. */
  request_hash: string;
  request_id: string;
}

export interface TransferRequest extends MovementRequestBase {
  from_wallet_id: string;
  to: Recipient;
  amount: number;
  memo: string | null;
}

export interface RefundRequest extends MovementRequestBase {
  /** The transfer to give money back for; the caller must be its recipient. */
  refund_of: string;
  amount: number;
  memo: string | null;
}

export interface PayRequest extends MovementRequestBase {
  payment_request_id: string;
  from_wallet_id: string;
}

/** A page of sent transfers (see TransferCoordinator.listSent); a null filter does not narrow. */
export interface SentQuery {
  before: { at_ms: number; id: string } | null;
  from_ms: number | null;
  status: "succeeded" | "failed" | "pending" | null;
  /** Sent from these wallets. */
  wallet_ids: string[] | null;
  /** Sent to these wallets (the counterparty's). */
  to_wallet_ids: string[] | null;
  limit: number;
}

/** Contacts as one coordinator knows them (see TransferCoordinator.contactSources). */
export interface ContactSources {
  /** The recipients of the latest sent transfers, each with its id and, for a refund, the transfer it refunds. */
  wallets: { wallet_id: string; at_ms: number; by_phone: boolean; transfer_id: string; refund_of: string | null }[];
  /** `transfer_id`: the transfer that paid this user's request to them (null unless paid, or not a request of theirs). */
  users: { user_id: string; at_ms: number; by_phone: boolean; transfer_id: string | null }[];
  /**
   * The transfers between this user and someone they know only by phone (sent to a phone, or paying a request
   * addressed to one), among those named in `wallets` and `users`, the refunded transfers of `wallets`, and the ids
   * the edge asked about: a payment or refund that answers one of them must not name its sender either.
   */
  phone_only: string[];
}

export interface SingleWalletRequest extends MovementRequestBase {
  wallet_id: string;
  amount: number;
}

/** The refusals a movement can end with; each is stored and replayed like a success. The one list of them. */
export const FAILURE_CODES = [
  "forbidden",
  "not_found",
  "insufficient_funds",
  "daily_limit_exceeded",
  "currency_mismatch",
  "same_wallet",
  "balance_limit_exceeded",
  "request_not_open",
  "transfer_not_refundable",
  "refund_exceeds_transfer",
] as const;
export type FailureCode = (typeof FAILURE_CODES)[number];

/**
 * The refusals each operation can end with, as its steps decide them (coordinator/steps.ts: runTransfer,
 * runDeposit, runWithdrawal, runRefund, runPayment), for the error lists of the routes that start them. A
 * deposit only credits an owned wallet, so it cannot run out of funds; a refund reserves without the daily
 * limit and credits a wallet of the refunded transfer's own currency. The tests check that no answer falls
 * outside these lists: in test mode a code its route does not declare fails them (api/declared-errors.ts).
 */
export const OPERATION_FAILURES = {
  transfer: [
    "forbidden",
    "not_found",
    "currency_mismatch",
    "same_wallet",
    "insufficient_funds",
    "daily_limit_exceeded",
    "balance_limit_exceeded",
  ],
  deposit: ["forbidden", "not_found", "balance_limit_exceeded"],
  withdrawal: ["forbidden", "not_found", "insufficient_funds", "daily_limit_exceeded"],
  refund: ["forbidden", "not_found", "transfer_not_refundable", "refund_exceeds_transfer", "insufficient_funds", "balance_limit_exceeded"],
  payment: [
    "forbidden",
    "not_found",
    "request_not_open",
    "currency_mismatch",
    "same_wallet",
    "insufficient_funds",
    "daily_limit_exceeded",
    "balance_limit_exceeded",
  ],
} as const satisfies Record<string, readonly FailureCode[]>;

/** An operation that moves money through a coordinator. */
export type Operation = keyof typeof OPERATION_FAILURES;

/** A movement as the coordinator records it, in the contract's transfer shape plus its kind. */
export interface MovementView {
  id: string;
  kind: MovementKind;
  status: "succeeded" | "failed" | "pending";
  from_wallet_id: string | null;
  to_wallet_id: string | null;
  amount: number;
  currency: string | null;
  memo: string | null;
  failure_code: FailureCode | null;
  request_id: string;
  created_at: string;
  completed_at: string | null;
  /** The transfer this one refunds; null otherwise. */
  refund_of: string | null;
  /** The payment request this transfer paid; null otherwise. */
  payment_request_id: string | null;
  /**
   * The sum of this transfer's succeeded refunds as of the read. An answer to the request that made the
   * transfer (and so its replays) shows 0: replays are frozen at the first answer.
   */
  refunded_amount: number;
}

export type MovementOutcome =
  | { code: "created"; replayed: boolean; movement: MovementView }
  | { code: FailureCode; replayed: boolean; movement: MovementView }
  /** The session is not live (expired, revoked, or never issued); nothing was looked at. */
  | { code: "unauthenticated" }
  | { code: "idempotency_key_reused" }
  | { code: "idempotency_in_progress" }
  /** Too many new movements for this user just now; nothing was recorded. */
  | { code: "rate_limited"; retry_after_s: number }
  /** The movement is recorded but could not finish now; recovery continues and a retry gets the outcome. */
  | { code: "unavailable" };

export type ReadMovementResult = { code: "ok"; movement: MovementView } | { code: "not_found" } | { code: "forbidden" };

/** A movement with the entries it produced (wallet id and entry), for receipts. */
export type MovementEntriesResult =
  | { code: "ok"; movement: MovementView; entries: { wallet_id: string; entry: import("../domain/views").EntryView }[] }
  | { code: "not_found" }
  | { code: "forbidden" };

/** Named points between the coordinator's steps where tests inject a crash. */
export type Failpoint =
  | "after_start"
  | "after_resolve"
  /** After a refund claimed its room on the refunded transfer. */
  | "after_claim"
  | "after_reserve"
  | "after_credit"
  | "after_capture"
  | "after_release"
  | "after_finish"
  /** After a success's own events are appended, before the movement may end. */
  | "after_events"
  | "before_d1_write"
  | "after_d1_write"
  /** After a movement is recorded, before its recovery alarm is set. */
  | "before_alarm";

/**
 * How a failpoint fails: throw out of the step, abort the whole object (losing its memory), or fill the disk
 * under the object's storage (src/db/faults.ts) and carry on, so the next write fails.
 */
export type FailMode = "throw" | "abort" | "fill_disk";
