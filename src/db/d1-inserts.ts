/**
 * Idempotent D1 inserts for the outbox, as SQL text built once from the Drizzle schema. Building a Drizzle
 * insert for every row cost more CPU than the rest of a delivery (docs/performance.md), so the statement is
 * rendered once per isolate and each row only binds its values, in the column order fixed here.
 */
import { getTableColumns, getTableName } from "drizzle-orm";
import type { SQLiteTable } from "drizzle-orm/sqlite-core";

/** An `INSERT ... ON CONFLICT (...) DO NOTHING` for some columns of a table, and a binder for its rows. */
export interface InsertIgnoring<Row> {
  readonly sql: string;
  bind(db: D1Database, row: Row): D1PreparedStatement;
}

type Value = string | number | null;

/**
 * Renders the insert for `columns` of `table`; a row that conflicts on `conflict` is left as it is, so
 * delivering the same row twice leaves one copy.
 */
export function insertIgnoring<T extends SQLiteTable, K extends keyof T["$inferInsert"] & string>(
  table: T,
  columns: readonly K[],
  conflict: readonly K[],
): InsertIgnoring<{ [P in K]: T["$inferInsert"][P] }> {
  const all = getTableColumns(table);
  const name = (key: K): string => {
    const column = all[key];
    if (column === undefined) throw new Error(`invariant: ${getTableName(table)} has no column ${key}`);
    return `"${column.name}"`;
  };
  const sql =
    `INSERT INTO "${getTableName(table)}" (${columns.map(name).join(", ")}) VALUES (${columns.map(() => "?").join(", ")}) ` +
    `ON CONFLICT (${conflict.map(name).join(", ")}) DO NOTHING`;
  return {
    sql,
    bind: (db, row) => db.prepare(sql).bind(...columns.map((key) => valueOf(row[key], key))),
  };
}

function valueOf(value: unknown, key: string): Value {
  if (value === undefined || value === null) return null;
  if (typeof value === "string") return value;
  if (typeof value === "number" && Number.isSafeInteger(value)) return value;
  throw new Error(`invariant: ${key} is not a string or a safe integer`);
}
