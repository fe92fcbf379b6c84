/**
 * `GET /audit`'s pages across the audit store's partitions: newest first in one total order, (created_at,
 * transfer_id) descending, which does not depend on how movements are spread over partitions or when their rows
 * arrived. Each partition reads its home rows (never the copies) after the cursor on the partial index
 * `audit_log_home_created`, at most a page and one more, and the pages are merged (a k-way merge of sorted
 * lists): at most partitions × (limit + 1) rows are read, whatever the log's size.
 *
 * The cursor is opaque: base64url of `[created_at, transfer_id]` of the last row shown. A row that reaches D1
 * after a reader has paged past its place (the outbox delivers a few seconds after a movement starts) is not
 * shown to that reader, as a row newer than the first page was not shown before; no row is ever shown twice.
 */
import { partitionDbs } from "../db/partitions";

/** One audit row as `GET /audit` shows it. */
export interface AuditItem {
  id: string;
  transfer_id: string;
  kind: "transfer" | "deposit" | "withdrawal";
  status: "succeeded" | "failed";
  from_wallet_id: string | null;
  to_wallet_id: string | null;
  amount: number;
  currency: string | null;
  failure_code: string | null;
  created_at: string;
  refund_of: string | null;
  payment_request_id: string | null;
}

/** The filters of `GET /audit`, as validated by the route. */
export interface AuditFilters {
  wallet_id?: string | undefined;
  kind?: string | undefined;
  status?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
}

/** A position in the order: the last row shown. */
export interface AuditCursor {
  created_at: string;
  transfer_id: string;
}

/** The opaque cursor after `row`. */
export function encodeAuditCursor(row: AuditCursor): string {
  const bytes = new TextEncoder().encode(JSON.stringify([row.created_at, row.transfer_id]));
  return btoa(String.fromCharCode(...bytes))
    .replaceAll("+", "-")
    .replaceAll("/", "_")
    .replace(/=+$/, "");
}

/** The position a cursor names, or null when it is not one this service made. */
export function decodeAuditCursor(text: string): AuditCursor | null {
  if (!/^[A-Za-z0-9_-]{1,400}$/.test(text)) return null;
  try {
    const binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
    const parsed: unknown = JSON.parse(
      new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(Uint8Array.from(binary, (ch) => ch.charCodeAt(0))),
    );
    if (!Array.isArray(parsed) || parsed.length !== 2) return null;
    const [created_at, transfer_id] = parsed as unknown[];
    if (typeof created_at !== "string" || typeof transfer_id !== "string") return null;
    return { created_at, transfer_id };
  } catch {
    return null;
  }
}

const COLUMNS =
  "id, transfer_id, kind, status, from_wallet_id, to_wallet_id, amount, currency, failure_code, created_at, refund_of, payment_request_id";

/** The WHERE clause and its values for one partition's read. */
function where(filters: AuditFilters, cursor: AuditCursor | null): { sql: string; binds: (string | number)[] } {
  const parts = ["home = 1"];
  const binds: (string | number)[] = [];
  const add = (clause: string, ...values: string[]) => {
    parts.push(clause);
    binds.push(...values);
  };
  if (cursor !== null) add("(created_at, transfer_id) < (?, ?)", cursor.created_at, cursor.transfer_id);
  if (filters.wallet_id !== undefined) add("(from_wallet_id = ? OR to_wallet_id = ?)", filters.wallet_id, filters.wallet_id);
  if (filters.kind !== undefined) add("kind = ?", filters.kind);
  if (filters.status !== undefined) add("status = ?", filters.status);
  if (filters.from !== undefined) add("created_at >= ?", filters.from);
  if (filters.to !== undefined) add("created_at < ?", filters.to);
  return { sql: parts.join(" AND "), binds };
}

/** Newer first in the one order: created_at, then transfer_id, both descending. */
function newerFirst(a: AuditItem, b: AuditItem): number {
  if (a.created_at !== b.created_at) return a.created_at < b.created_at ? 1 : -1;
  return a.transfer_id < b.transfer_id ? 1 : a.transfer_id > b.transfer_id ? -1 : 0;
}

/** One page of the audit log across every partition, and the cursor after it (null on the last page). */
export async function auditPage(
  env: Env,
  filters: AuditFilters,
  cursor: AuditCursor | null,
  limit: number,
): Promise<{ items: AuditItem[]; next_cursor: string | null }> {
  const clause = where(filters, cursor);
  const pages = await Promise.all(
    partitionDbs(env).map((db) =>
      db
        .prepare(`SELECT ${COLUMNS} FROM audit_log WHERE ${clause.sql} ORDER BY created_at DESC, transfer_id DESC LIMIT ?`)
        .bind(...clause.binds, limit + 1)
        .all<AuditItem>()
        .then((r) => r.results),
    ),
  );
  const merged = pages.flat().sort(newerFirst);
  const items = merged.slice(0, limit);
  const last = items.at(-1);
  return { items, next_cursor: merged.length > limit && last !== undefined ? encodeAuditCursor(last) : null };
}
