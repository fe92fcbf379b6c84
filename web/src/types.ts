/**
 * The shapes of the public contract (/work/shared/api-contract.md) as the client reads them. They mirror the
 * server's views; the client never sends or trusts anything beyond these fields.
 */

/** One field-level problem of a `validation_error`. */
export interface ErrorDetail {
  field: string;
  issue: string;
}

/** The body of every error: clients branch on `code`, never on `message`. */
export interface ApiErrorBody {
  code: string;
  message: string;
  request_id: string;
  details?: ErrorDetail[];
}

export interface User {
  id: string;
  handle: string;
  display_name: string;
  created_at: string;
}

/** The user as `GET /me` shows them to themselves: with the masked phone and the role. */
export interface MeUser extends User {
  phone: string | null;
  role: string;
}

export interface Wallet {
  id: string;
  owner_id: string;
  currency: string;
  balance: number;
  available: number;
  held: number;
  version: number;
}

export interface Me {
  user: MeUser;
  wallets: Wallet[];
}

export type EntryKind = "deposit" | "withdrawal" | "transfer_in" | "transfer_out";

export interface Entry {
  id: string;
  seq: number;
  kind: EntryKind;
  amount: number;
  balance_after: number;
  transfer_id: string;
  counterparty: string | null;
  memo: string | null;
  created_at: string;
  prev_hash: string;
  hash: string;
}

export interface Transfer {
  id: string;
  status: "succeeded" | "failed" | "pending";
  from_wallet_id: string | null;
  to_wallet_id: string | null;
  amount: number;
  currency: string | null;
  memo: string | null;
  created_at: string;
  completed_at: string | null;
  failure_code?: string;
}

/** A deposit or withdrawal as its POST answers it. */
export interface Movement {
  id: string;
  status: "succeeded" | "failed" | "pending";
  wallet_id: string;
  amount: number;
  currency: string | null;
  created_at: string;
  completed_at: string | null;
  failure_code?: string;
}

export interface AuditRow {
  id: string;
  transfer_id: string;
  kind: "transfer" | "deposit" | "withdrawal";
  status: "succeeded" | "failed";
  from_wallet_id: string | null;
  to_wallet_id: string | null;
  amount: number;
  currency: string | null;
  failure_code: string | null;
  created_at: string;
}

/** One page of GET /audit/verify (the model asks for pages and combines them). */
export interface VerifyResult {
  ok: boolean;
  complete: boolean;
  wallets_checked: number;
  entries_checked: number;
  pending: number;
  problems: VerifyProblem[];
  problems_omitted: number;
  next_cursor: string | null;
  progress: { wallets_done: number; wallets_total: number };
}

/** One thing the verifier found wrong, named by wallet, seq and movement where it can be. */
export interface VerifyProblem {
  wallet_id: string | null;
  seq: number | null;
  transfer_id?: string;
  kind: string;
  detail: string;
}

/** The combined verdict of every page, as the auditor's screen shows it. */
export interface VerifySummary {
  ok: boolean;
  wallets_checked: number;
  entries_checked: number;
  pending: number;
  problems: VerifyProblem[];
  problems_omitted: number;
}

/** How far the continuous self-audit is behind the audit log (GET /audit/self-audit). */
export interface SelfAuditStatus {
  audited_through_seq: number;
  newest_seq: number;
  backlog_rows: number;
  oldest_waiting_at: string | null;
  lag_ms: number;
  last_run_at: string | null;
  findings: number;
}

/** A cursor page: `next_cursor` is null on the last page. */
export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}
