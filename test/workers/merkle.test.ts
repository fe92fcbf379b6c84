/**
 * The transparency log's Merkle code (src/domain/merkle.ts) against an independent implementation written here
 * from RFC 9162 section 2.1's definitions (MTH, PATH, PROOF/SUBPROOF, recursing over the leaves themselves, with
 * WebCrypto's SHA-256 rather than the production code's @noble/hashes), and against the published RFC 6962 test
 * vectors of Certificate Transparency. Also the C2SP signed-note format against the spec's own example.
 */
import { describe, expect, it } from "vitest";
import {
  EMPTY_ROOT,
  completeSubtrees,
  consistencyRanges,
  foldSubtrees,
  hashFromHex,
  hashToHex,
  inclusionRanges,
  leafHash,
  logLeaf,
  rootOf,
  verifyConsistency,
  verifyInclusion,
} from "../../src/domain/merkle";
import {
  SIG_COSIGNATURE_V1,
  SIG_ED25519,
  checkNoteSignature,
  cosignBody,
  formatCheckpointBody,
  formatNote,
  formatVerifierKey,
  parseCheckpointBody,
  parseNote,
  parseVerifierKey,
  signNoteBody,
  type NoteSigner,
} from "../../src/domain/signed-note";
import { bytesOf, hexOf, mth, path, subproof } from "../reference/rfc9162";

/** Flips the bits of `mask` in byte `at`. */
const flip = (bytes: Uint8Array, at: number, mask: number): void => {
  bytes[at] = (bytes[at] ?? 0) ^ mask;
};

// ---- The production code's way: ranges, read from a store of complete subtrees ----
function storeOf(leaves: Uint8Array[]): (range: readonly [number, number]) => Uint8Array {
  const hashes = leaves.map(leafHash);
  const subtree = (start: number, end: number): Uint8Array => rootOf(hashes.slice(start, end));
  return ([start, end]) => foldSubtrees(completeSubtrees(start, end).map(([s, e]) => subtree(s, e)));
}

