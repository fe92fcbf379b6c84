/**
 * C2SP signed notes (c2sp.org/signed-note), checkpoints (c2sp.org/tlog-checkpoint) and Ed25519 cosignatures
 * (c2sp.org/tlog-cosignature, `cosignature/v1`), so that tools written by others can check our log and our
 * witnesses can check it with nothing of ours but this text.
 *
 * Used by the log object (signing), the checkpoint routes (accepting cosignatures), the browser (verifying) and
 * the witness and offline tools (verifying and cosigning). Signatures use WebCrypto's Ed25519, which workerd,
 * Node and current browsers all have; key ids use a synchronous SHA-256.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { utf8ToBytes } from "@noble/hashes/utils.js";

/** Signature type bytes (signed-note, "Signature types"). */
export const SIG_ED25519 = 0x01;
export const SIG_COSIGNATURE_V1 = 0x04;
export type SignatureType = typeof SIG_ED25519 | typeof SIG_COSIGNATURE_V1;

/** The most signature lines a note may carry (the spec says accept at least 16), and its largest size. */
export const NOTE_MAX_SIGNATURES = 32;
export const NOTE_MAX_BYTES = 16_384;

const ED25519_PUBLIC_BYTES = 32;
const ED25519_SIGNATURE_BYTES = 64;
const COSIGNATURE_TIMESTAMP_BYTES = 8;

/** A verifier key: who signs, with which algorithm and key. */
export interface VerifierKey {
  name: string;
  keyId: number;
  type: SignatureType;
  publicKey: Uint8Array;
}

/** One signature line of a note, decoded. */
export interface NoteSignature {
  name: string;
  keyId: number;
  signature: Uint8Array;
  line: string;
}

/** A note split into its signed text and its signature lines. */
export interface Note {
  /** The signed text, ending in a newline. */
  body: string;
  signatures: NoteSignature[];
}

/** A checkpoint's three lines. */
export interface Checkpoint {
  origin: string;
  size: number;
  root: Uint8Array;
}

export function base64Encode(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/** Standard, padded base64 (RFC 4648 section 4), strictly: anything that does not re-encode identically throws. */
export function base64Decode(text: string): Uint8Array {
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text)) throw new TypeError("not standard base64");
  const binary = atob(text);
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  if (base64Encode(bytes) !== text) throw new TypeError("non-canonical base64");
  return bytes;
}

/** Whether `text` has a control character (below U+0020, or DEL), other than the ones `allowed`. */
function hasControl(text: string, allowed = ""): boolean {
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    if ((code < 0x20 || code === 0x7f) && !allowed.includes(ch)) return true;
  }
  return false;
}

function validName(name: string): boolean {
  return name.length > 0 && name.length <= 256 && !name.includes("+") && !/\s/u.test(name) && !hasControl(name);
}

/** key ID = SHA-256(key name || 0x0A || signature type || public key)[:4], as a uint32. */
export function noteKeyId(name: string, type: SignatureType, publicKey: Uint8Array): number {
  const nameBytes = utf8ToBytes(name);
  const input = new Uint8Array(nameBytes.length + 2 + publicKey.length);
  input.set(nameBytes, 0);
  input[nameBytes.length] = 0x0a;
  input[nameBytes.length + 1] = type;
  input.set(publicKey, nameBytes.length + 2);
  const digest = sha256(input);
  return new DataView(digest.buffer, digest.byteOffset, 4).getUint32(0, false);
}

/** `<name>+<key id hex>+<base64(type || public key)>`. */
export function formatVerifierKey(name: string, type: SignatureType, publicKey: Uint8Array): string {
  if (!validName(name)) throw new TypeError("a key name is non-empty, with no spaces or plus signs");
  const material = new Uint8Array(1 + publicKey.length);
  material[0] = type;
  material.set(publicKey, 1);
  return `${name}+${noteKeyId(name, type, publicKey).toString(16).padStart(8, "0")}+${base64Encode(material)}`;
}

