/**
 * API keys: credentials for machines, made by a user and scoped. A key is
 * `ewk_<scope mask>_<user id>_<43 characters of base64url>`, shown to its maker once:
 *
 * - `ewk_` ("edge wallet key") is a fixed prefix, so a secret scanner (GitHub's, gitleaks, our own scan test) can
 *   recognise a leaked key by its shape alone, and nobody mistakes it for a session token.
 * - The scope mask is one hexadecimal digit (see SCOPE_BITS). It is not secret, and it cannot be changed by the
 *   holder: the MAC covers it. Carrying the scopes in the key lets the edge refuse a request beyond them (403
 *   `insufficient_scope`) before it calls anything that would look at an Idempotency-Key.
 * - The user id says which coordinator (one Durable Object per user) holds the key's record, exactly as a
 *   session token's does, so authenticating a key needs no D1 query.
 * - The 43 characters are 32 bytes: 16 random bytes and the first 16 bytes of an HMAC-SHA-256 under the
 *   SESSION_TOKEN_KEY secret of everything before them. The edge refuses a forged key without addressing any
 *   Durable Object (which would allocate its storage); the coordinator stays the authority on revocation.
 *
 * Only the key's SHA-256 is stored. Changing SESSION_TOKEN_KEY ends every session and every API key.
 */
import { base64urlDecode, base64urlEncode, timingSafeEqual } from "./encoding";
import { macKey, type SessionSecretVars } from "./sessions";

/** The scopes a key can carry, in the order of their bits. */
export const SCOPES = ["read", "payments:write", "webhooks:write"] as const;
export type Scope = (typeof SCOPES)[number];

/** Each scope's bit in the key's mask digit. */
const SCOPE_BITS: Readonly<Record<Scope, number>> = { read: 1, "payments:write": 2, "webhooks:write": 4 };

/** The prefix every API key starts with (and nothing else does). */
export const API_KEY_PREFIX = "ewk_";

const KEY_SHAPE = /^ewk_([1-7])_(usr_[0-9a-hjkmnp-tv-z]{26})_([A-Za-z0-9_-]{43})$/;
const RANDOM_BYTES = 16;
const MAC_BYTES = 16;
/** Domain separation from session tokens, which are MACed under the same secret. */
const MAC_LABEL = "api-key:v1:";

/** The mask digit of a set of scopes. */
export function scopeMask(scopes: readonly Scope[]): string {
  return scopes.reduce((mask, scope) => mask | SCOPE_BITS[scope], 0).toString(16);
}

/** The scopes of a mask digit, in SCOPES order. */
function scopesOf(mask: string): Scope[] {
  const bits = Number.parseInt(mask, 16);
  return SCOPES.filter((scope) => (bits & SCOPE_BITS[scope]) !== 0);
}

async function macOf(vars: SessionSecretVars, head: string, random: Uint8Array): Promise<Uint8Array> {
  const message = new TextEncoder().encode(`${MAC_LABEL}${head}${base64urlEncode(random)}`);
  const full = new Uint8Array(await crypto.subtle.sign("HMAC", await macKey(vars), message));
  return full.slice(0, MAC_BYTES);
}

/** A new key for `user_id` with `scopes` (at least one): 128 random bits and a 128-bit MAC. */
export async function newApiKey(vars: SessionSecretVars, user_id: string, scopes: readonly Scope[]): Promise<string> {
  if (scopes.length === 0) throw new Error("invariant: an API key needs a scope");
  const head = `${API_KEY_PREFIX}${scopeMask(scopes)}_${user_id}_`;
  const random = crypto.getRandomValues(new Uint8Array(RANDOM_BYTES));
  const body = new Uint8Array(RANDOM_BYTES + MAC_BYTES);
  body.set(random);
  body.set(await macOf(vars, head, random), RANDOM_BYTES);
  const key = `${head}${base64urlEncode(body)}`;
  if (!KEY_SHAPE.test(key)) throw new Error(`invariant: bad user id ${user_id}`);
  return key;
}

/** Whether `text` has the shape of an API key (to tell it from a session token; says nothing of its validity). */
export function looksLikeApiKey(text: string): boolean {
  return text.startsWith(API_KEY_PREFIX);
}

/**
 * The user and scopes of a key this service issued, or null for a wrong shape or a MAC that does not verify.
 * Checked at the edge before any Durable Object is called; says nothing about revocation.
 */
export async function apiKeyOf(vars: SessionSecretVars, key: string): Promise<{ user_id: string; scopes: Scope[] } | null> {
  const match = KEY_SHAPE.exec(key);
  const [mask, user_id, encoded] = [match?.[1], match?.[2], match?.[3]];
  if (mask === undefined || user_id === undefined || encoded === undefined) return null;
  const body = base64urlDecode(encoded);
  // 43 base64url characters carry 258 bits; two spare bits set would make a second spelling of one key.
  if (body.length !== RANDOM_BYTES + MAC_BYTES || base64urlEncode(body) !== encoded) return null;
  const expected = await macOf(vars, `${API_KEY_PREFIX}${mask}_${user_id}_`, body.slice(0, RANDOM_BYTES));
  return timingSafeEqual(expected, body.slice(RANDOM_BYTES)) ? { user_id, scopes: scopesOf(mask) } : null;
}
