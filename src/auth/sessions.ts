/**
 * Opaque session tokens. A token is `<user id>.<43 characters of base64url>`, handed to the client once. The
 * 43 characters are 32 bytes: 16 random bytes (the token's secret) followed by the first 16 bytes of an
 * HMAC-SHA-256, under the SESSION_TOKEN_KEY secret, of the user id and those random bytes.
 *
 * The user id says which coordinator (one Durable Object per user) holds the session; that object keeps only
 * the token's SHA-256, with an expiry and a revocation time, so a leaked store reveals no usable token, logout
 * takes effect on the next request everywhere, and checking a session costs one call to an object the request
 * often needs anyway (every money movement goes to the same coordinator), never a D1 query.
 *
 * The MAC exists so that the edge can refuse a token it did not issue without reaching any Durable Object: a
 * forged token names a user id of the attacker's choosing, and merely addressing a Durable Object by that name
 * allocates its storage (a SQLite file in local workerd), so an unchecked token let anyone create storage at
 * will. The MAC proves the edge issued the token for that user id, never that the session is still live: the
 * coordinator stays the authority on expiry and revocation. Changing SESSION_TOKEN_KEY ends every session.
 */
import { base64urlDecode, base64urlEncode, sha256HexAsync, timingSafeEqual } from "./encoding";

/** The name of the HttpOnly cookie the web client authenticates with. */
export const SESSION_COOKIE = "sid";

/** The secret this module needs: 32 random bytes, base64url (`wrangler secret put SESSION_TOKEN_KEY`). */
export interface SessionSecretVars {
  SESSION_TOKEN_KEY?: string;
}

const TOKEN_SHAPE = /^(usr_[0-9a-hjkmnp-tv-z]{26})\.([A-Za-z0-9_-]{43})$/;
const RANDOM_BYTES = 16;
const MAC_BYTES = 16;
/** Domain separation, so this key's MACs can never be mistaken for another use of the same bytes. */
const MAC_LABEL = "session-token:v1:";

const keyCache = new Map<string, Promise<CryptoKey>>();

/** The HMAC key under SESSION_TOKEN_KEY, imported once per secret (API keys are MACed under it too). */
export function macKey(vars: SessionSecretVars): Promise<CryptoKey> {
  const secret = vars.SESSION_TOKEN_KEY;
  if (secret === undefined || secret === "") throw new Error("secret SESSION_TOKEN_KEY is not set");
  let key = keyCache.get(secret);
  if (key === undefined) {
    const bytes = base64urlDecode(secret);
    if (bytes.length !== 32) throw new Error("secret SESSION_TOKEN_KEY must be 32 bytes of base64url");
    key = crypto.subtle.importKey("raw", bytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    keyCache.set(secret, key);
  }
  return key;
}

async function macOf(vars: SessionSecretVars, user_id: string, random: Uint8Array): Promise<Uint8Array> {
  const message = new TextEncoder().encode(`${MAC_LABEL}${user_id}.${base64urlEncode(random)}`);
  const full = new Uint8Array(await crypto.subtle.sign("HMAC", await macKey(vars), message));
  return full.slice(0, MAC_BYTES);
}

/** A new token for `user_id`: 128 random bits and a 128-bit MAC under SESSION_TOKEN_KEY. */
export async function newToken(vars: SessionSecretVars, user_id: string): Promise<string> {
  const random = crypto.getRandomValues(new Uint8Array(RANDOM_BYTES));
  const body = new Uint8Array(RANDOM_BYTES + MAC_BYTES);
  body.set(random);
  body.set(await macOf(vars, user_id, random), RANDOM_BYTES);
  const token = `${user_id}.${base64urlEncode(body)}`;
  if (!TOKEN_SHAPE.test(token)) throw new Error(`invariant: bad user id ${user_id}`);
  return token;
}

/**
 * The user a token belongs to, or null when it is not a token this service issued: a wrong shape or a MAC
 * that does not verify. Checked at the edge, before any Durable Object is called; null says nothing about
 * whether the session is live (its coordinator decides that).
 */
export async function tokenUser(vars: SessionSecretVars, token: string): Promise<string | null> {
  const match = TOKEN_SHAPE.exec(token);
  const user_id = match?.[1];
  const encoded = match?.[2];
  if (user_id === undefined || encoded === undefined) return null;
  const body = base64urlDecode(encoded);
  // 43 base64url characters carry 258 bits; two spare bits set would make a second spelling of one token.
  if (body.length !== RANDOM_BYTES + MAC_BYTES || base64urlEncode(body) !== encoded) return null;
  const expected = await macOf(vars, user_id, body.slice(0, RANDOM_BYTES));
  return timingSafeEqual(expected, body.slice(RANDOM_BYTES)) ? user_id : null;
}

/** The stored form of a token. */
export function tokenHash(token: string): Promise<string> {
  return sha256HexAsync(token);
}
