#!/usr/bin/env node
// `npm run log:witness -- --url URL --state FILE [--once] [--interval-ms N]`: an independent witness of the
// service's transparency log (api-contract.md, "The transparency log"; c2sp.org/tlog-witness describes the role).
//
// It trusts nothing the service says beyond the log key it pinned on its first run. Each round it fetches the
// latest checkpoint, checks the log's signature on it, and compares it with the last checkpoint it accepted:
//   - a smaller tree is a rollback, the same size with another root is a fork,
//   - a larger tree must come with a consistency proof (RFC 9162 section 2.1.4) that it extends the old one.
// A checkpoint that passes is cosigned (C2SP `cosignature/v1`, the witness's own Ed25519 key) and posted back to
// POST /log/cosignatures, so that `?witnessed=1` can serve it; one that fails stops the witness with a report and
// exit code 1, and the alarm is written to the state file, so a restart keeps refusing until an operator has read
// it and passes --clear-alarm.
//
// Options:
//   --url URL           the service (its /api/v1/log/* routes)
//   --state FILE        the witness's state: its private key, the pinned log key and the last accepted checkpoint.
//                       Created on the first run (mode 600) and rewritten atomically (temp file + rename).
//   --once              check the current checkpoint once and exit (0: accepted, 1: the log misbehaved, 3: unreachable)
//   --interval-ms N     how often to look for a new checkpoint when following (default 5000)
//   --log-key VKEY      pin this log verifier key instead of fetching GET /log/key on the first run
//   --name NAME         the witness key's name, on the first run (default edge-wallet-witness)
//   --print-vkey        print the witness's verifier key (for LOG_WITNESS_KEYS) and exit
//   --clear-alarm       forget a recorded alarm (after an operator has dealt with it) and go on
// Exit codes: 0 done, 1 the log misbehaved (fork, rollback, bad signature, failed proof, malformed answer),
// 2 usage or state file errors, 3 the service could not be reached with --once.
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { hashFromHex, verifyConsistency } from "../src/domain/merkle.ts";
import {
  NOTE_MAX_BYTES,
  SIG_COSIGNATURE_V1,
  base64Decode,
  base64Encode,
  checkNoteSignature,
  cosignBody,
  formatNote,
  formatVerifierKey,
  parseCheckpointBody,
  parseNote,
  parseVerifierKey,
} from "../src/domain/signed-note.ts";

/** Every request gives up after this long, so a stalled service cannot hang the witness. */
const REQUEST_TIMEOUT_MS = 10_000;
/** The largest JSON answer read (a consistency proof is at most ~2 x 64 hashes of 64 hex digits). */
const JSON_MAX_BYTES = 65_536;
/** The largest number of hashes a consistency proof of safe-integer sizes can have (2 per level, 53 levels). */
const PROOF_MAX_HASHES = 128;
const DEFAULT_INTERVAL_MS = 5_000;
const MIN_INTERVAL_MS = 10;
const MAX_INTERVAL_MS = 3_600_000;
const STATE_VERSION = 1;

/** What the log did wrong; caught at the top, reported, and recorded as the alarm. */
class Misbehaviour extends Error {
  /**
   * @param {string} check  the check that failed ("fork", "rollback", "signature", "consistency", "malformed")
   * @param {string} message  a plain sentence
   * @param {{ had?: string | null, got?: string, proof?: unknown }} [evidence]
   */
  constructor(check, message, evidence = {}) {
    super(message);
    this.check = check;
    this.evidence = evidence;
  }
}

/** The service could not be asked (network, timeout, a non-200 status): not evidence of anything. */
class Unreachable extends Error {}

/**
 * Prints a usage or state error and exits 2.
 * @param {string} message
 * @returns {never}
 */
function usage(message) {
  console.error(
    `log:witness: ${message}\nusage: npm run log:witness -- --url URL --state FILE [--once] [--interval-ms N] [--log-key VKEY] [--name NAME] [--print-vkey] [--clear-alarm]`,
  );
  process.exit(2);
}

const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const option = (name) => {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const value = args[i + 1];
  if (value === undefined || value.startsWith("--")) usage(`${name} needs a value`);
  return value;
};

/**
 * Reads at most `maxBytes` of a response's body, so a hostile or broken service cannot make the witness buffer
 * without end.
 * @param {Response} response
 * @param {number} maxBytes
 */
