/**
 * Opaque session tokens. A token is `<user id>.<32 random bytes, base64url>`, handed to the client once. The
 * user id says which coordinator (one Durable Object per user) holds the session; that object keeps only the
 * token's SHA-256, with an expiry and a revocation time, so a leaked store reveals no usable token, logout
 * takes effect on the next request everywhere, and checking a session costs one call to an object the request
 * often needs anyway (every money movement goes to the same coordinator), never a D1 query.
 */
import { sha256HexAsync, base64urlEncode } from "./encoding";

/** The name of the HttpOnly cookie the web client authenticates with. */
export const SESSION_COOKIE = "sid";

const TOKEN_SHAPE = /^(usr_[0-9a-hjkmnp-tv-z]{26})\.[A-Za-z0-9_-]{43}$/;

/** A new random token for `user_id`. */
export function newToken(user_id: string): string {
  const token = `${user_id}.${base64urlEncode(crypto.getRandomValues(new Uint8Array(32)))}`;
  if (!TOKEN_SHAPE.test(token)) throw new Error(`invariant: bad user id ${user_id}`);
  return token;
}

/** The user a token claims to belong to, or null when it is not a token we issue (checked before any call). */
export function tokenUser(token: string): string | null {
  return TOKEN_SHAPE.exec(token)?.[1] ?? null;
}

/** The stored form of a token. */
export function tokenHash(token: string): Promise<string> {
  return sha256HexAsync(token);
}
