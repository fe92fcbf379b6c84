/**
 * The browser's own check of the wallet history it shows against the service's transparency log
 * (api-contract.md, "The transparency log"), without signals or timers: web/src/models/logcheck.ts runs it.
 *
 * One check, in order:
 *   1. the chain: every loaded entry's hash is recomputed from its fields (docs/architecture.md, "Hash chain")
 *      and each links to the one before it, so the newest entry's hash commits to everything loaded below it;
 *   2. the log key: the one GET /log/key serves must be the one pinned on first use (kept in localStorage);
 *   3. the latest checkpoint: signed by that key (WebCrypto Ed25519), and consistent with the last checkpoint
 *      this browser accepted (a smaller tree is a rollback, the same size with another root a fork, a larger one
 *      needs a valid RFC 9162 consistency proof);
 *   4. the witnessed checkpoint (`?witnessed=1`): signed by the log and consistent with the latest; its
 *      cosignature lines are reported (the browser does not hold the witnesses' keys);
 *   5. inclusion: the newest loaded entry the latest checkpoint covers is proven to be a leaf of it, and the leaf
 *      the log holds is the one this browser computes from the history it was shown.
 * Any failure is an alarm; a server that does not answer is only "unavailable" (no verdict either way).
 *
 * All of this runs in code the service itself serves: it protects a user against a service that rewrites
 * history after the fact, not against one that serves a dishonest client (README, "Verifying your history").
 */
import { entryHash, GENESIS_HASH } from "../../src/domain/hash-chain";
import { hashFromHex, leafHash, logLeaf, verifyConsistency, verifyInclusion } from "../../src/domain/merkle";
import {
  checkNoteSignature,
  parseCheckpointBody,
  parseNote,
  parseVerifierKey,
  type Checkpoint,
  type Note,
} from "../../src/domain/signed-note";
import type { Entry } from "./types";

/** What went wrong, by kind; each is an alarm. */
export type LogAlarmKind =
  "key_changed" | "bad_signature" | "rollback" | "fork" | "inconsistent" | "chain_broken" | "not_included" | "missing" | "malformed";

/** An alarm as stored: what failed, in a sentence, and when it was seen. */
export interface LogAlarm {
  kind: LogAlarmKind;
  message: string;
  at: string;
  /** For key_changed: the key the service now serves, which dismissing the alarm pins. */
  new_vkey?: string;
}

/** A witness's cosignature line on the witnessed checkpoint. */
export interface Cosigner {
  name: string;
  /** The cosignature's time (Unix seconds), or null when the line is not a cosignature/v1. */
  time_s: number | null;
}

/** What a successful check established. */
export interface LogVerified {
  /** The newest loaded entry proven to be in the log, or null when no loaded entry is covered yet. */
  entry: { seq: number; created_at: string; hash: string } | null;
  /** Entries loaded and chain-checked. */
  chain_checked: number;
  checkpoint: { size: number; text: string };
  /** The witnessed checkpoint, when the log serves one with cosignatures. */
  witnessed: { size: number; cosigners: Cosigner[] } | null;
  /** The tree size this browser had accepted before (0 on first use). */
  previous_size: number;
}

export type LogCheckResult =
  { state: "verified"; verified: LogVerified } | { state: "alarm"; alarm: Omit<LogAlarm, "at"> } | { state: "unavailable"; reason: string };

/** What the check reads from and keeps in the browser (localStorage in the app). */
export interface LogMemory {
  pinnedKey(): string | null;
  pinKey(vkey: string): void;
  /** The last checkpoint accepted (note text), or null on first use. */
  lastCheckpoint(): string | null;
  /** Records a newly accepted checkpoint; never called with a smaller tree than the one kept. */
  acceptCheckpoint(text: string): void;
}

/** One GET under /api/v1, answered as status and text (the log routes answer text/plain as well as JSON). */
export type LogFetch = (path: string) => Promise<{ status: number; text: string }>;

/** How many of the newest entries are asked for a proof before giving up on finding one covered. */
export const PROOF_TRIES = 8;
/**
 * An entry older than this that the latest checkpoint does not cover is missing from the log. The contract
 * promises coverage within 30 s in normal operation; the margin keeps a slow signer from raising a false alarm.
 */
export const COVER_GRACE_MS = 5 * 60_000;

/** Thrown inside the check and turned into its result. */
class Alarm extends Error {
  readonly kind: LogAlarmKind;
  readonly newVkey: string | undefined;
  constructor(kind: LogAlarmKind, message: string, newVkey?: string) {
    super(message);
    this.kind = kind;
    this.newVkey = newVkey;
  }
}
class Unavailable extends Error {}

/**
 * Runs one check of `entries` (newest first, as the wallet model holds them) of wallet `walletId`.
 * `now_ms` decides which uncovered entries are overdue.
 */
