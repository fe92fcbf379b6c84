/**
 * The browser's own check of the wallet history it shows against the service's transparency log
 * (api-contract.md, "The transparency log"), without signals or timers: web/src/models/logcheck.ts runs it.
 *
 * One check, in order:
 *   1. the chain: every loaded entry's hash is recomputed from its fields (docs/architecture.md, "Hash chain")
 *      and each links to the one before it, so the newest entry's hash commits to everything loaded below it;
 *   2. the keys: the log key GET /log/key serves must be the one pinned on first use, and so must the set of its
 *      witnesses' keys (`witnesses`, both kept in localStorage); a change of either is an alarm that the user
 *      accepts knowingly by dismissing it;
 *   3. the latest checkpoint: signed by that key (WebCrypto Ed25519), and consistent with the last checkpoint
 *      this browser accepted (a smaller tree is a rollback, the same size with another root a fork, a larger one
 *      needs a valid RFC 9162 consistency proof);
 *   4. when the log has witnesses, the witnessed checkpoint (`?witnessed=1`): signed by the log, consistent with
 *      the latest, and each pinned witness's `cosignature/v1` checked with that witness's key (WebCrypto
 *      Ed25519): only verified cosignatures are reported, and one that fails to verify is an alarm;
 *   5. inclusion: the newest loaded entry the latest checkpoint covers is proven to be a leaf of it, and the leaf
 *      the log holds is the one this browser computes from the history it was shown.
 * Any failure is an alarm; a server that does not answer is only "unavailable" (no verdict either way).
 *
 * Step 2, the key pinning, is logverify/pinning.ts; the failures every step throws are logverify/alarm.ts, and
 * what the check reads and keeps (the service's answers, the browser's memory) is logverify/io.ts.
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
  type Checkpoint,
  type Note,
  type VerifierKey,
} from "../../src/domain/signed-note";
import { Alarm, Unavailable, type LogAlarm } from "./logverify/alarm";
import { get, jsonOf, type LogFetch, type LogMemory } from "./logverify/io";
import { checkKeys } from "./logverify/pinning";
import type { Entry } from "./types";

// The views and the model import these from here, where the check's result is defined.
export type { LogAlarm, LogAlarmKind } from "./logverify/alarm";
export type { LogFetch, LogMemory } from "./logverify/io";

/** A pinned witness whose `cosignature/v1` on the witnessed checkpoint verified with its key. */
export interface Cosigner {
  name: string;
  /** The time the witness signed into its cosignature (Unix seconds). */
  time_s: number;
}

/** What a successful check established. */
export interface LogVerified {
  /** The newest loaded entry proven to be in the log, or null when no loaded entry is covered yet. */
  entry: { seq: number; created_at: string; hash: string } | null;
  /** Entries loaded and chain-checked. */
  chain_checked: number;
  checkpoint: { size: number; text: string };
  /**
   * The witnessed checkpoint, when the log has witnesses and serves one: the pinned witnesses whose cosignature
   * verified, and the names of those that did not cosign it. Null when the log has no witnesses or no witnessed
   * checkpoint yet.
   */
  witnessed: { size: number; cosigners: Cosigner[]; not_cosigned: string[] } | null;
  /** The tree size this browser had accepted before (0 on first use). */
  previous_size: number;
}

export type LogCheckResult =
  { state: "verified"; verified: LogVerified } | { state: "alarm"; alarm: Omit<LogAlarm, "at"> } | { state: "unavailable"; reason: string };

/** How many of the newest entries are asked for a proof before giving up on finding one covered. */
export const PROOF_TRIES = 8;
/**
 * An entry older than this that the latest checkpoint does not cover is missing from the log. The contract
 * promises coverage within 30 s in normal operation; the margin keeps a slow signer from raising a false alarm.
 */
export const COVER_GRACE_MS = 5 * 60_000;

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
    const { key, witnesses } = await checkKeys(io, memory);
    const previous = memory.lastCheckpoint();
    const latest = await fetchCheckpoint(io, "/log/checkpoint", key);
    let previousSize = 0;
    if (previous !== null) {
      const had = signedCheckpoint(previous);
      previousSize = had.size;
      await checkExtends(io, had, latest.checkpoint, "the checkpoint this browser accepted before");
    }
    const witnessed = witnesses.length === 0 ? null : await checkWitnessed(io, key, witnesses, latest.checkpoint);
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
    if (error instanceof Alarm) return { state: "alarm", alarm: { kind: error.kind, message: error.message, ...error.accept } };
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

interface SignedCheckpoint {
  text: string;
  note: Note;
  checkpoint: Checkpoint;
}

function signedCheckpoint(text: string): Checkpoint {
  return parseCheckpointBody(parseNote(text).body);
}

/** GETs a checkpoint and checks the log's signature on it. */
async function fetchCheckpoint(io: LogFetch, path: string, key: VerifierKey): Promise<SignedCheckpoint> {
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

/**
 * The witnessed checkpoint's verified cosigners, after checking that it is the log's and consistent with `latest`.
 * Each pinned witness's cosignature is verified with its key; one that fails is an alarm. Lines of keys this
 * browser did not pin are ignored (C2SP signed-note: unknown keys are ignored), so they are never shown.
 */
async function checkWitnessed(
  io: LogFetch,
  key: VerifierKey,
  witnesses: readonly VerifierKey[],
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
  const cosigners: Cosigner[] = [];
  const notCosigned: string[] = [];
  for (const witness of witnesses) {
    const check = await checkNoteSignature(note, witness);
    if (check.code === "bad_signature")
      throw new Alarm(
        "bad_cosignature",
        `The cosignature of witness ${witness.name} on the log's checkpoint of ${checkpoint.size} entries does not verify with that witness's key: it was forged or altered.`,
      );
    if (check.code === "verified" && check.timestamp !== undefined) cosigners.push({ name: witness.name, time_s: check.timestamp });
    else notCosigned.push(witness.name);
  }
  return { size: checkpoint.size, cosigners, not_cosigned: notCosigned };
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