/** Parses a verifier key; throws TypeError when it is malformed, of an unknown type, or its id does not match. */
export function parseVerifierKey(vkey: string): VerifierKey {
  // The name has no '+' and the id is hex, so the first two '+' separate the parts; base64 may hold more.
  const match = /^([^+]+)\+([^+]+)\+(.+)$/s.exec(vkey);
  if (match === null) throw new TypeError("a verifier key has three parts separated by '+'");
  const [, name, idHex, material64] = match as unknown as [string, string, string, string];
  if (!validName(name) || !/^[0-9a-f]{8}$/.test(idHex)) throw new TypeError("malformed verifier key");
  const material = base64Decode(material64);
  const type = material[0];
  if (type !== SIG_ED25519 && type !== SIG_COSIGNATURE_V1) throw new TypeError(`unsupported signature type ${String(type)}`);
  const publicKey = material.slice(1);
  if (publicKey.length !== ED25519_PUBLIC_BYTES) throw new TypeError("an Ed25519 public key is 32 bytes");
  const keyId = Number.parseInt(idHex, 16);
  if (keyId !== noteKeyId(name, type, publicKey)) throw new TypeError("the verifier key's id does not match its name and key");
  return { name, keyId, type, publicKey };
}

/** Splits a signed note; throws TypeError on anything the signed-note format does not allow. */
export function parseNote(text: string): Note {
  if (new TextEncoder().encode(text).length > NOTE_MAX_BYTES) throw new TypeError(`a note is at most ${NOTE_MAX_BYTES} bytes`);
  if (hasControl(text, "\n")) throw new TypeError("a note has no control characters but newline");
  if (!text.endsWith("\n")) throw new TypeError("a note ends with a newline");
  const split = text.lastIndexOf("\n\n");
  if (split < 0) throw new TypeError("a note has a blank line before its signatures");
  const body = text.slice(0, split + 1);
  const lines = text.slice(split + 2, -1).split("\n");
  if (lines.length > NOTE_MAX_SIGNATURES) throw new TypeError(`at most ${NOTE_MAX_SIGNATURES} signatures`);
  const signatures = lines.map(parseSignatureLine);
  return { body, signatures };
}

function parseSignatureLine(line: string): NoteSignature {
  const match = /^\u2014 (\S+) (\S+)$/u.exec(line);
  if (match === null) throw new TypeError("a signature line is '— <name> <base64>'");
  const name = match[1] as string;
  if (!validName(name)) throw new TypeError("malformed key name");
  const bytes = base64Decode(match[2] as string);
  if (bytes.length < 5) throw new TypeError("a signature is a key id and at least one byte");
  return { name, keyId: new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, false), signature: bytes.slice(4), line };
}

/** One signature line for `signature` by `key`. */
export function signatureLine(name: string, keyId: number, signature: Uint8Array): string {
  const bytes = new Uint8Array(4 + signature.length);
  new DataView(bytes.buffer).setUint32(0, keyId, false);
  bytes.set(signature, 4);
  return `\u2014 ${name} ${base64Encode(bytes)}`;
}

/** A note: its body, a blank line, its signature lines. */
export function formatNote(body: string, signatureLines: readonly string[]): string {
  return `${body}\n${signatureLines.map((l) => `${l}\n`).join("")}`;
}

/** The checkpoint note text: origin, size, base64 root, each on its own line. */
export function formatCheckpointBody(checkpoint: Checkpoint): string {
  if (!validName(checkpoint.origin)) throw new TypeError("an origin is non-empty, with no spaces or plus signs");
  if (!Number.isSafeInteger(checkpoint.size) || checkpoint.size < 0) throw new RangeError("a tree size is a non-negative safe integer");
  if (checkpoint.root.length !== 32) throw new TypeError("a root is 32 bytes");
  return `${checkpoint.origin}\n${checkpoint.size}\n${base64Encode(checkpoint.root)}\n`;
}

/** Reads a checkpoint body (extension lines are refused: this log never writes them). */
export function parseCheckpointBody(body: string): Checkpoint {
  const lines = body.split("\n");
  if (lines.length !== 4 || lines[3] !== "") throw new TypeError("a checkpoint body is three lines");
  const [origin, sizeText, root64] = lines as [string, string, string];
  if (!validName(origin)) throw new TypeError("malformed origin");
  if (!/^(?:0|[1-9][0-9]{0,15})$/.test(sizeText)) throw new TypeError("malformed tree size");
  const size = Number(sizeText);
  if (!Number.isSafeInteger(size)) throw new TypeError("tree size too large");
  const root = base64Decode(root64);
  if (root.length !== 32) throw new TypeError("a root is 32 bytes");
  return { origin, size, root };
}