async function readLimited(response, maxBytes) {
  const reader = response.body?.getReader();
  if (reader === undefined) return "";
  const chunks = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > maxBytes) {
      await reader.cancel();
      throw new Misbehaviour("malformed", `an answer was larger than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * One bounded request to the service under /api/v1. A network failure or a status other than the expected one
 * is Unreachable; the caller decides what the body means.
 * @param {string} base
 * @param {string} path
 * @param {{ method?: string, body?: string, expect?: number, maxBytes: number }} options
 */
async function request(base, path, { method = "GET", body, expect = 200, maxBytes }) {
  let response;
  try {
    response = await fetch(new URL(`/api/v1${path}`, base), {
      method,
      body,
      headers: body === undefined ? {} : { "content-type": "text/plain; charset=utf-8" },
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      redirect: "error",
    });
  } catch (error) {
    throw new Unreachable(`${method} ${path}: ${error instanceof Error ? (error.cause ?? error).toString() : String(error)}`);
  }
  if (response.status !== expect) {
    const text = await readLimited(response, 4_096).catch(() => "");
    throw new Unreachable(`${method} ${path} answered ${response.status}: ${text.slice(0, 300)}`);
  }
  try {
    return await readLimited(response, maxBytes);
  } catch (error) {
    if (error instanceof Misbehaviour) throw error;
    throw new Unreachable(`${method} ${path}: the answer broke off (${error instanceof Error ? error.message : String(error)})`);
  }
}

/**
 * A JSON answer, or Misbehaviour when a 200 is not JSON.
 * @param {string} base
 * @param {string} path
 */
async function getJson(base, path) {
  const text = await request(base, path, { maxBytes: JSON_MAX_BYTES });
  try {
    return JSON.parse(text);
  } catch {
    throw new Misbehaviour("malformed", `GET ${path} answered 200 with something that is not JSON`, { got: text.slice(0, 500) });
  }
}

/**
 * The state file's contents, or null when there is none yet.
 * @param {string} file
 */
function loadState(file) {
  if (!existsSync(file)) return null;
  try {
    const state = JSON.parse(readFileSync(file, "utf8"));
    if (state?.version !== STATE_VERSION || typeof state.witness?.pkcs8 !== "string") throw new Error("not a witness state file");
    return state;
  } catch (error) {
    return usage(`cannot read the state file ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * Writes the state atomically: a crash leaves either the old file or the new one, never half of one. The file
 * holds the witness's private key, so it is created readable by its owner only.
 * @param {string} file
 * @param {object} state
 */
function saveState(file, state) {
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  chmodSync(temp, 0o600);
  renameSync(temp, file);
}

/**
 * A fresh Ed25519 witness key, as stored in the state file.
 * @param {string} name
 */
async function newWitnessKey(name) {
  const pair = /** @type {CryptoKeyPair} */ (await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"]));
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", pair.privateKey));
  const publicKey = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  return { name, pkcs8: base64Encode(pkcs8), vkey: formatVerifierKey(name, SIG_COSIGNATURE_V1, publicKey) };
}

/**
 * The signer for a stored witness key.
 * @param {{ pkcs8: string, vkey: string }} witness
 * @returns {Promise<import("../src/domain/signed-note.ts").NoteSigner>}
 */
async function witnessSigner(witness) {
  const privateKey = await crypto.subtle.importKey("pkcs8", new Uint8Array(base64Decode(witness.pkcs8)), { name: "Ed25519" }, false, [
    "sign",
  ]);
  return { privateKey, key: parseVerifierKey(witness.vkey) };
}

/**
 * The log key to pin on the first run: the one given, or the one the service publishes.
 * @param {string} base
 * @param {string | undefined} given
 */
async function logKeyToPin(base, given) {
  if (given !== undefined) {
    try {
      parseVerifierKey(given);
    } catch (error) {
      usage(`--log-key is not a verifier key: ${error instanceof Error ? error.message : String(error)}`);
    }
    return given;
  }
  const published = await getJson(base, "/log/key");
  if (typeof published?.vkey !== "string")
    throw new Misbehaviour("malformed", "GET /log/key has no vkey", { got: JSON.stringify(published) });
  try {
    parseVerifierKey(published.vkey);
  } catch (error) {
    throw new Misbehaviour("malformed", `GET /log/key is not a verifier key: ${error instanceof Error ? error.message : String(error)}`);
  }
  return published.vkey;
}

/**
 * Parses a checkpoint note and checks the log's signature on it; throws Misbehaviour on any failure.
 * @param {string} text
 * @param {string} logVkey
 * @param {string | null} had  the last accepted checkpoint, for the report
 */
async function checkSignedCheckpoint(text, logVkey, had) {
  let note;
  let checkpoint;
  try {
    note = parseNote(text);
    checkpoint = parseCheckpointBody(note.body);
  } catch (error) {
    throw new Misbehaviour("malformed", `the checkpoint is malformed: ${error instanceof Error ? error.message : String(error)}`, {
      had,
      got: text,
    });
  }
  const key = parseVerifierKey(logVkey);
  if (checkpoint.origin !== key.name)
    throw new Misbehaviour("signature", `the checkpoint's origin "${checkpoint.origin}" is not the pinned log's "${key.name}"`, {
      had,
      got: text,
    });
  const check = await checkNoteSignature(note, key);
  if (check.code !== "verified")
    throw new Misbehaviour(
      "signature",
      check.code === "missing"
        ? "the checkpoint is not signed by the pinned log key"
        : "the log's signature on the checkpoint does not verify",
      { had, got: text },
    );
  return { note, checkpoint };
}

/**
 * Checks that `next` extends the accepted checkpoint `had` (both already signature-checked); throws Misbehaviour.
 * @param {string} base
 * @param {{ text: string, size: number, root: Uint8Array }} had
 * @param {{ text: string, size: number, root: Uint8Array }} next
 */
async function checkExtends(base, had, next) {
  const evidence = { had: had.text, got: next.text };
  if (next.size < had.size)
    throw new Misbehaviour("rollback", `rollback: the log's tree shrank from ${had.size} to ${next.size} leaves`, evidence);
  if (next.size === had.size) {
    if (Buffer.compare(Buffer.from(next.root), Buffer.from(had.root)) !== 0)
      throw new Misbehaviour("fork", `fork: two different roots for the same tree size ${had.size}`, evidence);
    return;
  }
  if (had.size === 0) return;
  const answer = await getJson(base, `/log/consistency?from=${had.size}&to=${next.size}`);
  const proof = answer?.proof;
  const wellFormed =
    answer?.from === had.size &&
    answer?.to === next.size &&
    Array.isArray(proof) &&
    proof.length <= PROOF_MAX_HASHES &&
    proof.every((h) => typeof h === "string" && /^[0-9a-f]{64}$/.test(h));
  if (!wellFormed) throw new Misbehaviour("consistency", "the consistency proof is malformed", { ...evidence, proof: answer });
  if (!verifyConsistency(had.size, next.size, had.root, next.root, proof.map(hashFromHex)))
    throw new Misbehaviour(
      "consistency",
      `the consistency proof from ${had.size} to ${next.size} leaves does not verify: the new tree does not extend the one accepted (a rewritten or dropped leaf, or a fork)`,
      { ...evidence, proof: answer },
    );
}

/**
 * One round: fetch, check, cosign, post, record. Returns a line saying what happened.
 * @param {string} base
 * @param {string} file
 * @param {any} state
 */
async function round(base, file, state) {
  const text = await request(base, "/log/checkpoint", { maxBytes: NOTE_MAX_BYTES });
  const had = state.checkpoint ?? null;
  const { note, checkpoint } = await checkSignedCheckpoint(text, state.log_vkey, had);
  const next = { text, size: checkpoint.size, root: checkpoint.root };
  const same = had !== null && parseCheckpointBody(parseNote(had).body).size === checkpoint.size;
  if (had !== null) {
    const old = parseCheckpointBody(parseNote(had).body);
    await checkExtends(base, { text: had, size: old.size, root: old.root }, next);
  }
  // The same checkpoint is cosigned once; a post that failed earlier is retried.
  if (same && state.cosigned_size === checkpoint.size) return `unchanged at ${checkpoint.size} leaves`;
  state.checkpoint = text;
  state.accepted_at = new Date().toISOString();
  saveState(file, state);
  const signer = await witnessSigner(state.witness);
  const line = await cosignBody(note.body, signer, Math.floor(Date.now() / 1000));
  const cosigned = formatNote(note.body, [...note.signatures.map((s) => s.line), line]);
  await request(base, "/log/cosignatures", { method: "POST", body: cosigned, expect: 204, maxBytes: 4_096 });
  state.cosigned_size = checkpoint.size;
  saveState(file, state);
  return `accepted and cosigned the checkpoint of ${checkpoint.size} leaves (root ${base64Encode(checkpoint.root)})`;
}

/**
 * Prints the report of a misbehaviour, records it in the state file, and exits 1.
 * @param {string} file
 * @param {any} state
 * @param {Misbehaviour} error
 * @returns {never}
 */
function alarm(file, state, error) {
  state.alarm = { check: error.check, message: error.message, at: new Date().toISOString(), ...error.evidence };
  saveState(file, state);
  report(state.alarm);
  process.exit(1);
}

/**
 * The plain report of an alarm, on stderr.
 * @param {{ check: string, message: string, at: string, had?: string | null, got?: string, proof?: unknown }} a
 */
function report(a) {
  const indent = (text) => String(text).replace(/^/gm, "    ");
  const lines = [`LOG MISBEHAVIOUR (${a.check}) at ${a.at}:`, `  ${a.message}`];
  lines.push("  the witness had accepted:", a.had ? indent(a.had) : "    (nothing yet)");
  if (a.got !== undefined) lines.push("  the service now serves:", indent(a.got));
  if (a.proof !== undefined) lines.push("  with the proof:", indent(JSON.stringify(a.proof)));
  lines.push("  The witness will not cosign this log again until an operator has looked into it (--clear-alarm).");
  console.error(lines.join("\n"));
}

async function main() {
  const file = option("--state");
  if (file === undefined) usage("--state FILE is required");
  let state = loadState(file);
  if (state === null) {
    const name = option("--name") ?? "edge-wallet-witness";
    try {
      state = { version: STATE_VERSION, witness: await newWitnessKey(name) };
    } catch (error) {
      usage(`--name: ${error instanceof Error ? error.message : String(error)}`);
    }
    saveState(file, state);
    console.log(`log:witness: made a new witness key; its verifier key (add it to LOG_WITNESS_KEYS):\n${state.witness.vkey}`);
  }
  if (flag("--print-vkey")) {
    console.log(state.witness.vkey);
    return;
  }
  if (flag("--clear-alarm") && state.alarm !== undefined) {
    console.error(`log:witness: clearing the alarm of ${state.alarm.at} (${state.alarm.check}) as asked`);
    delete state.alarm;
    saveState(file, state);
  }
  if (state.alarm !== undefined) {
    report(state.alarm);
    process.exit(1);
  }
  const base = option("--url");
  if (base === undefined) usage("--url URL is required");
  const once = flag("--once");
  const intervalText = option("--interval-ms") ?? String(DEFAULT_INTERVAL_MS);
  const interval_ms = Number(intervalText);
  if (!Number.isSafeInteger(interval_ms) || interval_ms < MIN_INTERVAL_MS || interval_ms > MAX_INTERVAL_MS)
    usage(`--interval-ms must be an integer from ${MIN_INTERVAL_MS} to ${MAX_INTERVAL_MS}`);
  const givenKey = option("--log-key");
  if (givenKey !== undefined && state.log_vkey !== undefined && givenKey !== state.log_vkey)
    usage(`--log-key differs from the log key pinned in ${file} (${state.log_vkey}); a witness never changes the key it follows`);
  for (;;) {
    try {
      if (state.log_vkey === undefined) {
        state.log_vkey = await logKeyToPin(base, givenKey);
        saveState(file, state);
        console.log(`log:witness: pinned the log key ${state.log_vkey}`);
      }
      console.log(`log:witness: ${await round(base, file, state)}`);
      if (once) return;
    } catch (error) {
      if (error instanceof Misbehaviour) alarm(file, state, error);
      if (!(error instanceof Unreachable)) throw error;
      console.error(`log:witness: ${error.message}`);
      if (once) process.exit(3);
    }
    await new Promise((resolveWait) => setTimeout(resolveWait, interval_ms));
  }
}

await main();
