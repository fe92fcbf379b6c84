#!/usr/bin/env node
// Verifies a transfer receipt offline: `npm run verify-receipt -- receipt.json --key-file public-key.json`.
// The signed bytes are the canonical JSON of the receipt's `receipt` field (keys sorted at every level, no
// spaces); the signature is Ed25519 (RFC 8032) under the service's receipt key, which is published at
// GET /api/v1/receipts/public-key. Give the key one of three ways:
//   --key-file FILE   the JSON that route returns, saved earlier (fully offline)
//   --public-key B64  the raw 32-byte key, base64url
//   --url URL         fetch it from a running service (not offline)
// Exit 0: valid. Exit 1: invalid (the reason is printed). Exit 2: usage.
import { createPublicKey, verify } from "node:crypto";
import { readFileSync } from "node:fs";
// The same canonical JSON the service signs with: one implementation, loaded as TypeScript by Node.
import { canonicalJson } from "../src/domain/canonical.ts";

/**
 * Prints what is wrong with the command line and how to use it, and exits 2.
 * @param {string} message
 * @returns {never}
 */
function usage(message) {
  console.error(
    `verify-receipt: ${message}\nusage: npm run verify-receipt -- RECEIPT.json (--key-file FILE | --public-key B64URL | --url URL)`,
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

const problems = [];
if (signed?.signature?.alg !== "Ed25519") problems.push("the signature is not Ed25519");
if (keyId !== null && signed?.signature?.key_id !== keyId)
  problems.push(`signed with key ${signed?.signature?.key_id}, but the key given is ${keyId}`);
let valid = false;
try {
  const publicKey = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: key }, format: "jwk" });
  valid = verify(null, Buffer.from(canonicalJson(signed.receipt)), publicKey, Buffer.from(signed.signature.value, "base64url"));
} catch (error) {
  problems.push(`could not check the signature: ${error instanceof Error ? error.message : String(error)}`);
}
if (!valid) problems.push("the signature does not match the receipt");
const t = signed?.receipt?.transfer;
if (problems.length > 0) {
  console.error(`INVALID receipt${t?.id ? ` for ${t.id}` : ""}:\n- ${problems.join("\n- ")}`);
  process.exit(1);
}
console.log(
  `VALID: ${t.id}: ${t.amount} ${t.currency} minor units from ${t.from_wallet_id} to ${t.to_wallet_id}, completed ${t.completed_at}`,
);
for (const e of signed.receipt.entries) console.log(`  ${e.wallet_id} seq ${e.seq} ${e.kind} ${e.amount} hash ${e.hash}`);
