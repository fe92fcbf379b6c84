/**
 * The wallet object's RPC surface for finding things (history filters, balances in the past, statements):
 * read-only methods, their inputs and closed result unions. Kept apart from rpc.ts, whose methods move money.
 */
import type { EntryView } from "../domain/views";
import type { HistoryFilter } from "./history-queries";

export interface FindHistoryInput {
  filter: HistoryFilter;
  /** Return entries with `seq` below this one (newest first); omit for the newest page. */
  before_seq?: number;
  limit: number;
}

/** The balance just after the last entry at or before `at`; `seq` 0 and balance 0 before the first entry. */
export type BalanceAtResult = { code: "ok"; balance: number; seq: number } | { code: "not_found" };

export interface StatementBoundsInput {
  /** The first instant of the period (inclusive), as `toISOString()` writes it. */
  from: string;
  /** The first instant after the period (exclusive). */
  to: string;
}

/**
 * Where a statement's period lies in the chain: entries `lo..hi` (none when `hi < lo`), the balance before the
 * first of them, and the chain head at the end of the period (the last entry in it or before it; `seq` 0 and
 * the genesis hash when there is none).
 */
export type StatementBoundsResult =
  | {
      code: "ok";
      currency: string;
      lo: number;
      hi: number;
      opening_balance: number;
      chain_head: { seq: number; hash: string };
    }
  | { code: "not_found" };

/** Entries `after_seq + 1 ..= upto_seq`, oldest first, at most `limit` (at most 1,000) per call. */
export interface EntryRangeInput {
  after_seq: number;
  upto_seq: number;
  limit: number;
}
export type EntryRangeResult = { code: "ok"; items: EntryView[] } | { code: "not_found" };
