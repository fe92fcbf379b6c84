/**
 * The transparency log's Merkle tree, exactly as RFC 9162 section 2.1 defines it (the same tree as RFC 6962):
 *
 *   MTH({})      = SHA-256()
 *   MTH({d0})    = SHA-256(0x00 || d0)
 *   MTH(D[0:n])  = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n])), k the largest power of two below n.
 *
 * This module is pure and synchronous (SHA-256 from @noble/hashes), so the same code runs in the Worker, the
 * browser and the Node tools. Proof *generation* is split in two: `inclusionRanges` and `consistencyRanges` say
 * which subtrees' hashes a proof consists of (pure arithmetic on sizes), and the caller reads those hashes from
 * wherever the tree is stored (`rangeHash` turns any range into the few complete subtrees it is made of). So a
 * proof costs O(log n) stored node reads whatever the store. Proof *verification* follows the RFC's algorithms
 * (sections 2.1.3.2 and 2.1.4.2) step by step, so a reader can check it against the text.
 *
 * The log's leaf is the UTF-8 of `JSON.stringify([wallet_id, seq, hash])` (api-contract.md, "The transparency log").
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, hexToBytes, utf8ToBytes } from "@noble/hashes/utils.js";

/** Every hash in the tree is 32 bytes. */
export const HASH_BYTES = 32;

/** A half-open range of leaf indexes, [start, end). */
export type LeafRange = readonly [start: number, end: number];

/** The bytes of the log leaf for one history entry (wallet id, seq and the entry's chain hash in hex). */
export function logLeaf(walletId: string, seq: number, entryHashHex: string): Uint8Array {
  if (!Number.isSafeInteger(seq) || seq < 1) throw new RangeError(`seq must be a positive safe integer, got ${seq}`);
  return utf8ToBytes(JSON.stringify([walletId, seq, entryHashHex]));
}

/** RFC 9162 leaf hash: SHA-256(0x00 || leaf). */
export function leafHash(leaf: Uint8Array): Uint8Array {
  const input = new Uint8Array(1 + leaf.length);
  input[0] = 0x00;
  input.set(leaf, 1);
  return sha256(input);
}

/** RFC 9162 interior node hash: SHA-256(0x01 || left || right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  if (left.length !== HASH_BYTES || right.length !== HASH_BYTES) throw new TypeError("node children must be 32-byte hashes");
  const input = new Uint8Array(1 + 2 * HASH_BYTES);
  input[0] = 0x01;
  input.set(left, 1);
  input.set(right, 1 + HASH_BYTES);
  return sha256(input);
}

/** The root of the empty tree: SHA-256 of nothing. */
export const EMPTY_ROOT: Uint8Array = sha256(new Uint8Array(0));

/** The largest power of two strictly below `n` (n ≥ 2). Arithmetic, not bit operators: sizes pass 2^31. */
export function splitPoint(n: number): number {
  if (!Number.isSafeInteger(n) || n < 2) throw new RangeError(`splitPoint needs n >= 2, got ${n}`);
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function checkSize(size: number, name: string): void {
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`${name} must be a non-negative safe integer, got ${size}`);
}

/**
 * The ranges whose hashes form the inclusion proof of leaf `index` in the tree of `size` leaves, in proof order
 * (RFC 9162 section 2.1.3.1, PATH(m, D[n])).
 */
export function inclusionRanges(index: number, size: number): LeafRange[] {
  checkSize(size, "size");
  if (!Number.isSafeInteger(index) || index < 0 || index >= size) throw new RangeError(`index ${index} is outside a tree of ${size}`);
  const out: LeafRange[] = [];
  pathRanges(index, 0, size, out);
  return out;
}

function pathRanges(m: number, start: number, end: number, out: LeafRange[]): void {
  const n = end - start;
  if (n <= 1) return;
  const k = splitPoint(n);
  if (m < k) {
    pathRanges(m, start, start + k, out);
    out.push([start + k, end]);
  } else {
    pathRanges(m - k, start + k, end, out);
    out.push([start, start + k]);
  }
}

/**
 * The ranges whose hashes form the consistency proof from the tree of `first` leaves to the tree of `second`
 * (RFC 9162 section 2.1.4.1, PROOF(m, D[n]) = SUBPROOF(m, D[n], true)). Empty when first is 0 or equals second.
 */
export function consistencyRanges(first: number, second: number): LeafRange[] {
  checkSize(first, "first");
  checkSize(second, "second");
  if (first > second) throw new RangeError(`consistency needs first <= second, got ${first} > ${second}`);
  const out: LeafRange[] = [];
  if (first === 0 || first === second) return out;
  subproofRanges(first, 0, second, true, out);
  return out;
}

function subproofRanges(m: number, start: number, end: number, complete: boolean, out: LeafRange[]): void {
  const n = end - start;
  if (m === n) {
    if (!complete) out.push([start, end]);
    return;
  }
  const k = splitPoint(n);
  if (m <= k) {
    subproofRanges(m, start, start + k, complete, out);
    out.push([start + k, end]);
  } else {
    subproofRanges(m - k, start + k, end, false, out);
    out.push([start, start + k]);
  }
}

