/**
 * The user's API keys, kept in their coordinator's SQLite beside their sessions: the coordinator a key names is
 * the one that checks it, so authenticating a key is a read in an object its money movements visit anyway.
 * Only the key's SHA-256 is stored. Revoking deletes the row, so a revoked key and an unknown one look the same
 * (absent) from the next request on.
 *
 * `last_used_at` is kept cheaply: a use writes the time only when the stored one is at least
 * LAST_USED_RESOLUTION_MS old, so a busy key costs one small write a minute, not one per request. Keys that have
 * been read are cached in memory (this object is their only writer, so the cache cannot go stale).
 */
import { count, desc, eq, sql } from "drizzle-orm";
import type { DrizzleSqliteDODatabase } from "drizzle-orm/durable-sqlite";
import type { Scope } from "../auth/api-keys";
import { lazily } from "../db/prepared";
import { apiKeysTable } from "./schema";

/** How stale `last_used_at` may be: a key's use is written at most once per this interval. */
export const LAST_USED_RESOLUTION_MS = 60_000;

/** A key as its owner sees it (never the key itself, which is not stored). */
export interface ApiKeyView {
  id: string;
  name: string;
  scopes: Scope[];
  created_at: string;
  last_used_at: string | null;
}

/** What creating a key needs: the edge makes the key and passes only its hash. */
export interface NewApiKey {
  id: string;
  key_hash: string;
  name: string;
  scopes: Scope[];
  now_ms: number;
  max_keys: number;
}

export type CreateApiKeyResult = { code: "created"; api_key: ApiKeyView } | { code: "limit_exceeded" };

interface CachedKey {
  id: string;
  last_used_at_ms: number | null;
}

type ApiKeyRow = typeof apiKeysTable.$inferSelect;

/** The `api_keys` table of one coordinator. */
export class ApiKeyStore {
  private readonly q: ReturnType<typeof prepareStatements>;
  /** Keys read or made by this instance, by hash; a revoked key is removed in the same step as its row. */
  private readonly cache = new Map<string, CachedKey>();

  constructor(db: DrizzleSqliteDODatabase) {
    this.q = prepareStatements(db);
  }

  /** Records a new key unless the user already holds `max_keys`; call inside a transaction. */
  create(input: NewApiKey): CreateApiKeyResult {
    if ((this.q.count.get()?.n ?? 0) >= input.max_keys) return { code: "limit_exceeded" };
    const row: ApiKeyRow = {
      id: input.id,
      key_hash: input.key_hash,
      name: input.name,
      scopes: JSON.stringify(input.scopes),
      created_at: new Date(input.now_ms).toISOString(),
      created_at_ms: input.now_ms,
      last_used_at_ms: null,
    };
    this.q.insert.run(row);
    this.cache.set(row.key_hash, { id: row.id, last_used_at_ms: null });
    return { code: "created", api_key: viewOf(row) };
  }

  /** The user's keys, newest first; at most `API_KEYS_MAX_PER_USER` exist, so one read returns them all. */
  list(): ApiKeyView[] {
    return this.q.all.all().map(viewOf);
  }

  /** Deletes key `id`; returns its hash (to close its live sockets), or null when the user has no such key. */
  revoke(id: string): string | null {
    const row = this.q.byId.get({ id });
    if (row === undefined) return null;
    this.q.deleteOne.run({ id });
    this.cache.delete(row.key_hash);
    return row.key_hash;
  }

  /** Whether `key_hash` is a live key; records its use (at most once per LAST_USED_RESOLUTION_MS). */
  use(key_hash: string, now_ms: number): boolean {
    const key = this.read(key_hash);
    if (key === null) return false;
    if (key.last_used_at_ms === null || now_ms - key.last_used_at_ms >= LAST_USED_RESOLUTION_MS) {
      this.q.touch.run({ id: key.id, at: now_ms });
      key.last_used_at_ms = now_ms;
    }
    return true;
  }

  private read(key_hash: string): CachedKey | null {
    const cached = this.cache.get(key_hash);
    if (cached !== undefined) return cached;
    const row = this.q.byHash.get({ key_hash });
    if (row === undefined) return null;
    const key = { id: row.id, last_used_at_ms: row.last_used_at_ms };
    this.cache.set(key_hash, key);
    return key;
  }
}

function viewOf(row: ApiKeyRow): ApiKeyView {
  return {
    id: row.id,
    name: row.name,
    scopes: JSON.parse(row.scopes) as Scope[],
    created_at: row.created_at,
    last_used_at: row.last_used_at_ms === null ? null : new Date(row.last_used_at_ms).toISOString(),
  };
}

function prepareStatements(db: DrizzleSqliteDODatabase) {
  const p = sql.placeholder;
  const k = apiKeysTable;
  return lazily({
    count: () => db.select({ n: count() }).from(k).prepare(),
    insert: () =>
      db
        .insert(k)
        .values({
          id: p("id"),
          key_hash: p("key_hash"),
          name: p("name"),
          scopes: p("scopes"),
          created_at: p("created_at"),
          created_at_ms: p("created_at_ms"),
          last_used_at_ms: p("last_used_at_ms"),
        })
        .prepare(),
    all: () => db.select().from(k).orderBy(desc(k.created_at_ms), desc(k.id)).prepare(),
    byId: () =>
      db
        .select()
        .from(k)
        .where(eq(k.id, p("id")))
        .prepare(),
    byHash: () =>
      db
        .select()
        .from(k)
        .where(eq(k.key_hash, p("key_hash")))
        .prepare(),
    deleteOne: () =>
      db
        .delete(k)
        .where(eq(k.id, p("id")))
        .prepare(),
    touch: () =>
      db
        .update(k)
        .set({ last_used_at_ms: sql`${p("at")}` })
        .where(eq(k.id, p("id")))
        .prepare(),
  });
}
