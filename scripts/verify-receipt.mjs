#!/usr/bin/env node
// Verifies a transfer receipt or a wallet statement offline:
// `npm run verify-receipt -- receipt.json --key-file public-key.json` (a statement file works the same way).
// The signed bytes are the canonical JSON of the receipt's `receipt` field (keys sorted at every level, no
// spaces); the signature is Ed25519 (RFC 8032) under the service's receipt key, which is published at
// GET /api/v1/receipts/public-key. Give the key one of three ways:
//   --key-file FILE   the JSON that route returns, saved earlier (fully offline)
//   --public-key B64  the raw 32-byte key, base64url
//   --url URL         fetch it from a running service (not offline)
// A statement (GET /wallets/{id}/statement?format=json) is checked further: its arithmetic (every balance_after
// follows from the one before, the totals, closing = opening + in - out), its seqs (contiguous), and its hash
// chain: each entry's hash is recomputed as the wallet's chain computes it, each entry from the second on must
// link to the one before, and chain_head must be the last entry. The first entry's prev_hash links to an entry
// the statement does not include, so it is checked only when the first entry is seq 1 (the genesis hash).
// A receipt that carries `log` (a signed checkpoint and inclusion proofs of its entries, api-contract.md "The
// transparency log") is checked against the log's verifier key too (scripts/receipt-log.mjs), given as
//   --log-key VKEY        the key in C2SP signed-note form, as GET /api/v1/log/key's `vkey` shows it
//   --log-key-file FILE   that route's JSON saved earlier, or a text file holding the vkey (fully offline)
//   --url URL             fetched from the running service with the receipt key (not offline)
// Without a log key the proofs are not checked, and the report says so.
// Exit 0: valid. Exit 1: invalid (the reason is printed). Exit 2: usage.
import { createHash, createPublicKey, verify } from "node:crypto";
import { readFileSync } from "node:fs";
// The same canonical JSON the service signs with: one implementation, loaded as TypeScript by Node.
import { canonicalJson } from "../src/domain/canonical.ts";
import { receiptLogProblems } from "./receipt-log.mjs";
/** The first entry's `prev_hash`. */
const GENESIS_HASH = "0".repeat(64);

/**
 * An entry's chain hash, as docs/architecture.md ("Hash chain") publishes it and src/domain/hash-chain.ts
 * computes it: SHA-256 hex of the JSON array of the version tag, the wallet id and the entry's fields in this
 * order. Written out here (not imported) so that this checker is the independent second implementation a
 * third party would write; test/http/statements-verify.test.mjs runs it against the service's own hashes.
 * @param {string} walletId
 * @param {any} e
 */
function entryHash(walletId, e) {
  const fields = [e.seq, e.id, e.kind, e.amount, e.balance_after, e.transfer_id, e.counterparty, e.memo, e.created_at, e.prev_hash];
  return createHash("sha256")
    .update(JSON.stringify(["v1", walletId, ...fields]))
    .digest("hex");
}

/**
 * Prints what is wrong with the command line and how to use it, and exits 2.
 * @param {string} message
 * @returns {never}
 */
function usage(message) {
  console.error(
    `verify-receipt: ${message}\nusage: npm run verify-receipt -- RECEIPT.json (--key-file FILE | --public-key B64URL | --url URL) [--log-key VKEY | --log-key-file FILE]`,
  );
  process.exit(2);
}

const args = process.argv.slice(2);
const file = args.find((a, i) => !a.startsWith("--") && !args[i - 1]?.startsWith("--"));
const option = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
if (!file) usage("no receipt file given");

let signed;
try {
  signed = JSON.parse(readFileSync(file, "utf8"));
} catch (error) {
  console.error(`INVALID: ${file} is not readable JSON (${error instanceof Error ? error.message : String(error)})`);
  process.exit(1);
}

let key = option("--public-key");
let keyId = null;
const keyFile = option("--key-file");
const url = option("--url");
if (keyFile) ({ public_key: key, key_id: keyId } = JSON.parse(readFileSync(keyFile, "utf8")));
if (url) ({ public_key: key, key_id: keyId } = await (await fetch(new URL("/api/v1/receipts/public-key", url))).json());
if (!key) usage("no public key given");
let logKey = option("--log-key");
const logKeyFile = option("--log-key-file");
if (logKeyFile) logKey = readLogKeyFile(logKeyFile);
if (url && !logKey && signed?.log !== undefined) logKey = await fetchLogKey(url);

const problems = [];
const isStatement = signed?.statement !== undefined;
const document = isStatement ? signed.statement : signed?.receipt;
if (signed?.signature?.alg !== "Ed25519") problems.push("the signature is not Ed25519");
if (keyId !== null && signed?.signature?.key_id !== keyId)
  problems.push(`signed with key ${signed?.signature?.key_id}, but the key given is ${keyId}`);
let valid = false;
try {
  const publicKey = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: key }, format: "jwk" });
  valid = verify(null, Buffer.from(canonicalJson(document)), publicKey, Buffer.from(signed.signature.value, "base64url"));
} catch (error) {
  problems.push(`could not check the signature: ${error instanceof Error ? error.message : String(error)}`);
}
if (!valid) problems.push(`the signature does not match the ${isStatement ? "statement" : "receipt"}`);
// base64url can spell the same bytes more than one way (unused trailing bits); only the canonical spelling is
// accepted, so that no byte of the file can change unnoticed.
if (
  typeof signed?.signature?.value !== "string" ||
  Buffer.from(signed.signature.value, "base64url").toString("base64url") !== signed.signature.value
)
  problems.push("the signature value is not canonical base64url");