/**
 * The complete, aligned subtrees (each `[start, start + 2^j)` with start a multiple of 2^j) that a range from a
 * proof consists of, left to right, largest first. Every range `inclusionRanges` and `consistencyRanges` return
 * decomposes this way, so a store that keeps the hash of every complete subtree can answer any proof.
 */
export function completeSubtrees(start: number, end: number): LeafRange[] {
  checkSize(start, "start");
  checkSize(end, "end");
  if (start >= end) throw new RangeError(`empty range [${start}, ${end})`);
  const out: LeafRange[] = [];
  let at = start;
  while (at < end) {
    let size = 1;
    while (at % (size * 2) === 0 && at + size * 2 <= end) size *= 2;
    out.push([at, at + size]);
    at += size;
  }
  return out;
}

/**
 * The hash of a range, given the hashes of its complete subtrees in `completeSubtrees` order: MTH of a range
 * whose start is aligned splits into its largest complete subtree on the left and the rest on the right.
 */
export function foldSubtrees(hashes: readonly Uint8Array[]): Uint8Array {
  if (hashes.length === 0) throw new RangeError("a range has at least one subtree");
  let root = hashes[hashes.length - 1] as Uint8Array;
  for (let i = hashes.length - 2; i >= 0; i--) root = nodeHash(hashes[i] as Uint8Array, root);
  return root;
}

/** The root of a whole list of leaf hashes (for small trees and checks; the log's store never needs it). */
export function rootOf(leafHashes: readonly Uint8Array[]): Uint8Array {
  if (leafHashes.length === 0) return EMPTY_ROOT;
  return rangeRoot(leafHashes, 0, leafHashes.length);
}

function rangeRoot(leaves: readonly Uint8Array[], start: number, end: number): Uint8Array {
  if (end - start === 1) return leaves[start] as Uint8Array;
  const k = splitPoint(end - start);
  return nodeHash(rangeRoot(leaves, start, start + k), rangeRoot(leaves, start + k, end));
}

function isHash(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array && value.length === HASH_BYTES;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}

/** Halve a tree index (floor), without 32-bit bit operators. */
const half = (x: number): number => Math.floor(x / 2);
const odd = (x: number): boolean => x % 2 === 1;

/**
 * RFC 9162 section 2.1.3.2: whether `proof` proves that the leaf hashed to `leaf` is at `index` in the tree of
 * `size` leaves whose root is `root`. Never throws: anything malformed is `false`.
 */
export function verifyInclusion(leaf: Uint8Array, index: number, size: number, proof: readonly Uint8Array[], root: Uint8Array): boolean {
  if (!isHash(leaf) || !isHash(root) || !Array.isArray(proof) || !proof.every(isHash)) return false;
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (odd(fn) || fn === sn) {
      r = nodeHash(p, r);
      if (!odd(fn))
        while (!odd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && equalBytes(r, root);
}

/**
 * RFC 9162 section 2.1.4.2: whether `proof` proves that the tree of `second` leaves with root `secondRoot`
 * extends the tree of `first` leaves with root `firstRoot`. The two degenerate cases the RFC leaves to the
 * caller are decided here: equal sizes need an empty proof and equal roots; an empty first tree is consistent
 * with everything (empty proof, and its root must be the empty root). Never throws.
 */
export function verifyConsistency(
  first: number,
  second: number,
  firstRoot: Uint8Array,
  secondRoot: Uint8Array,
  proof: readonly Uint8Array[],
): boolean {
  if (!isHash(firstRoot) || !isHash(secondRoot) || !Array.isArray(proof) || !proof.every(isHash)) return false;
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(second) || first < 0 || first > second) return false;
  if (first === second) return proof.length === 0 && equalBytes(firstRoot, secondRoot);
  if (first === 0) return proof.length === 0 && equalBytes(firstRoot, EMPTY_ROOT);
  if (proof.length === 0) return false;
  const path = isPowerOfTwo(first) ? [firstRoot, ...proof] : [...proof];
  let fn = first - 1;
  let sn = second - 1;
  while (odd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0] as Uint8Array;
  let sr = path[0] as Uint8Array;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (odd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (!odd(fn))
        while (!odd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && equalBytes(fr, firstRoot) && equalBytes(sr, secondRoot);
}

function isPowerOfTwo(n: number): boolean {
  let k = 1;
  while (k < n) k *= 2;
  return k === n;
}

/** Lower-case hex of a hash (the proofs' wire form). */
export const hashToHex = (hash: Uint8Array): string => bytesToHex(hash);

/** A 32-byte hash from lower-case or upper-case hex; throws on anything else. */
export function hashFromHex(text: string): Uint8Array {
  if (!/^[0-9a-fA-F]{64}$/.test(text)) throw new TypeError("a hash is 64 hex digits");
  return hexToBytes(text.toLowerCase());
}
