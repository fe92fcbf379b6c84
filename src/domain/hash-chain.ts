/**
 * The per-wallet hash chain. Each entry's `hash` is SHA-256 (lower-case hex) over a canonical JSON array of
 * the entry's fields and the previous entry's hash; the first entry's `prev_hash` is 64 zeros. The array form
 * (not an object) fixes the field order, and JSON.stringify of strings, integers and null is canonical, so any
 * client can recompute a hash with a few lines of code (see docs/architecture.md).
 *
 * The hash is computed with a synchronous SHA-256 (not `crypto.subtle.digest`, which returns a promise) so a
 * wallet can compute it and write the balance and the entry in one synchronous block, with no `await` in
 * between that would let another request interleave.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import type { EntryView } from "./views";

/** The `prev_hash` of a wallet's first entry. */
export const GENESIS_HASH = "0".repeat(64);

/** The version tag that leads every canonical form; a new field means a new tag, never an edit. */
export const CHAIN_VERSION = "v1";

/** The canonical text that is hashed for `entry` of wallet `walletId`. */
export function canonicalEntry(walletId: string, entry: Omit<EntryView, "hash" | "refund_of">): string {
  return JSON.stringify([
    CHAIN_VERSION,
    walletId,
    entry.seq,
    entry.id,
    entry.kind,
    entry.amount,
    entry.balance_after,
    entry.transfer_id,
    entry.counterparty,
    entry.memo,
    entry.created_at,
    entry.prev_hash,
  ]);
}

/** SHA-256 of `text` (UTF-8) as lower-case hex, computed synchronously. */
export function sha256Hex(text: string): string {
  return bytesToHex(sha256(utf8ToBytes(text)));
}

/** The hash `entry` must carry. */
export function entryHash(walletId: string, entry: Omit<EntryView, "hash" | "refund_of">): string {
  return sha256Hex(canonicalEntry(walletId, entry));
}