export async function checkWalletLog(
  walletId: string,
  entries: readonly Entry[],
  io: LogFetch,
  memory: LogMemory,
  now_ms: number,
): Promise<LogCheckResult> {
  try {
    const chainChecked = checkChain(walletId, entries);
    const key = await checkKey(io, memory);
    const previous = memory.lastCheckpoint();
    const latest = await fetchCheckpoint(io, "/log/checkpoint", key);
    let previousSize = 0;
    if (previous !== null) {
      const had = signedCheckpoint(previous);
      previousSize = had.size;
      await checkExtends(io, had, latest.checkpoint, "the checkpoint this browser accepted before");
    }
    const witnessed = await checkWitnessed(io, key, latest.checkpoint);
    const entry = await newestIncluded(io, walletId, entries, latest.checkpoint, now_ms);
    memory.acceptCheckpoint(latest.text);
    return {
      state: "verified",
      verified: {
        entry,
        chain_checked: chainChecked,
        checkpoint: { size: latest.checkpoint.size, text: latest.text },
        witnessed,
        previous_size: previousSize,
      },
    };
  } catch (error) {
    if (error instanceof Alarm)
      return { state: "alarm", alarm: { kind: error.kind, message: error.message, ...(error.newVkey ? { new_vkey: error.newVkey } : {}) } };
    if (error instanceof Unavailable) return { state: "unavailable", reason: error.message };
    return { state: "unavailable", reason: error instanceof Error ? error.message : String(error) };
  }
}

/** Recomputes every loaded entry's hash and its link to the one before; returns how many were checked. */
function checkChain(walletId: string, entries: readonly Entry[]): number {
  entries.forEach((entry, i) => {
    if (entryHash(walletId, entry) !== entry.hash)
      throw new Alarm("chain_broken", `Entry #${entry.seq} does not match its own hash: its contents were changed after it was written.`);
    const older = entries[i + 1];
    if (older !== undefined && older.seq === entry.seq - 1 && entry.prev_hash !== older.hash)
      throw new Alarm("chain_broken", `Entry #${entry.seq} does not link to entry #${older.seq}: the history was rewritten between them.`);
    if (entry.seq === 1 && entry.prev_hash !== GENESIS_HASH) throw new Alarm("chain_broken", "The first entry does not start the chain.");
  });
  return entries.length;
}

/** The pinned log key (pinning the served one on first use); an alarm when the service now serves another. */
async function checkKey(io: LogFetch, memory: LogMemory): Promise<ReturnType<typeof parseVerifierKey>> {
  const served = jsonOf(await get(io, "/log/key"), "the log key");
  const vkey = typeof served === "object" && served !== null ? (served as { vkey?: unknown }).vkey : undefined;
  if (typeof vkey !== "string") throw new Alarm("malformed", "The service's log key is malformed.");
  const pinned = memory.pinnedKey();
  if (pinned !== null && pinned !== vkey)
    throw new Alarm("key_changed", `The log's signing key changed: this browser pinned ${pinned}, the service now serves ${vkey}.`, vkey);
  let key;
  try {
    key = parseVerifierKey(pinned ?? vkey);
  } catch {
    throw new Alarm("malformed", "The service's log key is malformed.");
  }
  if (pinned === null) memory.pinKey(vkey);
  return key;
}

interface SignedCheckpoint {
  text: string;
  note: Note;
  checkpoint: Checkpoint;
}

function signedCheckpoint(text: string): Checkpoint {
  return parseCheckpointBody(parseNote(text).body);
}

