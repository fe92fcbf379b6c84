/**
 * The user's profile and sessions, kept in their coordinator's SQLite. Only token hashes are stored. Logging
 * out deletes the session's row, so a revoked token and an unknown one look the same: absent. The table stays
 * small on its own: opening a session deletes the expired ones and, past `max_sessions`, the oldest.
 *
 * Checks are answered from memory once a session has been read: this object is the only writer of its
 * sessions and profile, so every change goes through here and updates the cache in the same step; a new
 * instance (after eviction) starts empty and reads storage again.
 */
import { count, eq, lte, sql } from "drizzle-orm";
import type { DrizzleSqliteDODatabase } from "drizzle-orm/durable-sqlite";
import { lazily } from "../db/prepared";
import type { AuthResult, Profile } from "./rpc";
import { profileTable, sessionsTable } from "./schema";

/** What opening a session needs besides the profile. */
export interface OpenSessionInput {
  profile: Profile;
  token_hash: string;
  now_ms: number;
  ttl_ms: number;
  max_sessions: number;
}

/** The profile and session rows of one coordinator. */
export class SessionStore {
  private readonly q: ReturnType<typeof prepareStatements>;
  /** Expiry by token hash, for sessions read or opened by this instance (at most `max_sessions` live). */
  private readonly expiries = new Map<string, number>();
  private cachedProfile: Profile | null = null;

  constructor(db: DrizzleSqliteDODatabase) {
    this.q = prepareStatements(db);
  }

  /**
   * Records the profile as given and a new session; call inside a transaction. Returns the token hashes of
   * the live sessions it ended to stay within `max_sessions` (their live feed sockets must close too).
   */
  open(input: OpenSessionInput): string[] {
    const { profile, token_hash, now_ms, ttl_ms, max_sessions } = input;
    if (!Number.isSafeInteger(ttl_ms) || ttl_ms < 1) throw new Error(`invariant: session ttl ${ttl_ms}`);
    this.q.upsertProfile.run({
      user_id: profile.user_id,
      handle: profile.handle,
      role: profile.role,
      wallet_ids: JSON.stringify(profile.wallet_ids),
    });
    this.q.deleteExpired.run({ now: now_ms });
    this.q.insertSession.run({ token_hash, created_at_ms: now_ms, expires_at_ms: now_ms + ttl_ms });
    const sessions = this.q.count.get()?.n ?? 0;
    const evicted = sessions > max_sessions ? this.q.oldest.all({ excess: sessions - max_sessions }).map((r) => r.token_hash) : [];
    for (const hash of evicted) this.q.deleteOne.run({ token_hash: hash });
    // Expired and evicted sessions left storage above; the cache forgets everything and refills on demand.
    this.expiries.clear();
    this.expiries.set(token_hash, now_ms + ttl_ms);
    this.cachedProfile = null;
    return evicted;
  }

  /** The caller behind a live session, or unauthenticated. */
  authenticate(token_hash: string, now_ms: number): AuthResult {
    const expires_at_ms = this.expiryOf(token_hash);
    if (expires_at_ms === null || expires_at_ms <= now_ms) return { code: "unauthenticated" };
    const profile = this.profile();
    if (profile === null) return { code: "unauthenticated" };
    return { code: "ok", caller: { ...profile, token_hash, expires_at_ms } };
  }

  /** The profile, or null before the first session. */
  profile(): Profile | null {
    if (this.cachedProfile !== null) return this.cachedProfile;
    const row = this.q.profile.get();
    if (row === undefined) return null;
    const wallet_ids: unknown = JSON.parse(row.wallet_ids);
    if (!Array.isArray(wallet_ids) || !wallet_ids.every((id) => typeof id === "string")) throw new Error("invariant: stored wallet ids");
    this.cachedProfile = { user_id: row.user_id, handle: row.handle, role: row.role, wallet_ids };
    return this.cachedProfile;
  }

  revoke(token_hash: string): void {
    this.q.deleteOne.run({ token_hash });
    this.expiries.delete(token_hash);
  }

  /** Ends every session; returns the token hashes of those that were still stored. */
  revokeAll(): string[] {
    const ended = this.q.allSessions.all().map((r) => r.token_hash);
    this.q.deleteAll.run();
    this.expiries.clear();
    return ended;
  }

  /** Changes the role; false when this coordinator has no profile yet (the user never logged in). */
  setRole(role: Profile["role"]): boolean {
    if (this.q.profile.get() === undefined) return false;
    this.q.setRole.run({ role });
    this.cachedProfile = null;
    return true;
  }

  /**
   * Replaces the user's wallet ids (a wallet was added: the directory in D1 lists them, oldest first); false
   * when this coordinator has no profile yet.
   */
  setWallets(wallet_ids: string[]): boolean {
    if (this.q.profile.get() === undefined) return false;
    this.q.setWallets.run({ wallet_ids: JSON.stringify(wallet_ids) });
    this.cachedProfile = null;
    return true;
  }

  /** A session's expiry, from memory or storage; null when there is no such session. */
  private expiryOf(token_hash: string): number | null {
    const cached = this.expiries.get(token_hash);
    if (cached !== undefined) return cached;
    const row = this.q.session.get({ token_hash });
    if (row === undefined) return null;
    this.expiries.set(token_hash, row.expires_at_ms);
    return row.expires_at_ms;
  }
}

function prepareStatements(db: DrizzleSqliteDODatabase) {
  const p = sql.placeholder;
  const s = sessionsTable;
  return lazily({
    profile: () => db.select().from(profileTable).limit(1).prepare(),
    upsertProfile: () =>
      db
        .insert(profileTable)
        .values({ user_id: p("user_id"), handle: p("handle"), role: p("role"), wallet_ids: p("wallet_ids") })
        .onConflictDoUpdate({
          target: profileTable.user_id,
          set: { handle: sql`excluded.handle`, role: sql`excluded.role`, wallet_ids: sql`excluded.wallet_ids` },
        })
        .prepare(),
    setRole: () =>
      db
        .update(profileTable)
        .set({ role: sql`${p("role")}` })
        .prepare(),
    setWallets: () =>
      db
        .update(profileTable)
        .set({ wallet_ids: sql`${p("wallet_ids")}` })
        .prepare(),
    session: () =>
      db
        .select()
        .from(s)
        .where(eq(s.token_hash, p("token_hash")))
        .prepare(),
    insertSession: () =>
      db
        .insert(s)
        .values({ token_hash: p("token_hash"), created_at_ms: p("created_at_ms"), expires_at_ms: p("expires_at_ms") })
        .prepare(),
    count: () => db.select({ n: count() }).from(s).prepare(),
    oldest: () => db.select({ token_hash: s.token_hash }).from(s).orderBy(s.created_at_ms).limit(p("excess")).prepare(),
    allSessions: () => db.select({ token_hash: s.token_hash }).from(s).prepare(),
    deleteExpired: () =>
      db
        .delete(s)
        .where(lte(s.expires_at_ms, p("now")))
        .prepare(),
    deleteOne: () =>
      db
        .delete(s)
        .where(eq(s.token_hash, p("token_hash")))
        .prepare(),
    deleteAll: () => db.delete(s).prepare(),
  });
}
