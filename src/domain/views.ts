/**
 * The shapes the contract exposes (wallet, entry, transfer, audit row). Durable Objects return these over RPC
 * and the edge serialises them as they are, so one definition serves storage, RPC and HTTP.
 */

/** A wallet as the contract shows it: `available = balance - held`, `version` counts changes. */
export interface WalletView {
  id: string;
  owner_id: string;
  currency: string;
  balance: number;
  available: number;
  held: number;
  version: number;
  /**
   * The wallet's hash chain: where it ends, and how far the continuous self-audit has recomputed D1's copy
   * and matched it against this wallet. A client that kept an earlier head can tell if history was rewritten.
   */
  chain: { head_seq: number; head_hash: string; verified_seq: number };
}

/** The four kinds of history entry. */
export type EntryKind = "deposit" | "withdrawal" | "transfer_in" | "transfer_out";

/** One history entry: a link of the wallet's hash chain. `amount` is signed (negative out). */
export interface EntryView {
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
  /** The transfer this entry's refund gives money back for (contract v1.1); null otherwise, and not hashed. */
  refund_of: string | null;
}