/** The message an Ed25519 cosigner signs: `cosignature/v1`, the time line, then the checkpoint body. */
export function cosignatureMessage(body: string, timestamp: number): string {
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) throw new RangeError("a cosignature time is a non-negative safe integer");
  return `cosignature/v1\ntime ${timestamp}\n${body}`;
}

async function ed25519Verify(publicKey: Uint8Array, signature: Uint8Array, message: Uint8Array): Promise<boolean> {
  if (signature.length !== ED25519_SIGNATURE_BYTES) return false;
  try {
    // The copies are ArrayBuffer-backed, which is what WebCrypto's BufferSource type asks for under Node's and
    // the DOM's typings (a view over an ArrayBufferLike may be over shared memory); the Worker's typings accept both.
    const key = await crypto.subtle.importKey("raw", new Uint8Array(publicKey), { name: "Ed25519" }, false, ["verify"]);
    return await crypto.subtle.verify({ name: "Ed25519" }, key, new Uint8Array(signature), new Uint8Array(message));
  } catch {
    return false;
  }
}

/** What checking one key's signature on a note found. */
export type SignatureCheck = { code: "verified"; timestamp?: number } | { code: "missing" } | { code: "bad_signature" };

/**
 * Checks `key`'s signature on `note`. Signature lines of other keys are ignored (the spec: unknown keys are
 * ignored); a line with the key's name and id that fails to verify is `bad_signature`. For a cosignature the
 * signed time is returned.
 */
export async function checkNoteSignature(note: Note, key: VerifierKey): Promise<SignatureCheck> {
  const mine = note.signatures.filter((s) => s.name === key.name && s.keyId === key.keyId);
  if (mine.length === 0) return { code: "missing" };
  let timestamp: number | undefined;
  for (const s of mine) {
    const result = await verifyOne(note.body, key, s.signature);
    if (result === false) return { code: "bad_signature" };
    // The first line's time: a note may carry two lines by one witness, and the first is the one kept (the log
    // stores it, `note.signatures.find` picks it), so its time must be the one reported beside it.
    if (typeof result === "number") timestamp ??= result;
  }
  return timestamp === undefined ? { code: "verified" } : { code: "verified", timestamp };
}

async function verifyOne(body: string, key: VerifierKey, signature: Uint8Array): Promise<boolean | number> {
  if (key.type === SIG_ED25519) return ed25519Verify(key.publicKey, signature, utf8ToBytes(body));
  if (signature.length !== COSIGNATURE_TIMESTAMP_BYTES + ED25519_SIGNATURE_BYTES) return false;
  const timestamp = new DataView(signature.buffer, signature.byteOffset, 8).getBigUint64(0, false);
  if (timestamp > BigInt(Number.MAX_SAFE_INTEGER)) return false;
  const seconds = Number(timestamp);
  const ok = await ed25519Verify(key.publicKey, signature.slice(8), utf8ToBytes(cosignatureMessage(body, seconds)));
  return ok ? seconds : false;
}

/** An Ed25519 signer: a private CryptoKey and the verifier key it matches. */
export interface NoteSigner {
  privateKey: CryptoKey;
  key: VerifierKey;
}

/** Signs `body` as a plain Ed25519 note signature (type 0x01) and returns the signature line. */
export async function signNoteBody(body: string, signer: NoteSigner): Promise<string> {
  if (signer.key.type !== SIG_ED25519) throw new TypeError("a log key signs with type 0x01");
  const signature = new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, signer.privateKey, utf8ToBytes(body)));
  return signatureLine(signer.key.name, signer.key.keyId, signature);
}

/** Cosigns a checkpoint body at `timestamp` (Unix seconds) as `cosignature/v1` and returns the signature line. */
export async function cosignBody(body: string, signer: NoteSigner, timestamp: number): Promise<string> {
  if (signer.key.type !== SIG_COSIGNATURE_V1) throw new TypeError("a witness key signs with type 0x04");
  const signature = new Uint8Array(
    await crypto.subtle.sign({ name: "Ed25519" }, signer.privateKey, utf8ToBytes(cosignatureMessage(body, timestamp))),
  );
  const bytes = new Uint8Array(COSIGNATURE_TIMESTAMP_BYTES + signature.length);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(timestamp), false);
  bytes.set(signature, COSIGNATURE_TIMESTAMP_BYTES);
  return signatureLine(signer.key.name, signer.key.keyId, bytes);
}
