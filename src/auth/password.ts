/**
 * Password hashing with Argon2id, to the OWASP Password Storage guidance (at least 19 MiB of memory, two
 * passes, one lane). Deployed Workers refuse WebAssembly compiled from bytes at run time and cap PBKDF2 at
 * 100,000 iterations, so the hash is computed by `@noble/hashes`' audited pure-JavaScript Argon2id: no
 * WebAssembly at all, about 0.2 s of CPU per hash at the default cost (measured in Node 24 on this machine),
 * well inside a Worker's CPU limit on the paid plan.
 *
 * Hashes are PHC strings (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`) that carry their parameters, so a
 * stronger cost, or a hash from the earlier PBKDF2 scheme, is upgraded when its owner next logs in.
 */
import { argon2idAsync } from "@noble/hashes/argon2.js";
import { base64urlDecode, base64urlEncode, timingSafeEqual } from "./encoding";

/** Argon2id cost, from the config. */
export interface PasswordCost {
  memory_kib: number;
  passes: number;
}

const SALT_BYTES = 16;
const HASH_BYTES = 32;
const PHC = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=1\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/;

function derive(password: string, salt: Uint8Array, cost: PasswordCost): Promise<Uint8Array> {
  // The async variant yields to the event loop while it works, so a slow hash does not stall other requests.
  return argon2idAsync(new TextEncoder().encode(password), salt, { m: cost.memory_kib, t: cost.passes, p: 1, dkLen: HASH_BYTES });
}

/** A new self-describing hash of `password`. */
export async function hashPassword(password: string, cost: PasswordCost): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  const hash = await derive(password, salt, cost);
  return `$argon2id$v=19$m=${cost.memory_kib},t=${cost.passes},p=1$${base64urlEncode(salt)}$${base64urlEncode(hash)}`;
}

async function verifyPbkdf2(password: string, stored: string): Promise<boolean> {
  const [, iterationsText, saltText, hashText] = stored.split("$");
  const iterations = Number(iterationsText);
  if (!Number.isSafeInteger(iterations) || iterations < 1 || iterations > 100_000 || saltText === undefined || hashText === undefined)
    return false;
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(password), "PBKDF2", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt: base64urlDecode(saltText), iterations }, key, 256);
  return timingSafeEqual(new Uint8Array(bits), base64urlDecode(hashText));
}

/** Whether `password` matches `stored` (Argon2id, or the earlier PBKDF2 scheme). Constant-time compare. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  if (stored.startsWith("pbkdf2-sha256$")) return verifyPbkdf2(password, stored);
  const match = PHC.exec(stored);
  if (match === null) return false;
  const [, m, t, saltText, hashText] = match;
  const cost = { memory_kib: Number(m), passes: Number(t) };
  if (saltText === undefined || hashText === undefined || cost.memory_kib > 262_144 || cost.passes > 10) return false;
  const actual = await derive(password, base64urlDecode(saltText), cost);
  return timingSafeEqual(actual, base64urlDecode(hashText));
}

/** Whether `stored` is weaker than the configured cost (or another scheme) and should be re-hashed. */
export function needsRehash(stored: string, cost: PasswordCost): boolean {
  const match = PHC.exec(stored);
  return match === null || Number(match[1]) < cost.memory_kib || Number(match[2]) < cost.passes;
}

/**
 * A hash of a random password at the configured cost, made once per isolate: checking an unknown handle's
 * login against it costs the same as checking a real user's, so timing does not reveal which handles exist.
 */
const decoys = new Map<string, Promise<string>>();
export function decoyHash(cost: PasswordCost): Promise<string> {
  const key = `${cost.memory_kib}:${cost.passes}`;
  let decoy = decoys.get(key);
  if (decoy === undefined) {
    decoy = hashPassword(base64urlEncode(crypto.getRandomValues(new Uint8Array(16))), cost);
    decoys.set(key, decoy);
  }
  return decoy;
}