const CT_LEAVES = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"].map(bytesOf);
const CT_ROOTS = [
  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
  "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
  "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
  "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
  "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
  "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
  "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
  "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

describe("Merkle tree (RFC 9162 section 2.1)", () => {
  it("gives the published Certificate Transparency roots for sizes 0..8, as does the reference", async () => {
    expect(hexOf(EMPTY_ROOT)).toBe(CT_ROOTS[0]);
    for (let n = 0; n <= 8; n++) {
      expect(hexOf(rootOf(CT_LEAVES.slice(0, n).map(leafHash))), `size ${n}`).toBe(CT_ROOTS[n]);
      expect(hexOf(await mth(CT_LEAVES.slice(0, n))), `reference size ${n}`).toBe(CT_ROOTS[n]);
    }
  });

  it("gives the published inclusion and consistency proofs", () => {
    const read = storeOf(CT_LEAVES);
    expect(inclusionRanges(5, 8).map(read).map(hexOf)).toEqual([
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ]);
    expect(consistencyRanges(6, 8).map(read).map(hexOf)).toEqual([
      "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ]);
  });

  const N = 40;
  const leaves = Array.from({ length: N }, (_, i) => logLeaf(`wal_${i % 7}`, i + 1, hexOf(Uint8Array.of(i, 255 - i)).padEnd(64, "0")));

  it("makes every inclusion proof the reference makes, and each verifies, for every size up to 40", async () => {
    const read = storeOf(leaves);
    for (let n = 1; n <= N; n++) {
      const root = await mth(leaves.slice(0, n));
      expect(hexOf(rootOf(leaves.slice(0, n).map(leafHash)))).toBe(hexOf(root));
      for (let i = 0; i < n; i++) {
        const mine = inclusionRanges(i, n).map(read);
        const theirs = await path(i, leaves.slice(0, n));
        expect(mine.map(hexOf), `inclusion ${i} of ${n}`).toEqual(theirs.map(hexOf));
        expect(verifyInclusion(leafHash(leaves[i] as Uint8Array), i, n, theirs, root)).toBe(true);
      }
    }
  });

  it("makes every consistency proof the reference makes, and each verifies, for every pair of sizes up to 40", async () => {
    const read = storeOf(leaves);
    const roots = await Promise.all(Array.from({ length: N + 1 }, (_, n) => mth(leaves.slice(0, n))));
    for (let second = 1; second <= N; second++)
      for (let first = 1; first < second; first++) {
        const mine = consistencyRanges(first, second).map(read);
        const theirs = await subproof(first, leaves.slice(0, second), true);
        expect(mine.map(hexOf), `consistency ${first} -> ${second}`).toEqual(theirs.map(hexOf));
        expect(verifyConsistency(first, second, roots[first] as Uint8Array, roots[second] as Uint8Array, theirs)).toBe(true);
      }
  });

  it("refuses every altered inclusion proof: a flipped bit, a dropped or added hash, a wrong index, size or leaf", () => {
    const hashes = leaves.map(leafHash);
    const read = storeOf(leaves);
    for (let n = 2; n <= 24; n++) {
      const root = rootOf(hashes.slice(0, n));
      for (let i = 0; i < n; i++) {
        const proof = inclusionRanges(i, n).map(read);
        const leaf = hashes[i] as Uint8Array;
        const flipped = proof.map((p) => p.slice());
        flip(flipped[0] as Uint8Array, 3, 1);
        expect(verifyInclusion(leaf, i, n, flipped, root)).toBe(false);
        expect(verifyInclusion(leaf, i, n, proof.slice(1), root)).toBe(false);
        expect(verifyInclusion(leaf, i, n, [...proof, new Uint8Array(32)], root)).toBe(false);
        expect(verifyInclusion(leaf, (i + 1) % n, n, proof, root)).toBe(false);
        // A size the proof was not made for, with that size's root (the same root under another size can pass the
        // RFC's algorithm: the size is only bound by the checkpoint, which signs both together).
        expect(verifyInclusion(leaf, i, n + 1, proof, rootOf(hashes.slice(0, n + 1)))).toBe(false);
        expect(verifyInclusion(hashes[(i + 1) % n] as Uint8Array, i, n, proof, root)).toBe(false);
        expect(verifyInclusion(leaf, i, n, proof, root)).toBe(true);
      }
    }
  });

  it("refuses every altered consistency proof, and decides the degenerate cases", () => {
    const hashes = leaves.map(leafHash);
    const read = storeOf(leaves);
    const roots = Array.from({ length: 25 }, (_, n) => rootOf(hashes.slice(0, n)));
    for (let second = 2; second <= 24; second++)
      for (let first = 1; first < second; first++) {
        const proof = consistencyRanges(first, second).map(read);
        const a = roots[first] as Uint8Array;
        const b = roots[second] as Uint8Array;
        const flipped = proof.map((p) => p.slice());
        flip(flipped[flipped.length - 1] as Uint8Array, 0, 0x80);
        expect(verifyConsistency(first, second, a, b, flipped)).toBe(false);
        expect(verifyConsistency(first, second, a, b, proof.slice(0, -1))).toBe(false);
        expect(verifyConsistency(first, second, a, b, [...proof, new Uint8Array(32)])).toBe(false);
        expect(verifyConsistency(first, second, b, a, proof)).toBe(false);
        expect(verifyConsistency(first, second, a, b, proof)).toBe(true);
      }
    const r4 = roots[4] as Uint8Array;
    expect(verifyConsistency(4, 4, r4, r4, [])).toBe(true);
    expect(verifyConsistency(4, 4, r4, roots[5] as Uint8Array, [])).toBe(false);
    expect(verifyConsistency(0, 8, EMPTY_ROOT, roots[8] as Uint8Array, [])).toBe(true);
    expect(verifyConsistency(0, 8, r4, roots[8] as Uint8Array, [])).toBe(false);
    expect(verifyConsistency(5, 3, roots[5] as Uint8Array, roots[3] as Uint8Array, [])).toBe(false);
  });

  it("needs only O(log n) stored subtrees per proof, even at a billion leaves", () => {
    const size = 1_000_000_007;
    const reads = inclusionRanges(123_456_789, size).flatMap(([s, e]) => completeSubtrees(s, e));
    expect(reads.length).toBeLessThanOrEqual(2 * 31);
    const creads = consistencyRanges(999_999_000, size).flatMap(([s, e]) => completeSubtrees(s, e));
    expect(creads.length).toBeLessThanOrEqual(2 * 31);
  });

  it("encodes the contract's leaf as JSON of [wallet_id, seq, hash], and hex both ways", () => {
    const h = "ab".repeat(32);
    expect(new TextDecoder().decode(logLeaf("wal_x", 3, h))).toBe(`["wal_x",3,"${h}"]`);
    expect(hashToHex(hashFromHex(h))).toBe(h);
    expect(() => hashFromHex("ab")).toThrow(TypeError);
    expect(() => logLeaf("wal_x", 0, h)).toThrow(RangeError);
  });
});

describe("signed notes (C2SP signed-note, tlog-checkpoint, tlog-cosignature)", () => {
  it("verifies the spec's own example note with the spec's verifier key, and refuses it altered", async () => {
    const vkey = parseVerifierKey("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k");
    const text =
      "This is an example message.\n\n— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";
    expect(await checkNoteSignature(parseNote(text), vkey)).toEqual({ code: "verified" });
    expect(await checkNoteSignature(parseNote(text.replace("example message", "exampel message")), vkey)).toEqual({
      code: "bad_signature",
    });
    expect(await checkNoteSignature(parseNote(text.replace("example.com/foo U", "example.com/bar U")), vkey)).toEqual({ code: "missing" });
  });

  it("refuses malformed verifier keys and notes", () => {
    expect(() => parseVerifierKey("example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k")).toThrow(TypeError);
    expect(() => parseVerifierKey("example.com/foo+530d903a")).toThrow(TypeError);
    expect(() => parseNote("no blank line\n— a AAAAAAA=\n")).toThrow(TypeError);
    expect(() => parseNote("text\n\n— a AAAAAAA=")).toThrow(TypeError);
    expect(() => parseNote("te\u0007xt\n\n— a AAAAAAA=\n")).toThrow(TypeError);
    expect(() => parseCheckpointBody("origin\n01\nAAAA\n")).toThrow(TypeError);
  });

  it("signs and cosigns a checkpoint that verifies with its own keys, and a cosignature carries its time", async () => {
    const signer = async (name: string, type: typeof SIG_ED25519 | typeof SIG_COSIGNATURE_V1): Promise<NoteSigner> => {
      const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as CryptoKeyPair;
      const raw = new Uint8Array((await crypto.subtle.exportKey("raw", pair.publicKey)) as ArrayBuffer);
      return { privateKey: pair.privateKey, key: parseVerifierKey(formatVerifierKey(name, type, raw)) };
    };
    const log = await signer("wallet.example/log", SIG_ED25519);
    const witness = await signer("witness.example/w1", SIG_COSIGNATURE_V1);
    const body = formatCheckpointBody({ origin: "wallet.example/log", size: 8, root: bytesOf(CT_ROOTS[8] as string) });
    const note = formatNote(body, [await signNoteBody(body, log), await cosignBody(body, witness, 1_700_000_000)]);
    const parsed = parseNote(note);
    expect(parseCheckpointBody(parsed.body)).toEqual({ origin: "wallet.example/log", size: 8, root: bytesOf(CT_ROOTS[8] as string) });
    expect(await checkNoteSignature(parsed, log.key)).toEqual({ code: "verified" });
    expect(await checkNoteSignature(parsed, witness.key)).toEqual({ code: "verified", timestamp: 1_700_000_000 });
    // Two lines by one witness (a re-cosigning): both verify, and the time reported is the first line's, the
    // line a reader keeps (the log stores the first), never the last one's time beside the first line.
    const twice = parseNote(`${note}${await cosignBody(body, witness, 1_800_000_000)}\n`);
    expect(twice.signatures.filter((line) => line.name === witness.key.name)).toHaveLength(2);
    expect(await checkNoteSignature(twice, witness.key)).toEqual({ code: "verified", timestamp: 1_700_000_000 });
    const forged = parseNote(note.replace("\n8\n", "\n9\n"));
    expect(await checkNoteSignature(forged, log.key)).toEqual({ code: "bad_signature" });
    expect(await checkNoteSignature(forged, witness.key)).toEqual({ code: "bad_signature" });
  });
});