if (isStatement) {
  try {
    problems.push(...statementProblems(signed.statement));
  } catch (error) {
    problems.push(`the statement is malformed: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (problems.length > 0) {
    console.error(`INVALID statement${document?.wallet_id ? ` of ${document.wallet_id}` : ""}:\n- ${problems.join("\n- ")}`);
    process.exit(1);
  }
  const s = signed.statement;
  console.log(
    `VALID: statement of ${s.wallet_id}, ${s.from} to ${s.to}: ${s.entries.length} entries, opening ${s.opening_balance}, in ${s.total_in}, out ${s.total_out}, closing ${s.closing_balance} ${s.currency} minor units; chain head seq ${s.chain_head.seq} hash ${s.chain_head.hash}`,
  );
  process.exit(0);
}
const t = signed?.receipt?.transfer;
// A receipt is {receipt, signature} and, once a checkpoint covers it, `log`: any other field (a misspelt `log`
// among them) is refused rather than ignored.
const unknown = Object.keys(signed ?? {}).filter((k) => !["receipt", "signature", "log"].includes(k));
if (unknown.length > 0) problems.push(`unknown fields: ${unknown.join(", ")}`);
let logReport = "log: this receipt carries no log proofs yet (no checkpoint covered it when it was fetched)";
if (signed?.log !== undefined && logKey === undefined)
  logReport = "log: NOT CHECKED: the receipt carries log proofs, but no log key was given (--log-key, --log-key-file or --url)";
else if (signed?.log !== undefined && logKey !== undefined) {
  const { problems: logProblems, checked } = await receiptLogProblems(signed, logKey);
  problems.push(...logProblems.map((p) => `log: ${p}`));
  logReport = `log: verified: ${checked.join("; ")}`;
}
if (problems.length > 0) {
  console.error(`INVALID receipt${t?.id ? ` for ${t.id}` : ""}:\n- ${problems.join("\n- ")}`);
  process.exit(1);
}
console.log(
  `VALID: ${t.id}: ${t.amount} ${t.currency} minor units from ${t.from_wallet_id} to ${t.to_wallet_id}, completed ${t.completed_at}`,
);
for (const e of signed.receipt.entries) console.log(`  ${e.wallet_id} seq ${e.seq} ${e.kind} ${e.amount} hash ${e.hash}`);
console.log(logReport);

/**
 * The log verifier key in a file: the JSON of GET /api/v1/log/key, or the vkey as text.
 * @param {string} path
 * @returns {string}
 */
function readLogKeyFile(path) {
  const text = readFileSync(path, "utf8").trim();
  if (!text.startsWith("{")) return text;
  const vkey = JSON.parse(text)?.vkey;
  if (typeof vkey !== "string") usage(`${path} has no vkey`);
  return vkey;
}

/**
 * The log verifier key the service publishes (trusting the service for it, as --url does for the receipt key).
 * @param {string} base
 * @returns {Promise<string>}
 */
async function fetchLogKey(base) {
  const response = await fetch(new URL("/api/v1/log/key", base), { signal: AbortSignal.timeout(10_000) });
  const vkey = response.ok ? (await response.json())?.vkey : undefined;
  if (typeof vkey !== "string") usage(`${base} did not give a log key (GET /api/v1/log/key answered ${response.status})`);
  return vkey;
}

/**
 * What is wrong with a statement's figures and chain (nothing: an empty list). Sums are BigInt, so no total
 * is ever rounded whatever the file claims.
 * @param {any} s
 * @returns {string[]}
 */
function statementProblems(s) {
  const out = [];
  const entries = /** @type {any[]} */ (s.entries);
  let running = BigInt(s.opening_balance);
  let totalIn = 0n;
  let totalOut = 0n;
  entries.forEach((e, i) => {
    const prev = entries[i - 1];
    if (prev !== undefined && e.seq !== prev.seq + 1) out.push(`entry ${e.seq} follows entry ${prev.seq}: the seqs have a gap`);
    running += BigInt(e.amount);
    if (e.amount > 0) totalIn += BigInt(e.amount);
    else totalOut -= BigInt(e.amount);
    if (BigInt(e.balance_after) !== running) out.push(`entry ${e.seq}: balance_after ${e.balance_after}, but the amounts give ${running}`);
    // The chain's canonical form names its fields; anything else an entry carries (refund_of) is not hashed.
    if (entryHash(s.wallet_id, e) !== e.hash) out.push(`entry ${e.seq}: its hash does not match its fields`);
    if (prev !== undefined && e.prev_hash !== prev.hash) out.push(`entry ${e.seq}: prev_hash does not link to entry ${prev.seq}`);
    if (i === 0 && e.seq === 1 && e.prev_hash !== GENESIS_HASH) out.push("entry 1: prev_hash is not the genesis hash");
  });
  if (BigInt(s.total_in) !== totalIn) out.push(`total_in is ${s.total_in}, but the entries give ${totalIn}`);
  if (BigInt(s.total_out) !== totalOut) out.push(`total_out is ${s.total_out}, but the entries give ${totalOut}`);
  if (BigInt(s.closing_balance) !== BigInt(s.opening_balance) + BigInt(s.total_in) - BigInt(s.total_out))
    out.push("closing_balance is not opening_balance + total_in - total_out");
  if (BigInt(s.closing_balance) !== running) out.push(`closing_balance is ${s.closing_balance}, but the last balance is ${running}`);
  const last = entries[entries.length - 1];
  if (last !== undefined && (s.chain_head?.seq !== last.seq || s.chain_head?.hash !== last.hash))
    out.push(`chain_head (seq ${s.chain_head?.seq}) is not the last entry (seq ${last.seq})`);
  return out;
}
