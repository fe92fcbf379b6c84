/**
 * Opaque session tokens. A token is 32 random bytes (base64url) handed to the client once; D1 keeps only its
 * SHA-256, with an expiry and a revocation time, so a leaked database reveals no usable token and logout takes
 * effect on the next request everywhere.
 */
import { and, asc, eq, gt, isNull } from "drizzle-orm";
import type { DrizzleD1Database } from "drizzle-orm/d1";
import { sessions, users, wallets } from "../db/schema";
import type { Caller } from "../api/context";
import { base64urlEncode, sha256HexAsync } from "./encoding";

/** The name of the HttpOnly cookie the web client authenticates with. */
export const SESSION_COOKIE = "sid";

/** A new random token. */
export function newToken(): string {
  return base64urlEncode(crypto.getRandomValues(new Uint8Array(32)));
}

/** The stored form of a token. */
export function tokenHash(token: string): Promise<string> {
  return sha256HexAsync(token);
}

/** Tokens we issue are 43 base64url characters; anything else is rejected before touching D1. */
export function isTokenShaped(token: string): boolean {
  return /^[A-Za-z0-9_-]{43}$/.test(token);
}

/** The session row to insert for `token`. */
export async function sessionRow(token: string, user_id: string, now_ms: number, ttl_ms: number): Promise<typeof sessions.$inferInsert> {
  return { token_hash: await tokenHash(token), user_id, created_at_ms: now_ms, expires_at_ms: now_ms + ttl_ms, revoked_at_ms: null };
}

/** The caller behind a live (unexpired, unrevoked) token, with their wallets; null otherwise. */
export async function authenticate(db: DrizzleD1Database, token: string, now_ms: number): Promise<Caller | null> {
  if (!isTokenShaped(token)) return null;
  const hash = await tokenHash(token);
  const rows = await db
    .select({ user_id: users.id, handle: users.handle, role: users.role, wallet_id: wallets.id })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.user_id))
    .leftJoin(wallets, eq(wallets.owner_id, users.id))
    .where(and(eq(sessions.token_hash, hash), isNull(sessions.revoked_at_ms), gt(sessions.expires_at_ms, now_ms)))
    .orderBy(asc(wallets.created_at), asc(wallets.id))
    .all();
  const first = rows[0];
  if (first === undefined) return null;
  const wallet_ids = rows.map((r) => r.wallet_id).filter((id): id is string => id !== null);
  return { user_id: first.user_id, handle: first.handle, role: first.role, wallet_ids, token_hash: hash };
}

/** Revokes one session. */
export async function revoke(db: DrizzleD1Database, token_hash: string, now_ms: number): Promise<void> {
  await db.update(sessions).set({ revoked_at_ms: now_ms }).where(and(eq(sessions.token_hash, token_hash), isNull(sessions.revoked_at_ms)));
}

/** Revokes every live session of a user ("log out everywhere"). */
export async function revokeAll(db: DrizzleD1Database, user_id: string, now_ms: number): Promise<void> {
  await db.update(sessions).set({ revoked_at_ms: now_ms }).where(and(eq(sessions.user_id, user_id), isNull(sessions.revoked_at_ms)));
}