/** GETs a checkpoint and checks the log's signature on it. */
async function fetchCheckpoint(io: LogFetch, path: string, key: ReturnType<typeof parseVerifierKey>): Promise<SignedCheckpoint> {
  const text = await get(io, path);
  let note;
  let checkpoint;
  try {
    note = parseNote(text);
    checkpoint = parseCheckpointBody(note.body);
  } catch {
    throw new Alarm("malformed", "The log's checkpoint is malformed.");
  }
  if (checkpoint.origin !== key.name) throw new Alarm("bad_signature", `The checkpoint is of another log (${checkpoint.origin}).`);
  const signature = await checkNoteSignature(note, key);
  if (signature.code !== "verified")
    throw new Alarm("bad_signature", "The log's checkpoint is not validly signed by the log key this browser pinned.");
  return { text, note, checkpoint };
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/** Checks that `next` extends `had` (an alarm otherwise); `what` names `had` in the message. */
async function checkExtends(io: LogFetch, had: Checkpoint, next: Checkpoint, what: string): Promise<void> {
  if (next.size < had.size)
    throw new Alarm("rollback", `The log went back in time: it now has ${next.size} entries, but ${what} had ${had.size}.`);
  if (next.size === had.size) {
    if (!sameBytes(next.root, had.root))
      throw new Alarm("fork", `The log forked: two different trees of ${had.size} entries (${what} and the one served now).`);
    return;
  }
  if (had.size === 0) return;
  const answer = jsonOf(await get(io, `/log/consistency?from=${had.size}&to=${next.size}`), "the consistency proof") as {
    from?: unknown;
    to?: unknown;
    proof?: unknown;
  } | null;
  const proof = hashes(answer?.proof);
  if (answer?.from !== had.size || answer?.to !== next.size || proof === null)
    throw new Alarm("inconsistent", "The log's consistency proof is malformed.");
  if (!verifyConsistency(had.size, next.size, had.root, next.root, proof))
    throw new Alarm(
      "inconsistent",
      `The log of ${next.size} entries does not extend ${what} (${had.size} entries): entries already logged were changed or removed.`,
    );
}

/** The witnessed checkpoint's cosigners, after checking that it is the log's and consistent with `latest`. */
async function checkWitnessed(
  io: LogFetch,
  key: ReturnType<typeof parseVerifierKey>,
  latest: Checkpoint,
): Promise<LogVerified["witnessed"]> {
  let witnessed;
  try {
    witnessed = await fetchCheckpoint(io, "/log/checkpoint?witnessed=1", key);
  } catch (error) {
    // No witnessed checkpoint yet (404, or none configured) is not an alarm; a bad one is.
    if (error instanceof Unavailable) return null;
    throw error;
  }
  const { checkpoint, note } = witnessed;
  if (checkpoint.size <= latest.size) await checkExtends(io, checkpoint, latest, "the witnessed checkpoint");
  else await checkExtends(io, latest, checkpoint, "the latest checkpoint");
  const cosigners = note.signatures
    .filter((s) => !(s.name === key.name && s.keyId === key.keyId))
    .map((s) => ({
      name: s.name,
      time_s: s.signature.length === 72 ? Number(new DataView(s.signature.buffer, s.signature.byteOffset).getBigUint64(0)) : null,
    }));
  return cosigners.length === 0 ? null : { size: checkpoint.size, cosigners };
}

/**
 * The newest loaded entry the checkpoint covers, proven included; null when none of the newest is covered yet.
 * An entry the log holds with another hash, or a proof that fails, is an alarm; so is an entry older than
 * COVER_GRACE_MS that the checkpoint does not cover.
 */
async function newestIncluded(
  io: LogFetch,
  walletId: string,
  entries: readonly Entry[],
  checkpoint: Checkpoint,
  now_ms: number,
): Promise<LogVerified["entry"]> {
  for (const entry of entries.slice(0, PROOF_TRIES)) {
    const path = `/log/proof?wallet_id=${encodeURIComponent(walletId)}&seq=${entry.seq}&tree_size=${checkpoint.size}`;
    const answer = await io(path);
    if (answer.status === 404) {
      if (now_ms - Date.parse(entry.created_at) > COVER_GRACE_MS)
        throw new Alarm("missing", `Entry #${entry.seq} is older than ${COVER_GRACE_MS / 60_000} minutes but is not in the log.`);
      continue;
    }
    if (answer.status !== 200) throw new Unavailable(`GET ${path} answered ${answer.status}`);
    const proof = jsonOf(answer.text, "the inclusion proof") as {
      leaf_index?: unknown;
      tree_size?: unknown;
      leaf?: unknown;
      inclusion?: unknown;
    } | null;
    const mine = JSON.stringify([walletId, entry.seq, entry.hash]);
    if (typeof proof?.leaf === "string" && proof.leaf !== mine)
      throw new Alarm(
        "not_included",
        `The log holds another version of entry #${entry.seq} than the history shown here: the history was rewritten after it was logged.`,
      );
    const path_ = hashes(proof?.inclusion);
    const index = proof?.leaf_index;
    const ok =
      proof?.tree_size === checkpoint.size &&
      typeof index === "number" &&
      path_ !== null &&
      verifyInclusion(leafHash(logLeaf(walletId, entry.seq, entry.hash)), index, checkpoint.size, path_, checkpoint.root);
    if (!ok) throw new Alarm("not_included", `Entry #${entry.seq} is not proven to be in the log: its inclusion proof fails.`);
    return { seq: entry.seq, created_at: entry.created_at, hash: entry.hash };
  }
  return null;
}

/** A list of lower-case hex hashes, or null. */
function hashes(value: unknown): Uint8Array[] | null {
  if (!Array.isArray(value) || value.length > 128 || !value.every((h) => typeof h === "string" && /^[0-9a-f]{64}$/.test(h))) return null;
  return value.map((h: string) => hashFromHex(h));
}

/** A 200 answer's text, or Unavailable. */
async function get(io: LogFetch, path: string): Promise<string> {
  let answer;
  try {
    answer = await io(path);
  } catch (error) {
    throw new Unavailable(`GET ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (answer.status !== 200) throw new Unavailable(`GET ${path} answered ${answer.status}`);
  return answer.text;
}

function jsonOf(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new Alarm("malformed", `The service answered ${what} with something that is not JSON.`);
  }
}
