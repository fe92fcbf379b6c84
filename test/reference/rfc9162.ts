/**
 * An independent RFC 9162 (section 2.1) Merkle tree, written from the RFC's definitions of MTH, PATH and
 * PROOF/SUBPROOF by recursion over the leaf data itself, with WebCrypto's SHA-256. It shares no code with
 * src/domain/merkle.ts (which works on ranges and stored subtrees, with @noble/hashes), so the tests of the log,
 * the witness and the browser check the production proofs against it. Runs in workerd and in Node. Slow by
 * design (it rehashes everything): for trees of tens or hundreds of leaves.
 */
export const sha = async (bytes: Uint8Array): Promise<Uint8Array> =>
  new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array(bytes)));
export const cat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};
export const hexOf = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
export const bytesOf = (h: string): Uint8Array => Uint8Array.from(h.match(/../g) ?? [], (x) => parseInt(x, 16));
/** "the largest power of two smaller than n" */
export const kOf = (n: number): number => {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
};
/** MTH(D[n]) over the raw leaf data. */
export async function mth(d: Uint8Array[]): Promise<Uint8Array> {
  if (d.length === 0) return sha(new Uint8Array());
  if (d.length === 1) return sha(cat(Uint8Array.of(0), d[0] as Uint8Array));
  const k = kOf(d.length);
  return sha(cat(Uint8Array.of(1), await mth(d.slice(0, k)), await mth(d.slice(k))));
}
/** PATH(m, D[n]) */
export async function path(m: number, d: Uint8Array[]): Promise<Uint8Array[]> {
  if (d.length === 1) return [];
  const k = kOf(d.length);
  if (m < k) return [...(await path(m, d.slice(0, k))), await mth(d.slice(k))];
  return [...(await path(m - k, d.slice(k))), await mth(d.slice(0, k))];
}
/** SUBPROOF(m, D[n], b) */
export async function subproof(m: number, d: Uint8Array[], b: boolean): Promise<Uint8Array[]> {
  if (m === d.length) return b ? [] : [await mth(d)];
  const k = kOf(d.length);
  if (m <= k) return [...(await subproof(m, d.slice(0, k), b)), await mth(d.slice(k))];
  return [...(await subproof(m - k, d.slice(k), false)), await mth(d.slice(0, k))];
}
