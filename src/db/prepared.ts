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
