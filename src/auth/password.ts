/**
 * Password hashing with PBKDF2-HMAC-SHA-256 from WebCrypto, which deployed Workers run natively (they cap
 * the iteration count at 100,000, which the config enforces). Hashes carry their algorithm and parameters,
 * `pbkdf2-sha256$<iterations>$<salt>$<hash>`, so a stronger scheme can replace this one and upgrade each
 * hash at its owner's next login.
 */
import { base64urlDecode, base64urlEncode, timingSafeEqual } from "./encoding";

const SALT_BYTES = 16;
const HASH_BITS = 256;

async function derive(password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(password), "PBKDF2", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, key, HASH_BITS);
  return new Uint8Array(bits);
}

/** A new self-describing hash of `password`. */
export async function hashPassword(password: string, iterations: number): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  const hash = await derive(password, salt, iterations);
  return `pbkdf2-sha256$${iterations}$${base64urlEncode(salt)}$${base64urlEncode(hash)}`;
}

/** Whether `password` matches `stored`. Takes the same time for a mismatch as for a match. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, iterationsText, saltText, hashText] = stored.split("$");
  const iterations = Number(iterationsText);
  if (scheme !== "pbkdf2-sha256" || !Number.isSafeInteger(iterations) || saltText === undefined || hashText === undefined) {
    return false;
  }
  const actual = await derive(password, base64urlDecode(saltText), iterations);
  return timingSafeEqual(actual, base64urlDecode(hashText));
}

/** Whether `stored` was made with fewer iterations than the config now asks for. */
export function needsRehash(stored: string, iterations: number): boolean {
  const [scheme, iterationsText] = stored.split("$");
  return scheme !== "pbkdf2-sha256" || Number(iterationsText) < iterations;
}

/**
 * A hash of a random password, made once per isolate: verifying an unknown handle's login against it costs
 * the same as verifying a real user's, so response time does not reveal which handles exist.
 */
let decoy: Promise<string> | null = null;
export function decoyHash(iterations: number): Promise<string> {
  decoy ??= hashPassword(base64urlEncode(crypto.getRandomValues(new Uint8Array(16))), iterations);
  return decoy;
}
