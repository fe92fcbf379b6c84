/**
 * Helpers for Drizzle prepared statements in Durable Object SQLite. Building a Drizzle query costs far more
 * CPU than running it (the profile of a transfer showed query building as the largest single cost), so the
 * objects build each statement once, with placeholders, and run it with values.
 */
import { getTableColumns, sql, type Placeholder, type SQL } from "drizzle-orm";
import type { SQLiteTable } from "drizzle-orm/sqlite-core";

/** A placeholder for every column of `table`, named after the column's key. */
export function placeholdersFor<T extends SQLiteTable>(table: T): { [K in keyof T["$inferInsert"]]: Placeholder<K & string> } {
  const out: Record<string, Placeholder> = {};
  for (const key of Object.keys(getTableColumns(table))) out[key] = sql.placeholder(key);
  return out as { [K in keyof T["$inferInsert"]]: Placeholder<K & string> };
}

/** The same, as SQL expressions, which is what an UPDATE's `set` (and an upsert's) accepts. */
export function setPlaceholdersFor<T extends SQLiteTable>(table: T): { [K in keyof T["$inferInsert"]]: SQL } {
  const out: Record<string, SQL> = {};
  for (const key of Object.keys(getTableColumns(table))) out[key] = sql`${sql.placeholder(key)}`;
  return out as { [K in keyof T["$inferInsert"]]: SQL };
}

/**
 * A set of statements, each built by its builder the first time it is read and kept from then on. An object
 * that wakes after eviction used to build all of its statements in its constructor, roughly 1-2 ms per object;
 * when a burst of requests woke 200 objects at once, the first 32 transfers all waited about 330 ms behind
 * that work. Built lazily, an object pays only for the statements its first request uses, and for the rest
 * as they come.
 */
export function lazily<T extends Record<string, () => unknown>>(builders: T): { readonly [K in keyof T]: ReturnType<T[K]> } {
  const statements: Partial<{ [K in keyof T]: ReturnType<T[K]> }> = {};
  for (const [key, build] of Object.entries(builders)) {
    Object.defineProperty(statements, key, {
      configurable: true,
      enumerable: true,
      get() {
        const built = build();
        Object.defineProperty(statements, key, { value: built, enumerable: true });
        return built;
      },
    });
  }
  return statements as { readonly [K in keyof T]: ReturnType<T[K]> };
}
