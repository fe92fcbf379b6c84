/**
 * The wallet object's RPC surface: inputs and closed result unions. Every method that changes money is
 * idempotent by `transfer_id` (the id of the transfer, deposit or withdrawal): a repeat returns `exists` with
 * what the first call did, never a second movement. Refusals are results, not thrown errors, because RPC
 * drops the properties of custom errors.
 */
import type { EntryView, WalletView } from "../domain/views";

export interface InitInput {
  wallet_id: string;
  owner_id: string;
  currency: string;
}
export type InitResult = { code: "created"; wallet: WalletView } | { code: "exists"; wallet: WalletView } | { code: "conflict" };

export type SnapshotResult = { code: "ok"; wallet: WalletView } | { code: "not_found" };

export interface HistoryInput {
  /** Return entries with `seq` below this one (newest first); omit for the newest page. */
  before_seq?: number;
  limit: number;
}
export type HistoryResult = { code: "ok"; items: EntryView[]; next_before_seq: number | null } | { code: "not_found" };

export interface ReserveInput {
  transfer_id: string;
  /** The user moving the money; the wallet refuses anyone but its owner. */
  owner_id: string;
  amount: number;
  /** False for a refund, which does not count toward the daily limit; omitted: true. */
  daily?: boolean;
}
export type ReserveResult =
  | { code: "reserved"; wallet: WalletView }
  | { code: "exists"; state: "held" | "captured"; wallet: WalletView }
  | { code: "released"; reason: string }
  | { code: "not_found" }
  | { code: "forbidden" }
  | { code: "insufficient_funds"; currency: string }
  | { code: "daily_limit_exceeded"; currency: string };

export interface CaptureInput {
  transfer_id: string;
  counterparty: string;
  memo: string | null;
  /** The transfer a refund gives money back for; omitted or null for any other transfer. */
  refund_of?: string | null;
}
export type CaptureResult =
  | { code: "captured"; entry: EntryView; wallet: WalletView }
  | { code: "exists"; entry: EntryView; wallet: WalletView }
  | { code: "released" }
  | { code: "no_hold" }
  | { code: "not_found" };

export interface ReleaseInput {
  transfer_id: string;
  /** Why the transfer was refused after its hold (a result code); kept on the hold for replays. */
  reason: string;
}
export type ReleaseResult =
  { code: "released"; wallet: WalletView } | { code: "exists"; wallet: WalletView } | { code: "captured" } | { code: "not_found" };

export interface CreditInput {
  transfer_id: string;
  amount: number;
  currency: string;
  counterparty: string;
  memo: string | null;
  /** The transfer a refund gives money back for; omitted or null for any other transfer. */
  refund_of?: string | null;
}
export type CreditResult =
  | { code: "credited"; entry: EntryView; wallet: WalletView }
  | { code: "exists"; entry: EntryView; wallet: WalletView }
  | { code: "not_found" }
  | { code: "currency_mismatch" }
  | { code: "balance_limit_exceeded" };

export interface DepositInput {
  transfer_id: string;
  owner_id: string;
  amount: number;
}
export type DepositResult =
  | { code: "credited"; entry: EntryView; wallet: WalletView }
  | { code: "exists"; entry: EntryView; wallet: WalletView }
  | { code: "not_found" }
  | { code: "forbidden" }
  | { code: "balance_limit_exceeded" };

export interface WithdrawInput {
  transfer_id: string;
  owner_id: string;
  amount: number;
}
export type WithdrawResult =
  | { code: "debited"; entry: EntryView; wallet: WalletView }
  | { code: "exists"; entry: EntryView; wallet: WalletView }
  | { code: "not_found" }
  | { code: "forbidden" }
  | { code: "insufficient_funds"; currency: string }
  | { code: "daily_limit_exceeded"; currency: string };

/** What the wallet holds open: for the auditor and for tests of "no hold left behind". */
export interface OpenHold {
  transfer_id: string;
  amount: number;
  created_at_ms: number;
}

/** The wallet's chain head and balances, for the auditor's comparison with D1. */
export type ChainHeadResult =
  | { code: "ok"; last_seq: number; head_hash: string; balance: number; held: number; oldest_hold_created_at_ms: number | null }
  | { code: "not_found" };

/** The self-audit's report that D1's chain matched through `seq`, ending in `hash`. */
export type MarkVerifiedResult = { code: "marked" } | { code: "unchanged" } | { code: "mismatch"; detail: string } | { code: "not_found" };
