/**
 * Verification of one wallet's hash chain as D1 mirrors it, independent of the wallet object: every link is
 * recomputed from its fields, so an edited amount, a deleted row or a re-linked chain is found and named by
 * its `seq`. Pure functions over rows, so tests can feed them tampered data directly.
 */
import { GENESIS_HASH, entryHash } from "../domain/hash-chain";
import type { EntryView } from "../domain/views";

/** One thing wrong, named precisely enough to act on. */
export interface Problem {
  wallet_id: string | null;
  seq: number | null;
  transfer_id?: string;
  kind: string;
  detail: string;
}

/** Where a verified chain ends: the head to compare with the wallet object's. */
export interface ChainEnd {
  last_seq: number;
  head_hash: string;
  balance: number;
}

/** The start of a chain: its genesis. */
export const GENESIS: ChainEnd = { last_seq: 0, head_hash: GENESIS_HASH, balance: 0 };

/**
 * Checks `entries` (ordered by seq) as a chain continuing from `from` (the genesis by default, or a point
 * verified earlier); returns where it ends.
 */
export function verifyChain(walletId: string, entries: readonly EntryView[], problems: Problem[], from: ChainEnd = GENESIS): ChainEnd {
  let prev = from.head_hash;
  let balance = from.balance;
  let expected = from.last_seq + 1;
  for (const e of entries) {
    const at = (kind: string, detail: string): void => void problems.push({ wallet_id: walletId, seq: e.seq, kind, detail });
    if (e.seq !== expected) at("gap", `expected seq ${expected}, found ${e.seq}: entries ${expected}..${e.seq - 1} are missing`);
    if (e.prev_hash !== prev)
      at("broken_link", `prev_hash ${e.prev_hash.slice(0, 12)}… does not match the previous entry's hash ${prev.slice(0, 12)}…`);
    const { hash, ...fields } = e;
    const recomputed = entryHash(walletId, fields);
    if (recomputed !== hash)
      at(
        "hash_mismatch",
        `the entry's fields hash to ${recomputed.slice(0, 12)}…, not its stored ${hash.slice(0, 12)}… (a field was changed)`,
      );
    balance += e.amount;
    if (e.balance_after !== balance) at("balance_after", `balance_after ${e.balance_after} but the amounts so far sum to ${balance}`);
    if (!Number.isSafeInteger(e.amount) || e.amount === 0) at("amount", `amount ${e.amount} is not a non-zero safe integer`);
    prev = hash;
    expected = e.seq + 1;
  }
  return { last_seq: expected - 1, head_hash: prev, balance };
}
