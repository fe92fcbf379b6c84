/**
 * The wallet's read queries for finding things: filtered history pages, the balance at an instant, and the
 * bounds of a statement's period. Every query walks one index of `entries` (schema.ts, the third migration
 * step) in `seq` order and stops after what it returns, so each costs O(page) however long the history is.
 *
 * Time ranges become `seq` ranges. A wallet has one writer that stamps each entry with the clock as it
 * appends it, so `created_at` does not decrease along `seq`; the first entry at or after `from` and the last
 * before `to` (found on the `created_at` index) bound the entries of the range, and a page then walks `seq`
 * inside those bounds. The `created_at` condition is kept in the page query as well, so a page never shows an
 * entry outside the range even if the clock had once stepped back; a statement uses the bounds alone, so its
 * entries are always a contiguous piece of the chain (see docs/architecture.md, "Finding things").
 *
 * The queries are plain SQL on `ctx.storage.sql` (not Drizzle) because they name their index with
 * `INDEXED BY`: SQLite then cannot pick a plan that scans the table, and a query whose index is missing fails
 * loudly instead of slowly.
 */
import type { EntryKind, EntryView } from "../domain/views";
import { entryView } from "./ledger";
import type { EntryRow } from "./schema";

/** What a filtered page may be narrowed by; an absent field does not filter. */
export interface HistoryFilter {
  kind?: EntryKind;
  /** ISO 8601 instant as `toISOString()` writes it: entries at or after it. */
  from?: string;
  /** ISO 8601 instant as `toISOString()` writes it: entries strictly before it. */
  to?: string;
  /** The counterparty's wallet ids (one user's wallets); an empty list matches nothing. */
  counterparty_ids?: string[];
}

/** An inclusive `seq` range; empty when `hi < lo`. */
export interface SeqRange {
  lo: number;
  hi: number;
}

type Row = Record<string, SqlStorageValue>;

/** The entries whose `created_at` lies in [from, to), as a `seq` range of the chain 1..last_seq. */
export function seqRangeOf(sql: SqlStorage, last_seq: number, from: string | undefined, to: string | undefined): SeqRange {
  const first =
    from === undefined
      ? 1
      : (one(sql, "SELECT seq FROM entries INDEXED BY entries_created_at WHERE created_at >= ? ORDER BY created_at, seq LIMIT 1", from)
          ?.seq ?? last_seq + 1);
  const last =
    to === undefined
      ? last_seq
      : (one(
          sql,
          "SELECT seq FROM entries INDEXED BY entries_created_at WHERE created_at < ? ORDER BY created_at DESC, seq DESC LIMIT 1",
          to,
        )?.seq ?? 0);
  return { lo: Number(first), hi: Number(last) };
}

/**
 * One page of entries matching `filter` with `seq` below `before_seq`, newest first, and the `seq` to continue
 * below (null on the last page). Several counterparty wallets are read one query each and merged, so the cost
 * is O(page × wallets of that user).
 */
export function filteredPage(
  sql: SqlStorage,
  last_seq: number,
  filter: HistoryFilter,
  before_seq: number,
  limit: number,
): { items: EntryView[]; next_before_seq: number | null } {
  const range = seqRangeOf(sql, last_seq, filter.from, filter.to);
  const hi = Math.min(range.hi, before_seq - 1);
  if (hi < range.lo) return { items: [], next_before_seq: null };
  const counterparties = filter.counterparty_ids === undefined ? [undefined] : filter.counterparty_ids;
  const rows = counterparties
    .flatMap((counterparty) => pageQuery(sql, { ...filter, counterparty }, range.lo, hi, limit + 1))
    .sort((a, b) => b.seq - a.seq)
    .slice(0, limit + 1);
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { items: page.map(entryView), next_before_seq: rows.length > limit && last !== undefined ? last.seq : null };
}

/** The rows of one index walk: `seq` from `hi` down to `lo`, at most `limit`. */
function pageQuery(
  sql: SqlStorage,
  filter: Omit<HistoryFilter, "counterparty_ids"> & { counterparty?: string | undefined },
  lo: number,
  hi: number,
  limit: number,
): EntryRow[] {
  const where: string[] = [];
  const params: SqlStorageValue[] = [];
  if (filter.counterparty !== undefined) {
    where.push("counterparty = ?");
    params.push(filter.counterparty);
  }
  if (filter.kind !== undefined) {
    where.push("kind = ?");
    params.push(filter.kind);
  }
  where.push("seq BETWEEN ? AND ?");
  params.push(lo, hi);
  if (filter.from !== undefined) {
    where.push("created_at >= ?");
    params.push(filter.from);
  }
  if (filter.to !== undefined) {
    where.push("created_at < ?");
    params.push(filter.to);
  }
  const index = indexFor(filter.counterparty !== undefined, filter.kind !== undefined);
  const text = `SELECT * FROM entries ${index} WHERE ${where.join(" AND ")} ORDER BY seq DESC LIMIT ?`;
  return sql.exec<Row>(text, ...params, limit).toArray() as unknown as EntryRow[];
}

/** The index a page walks: the one whose leading columns are the equality filters, then `seq`. */
export function indexFor(counterparty: boolean, kind: boolean): string {
  if (counterparty && kind) return "INDEXED BY entries_counterparty_kind_seq";
  if (counterparty) return "INDEXED BY entries_counterparty_seq";
  if (kind) return "INDEXED BY entries_kind_seq";
  // The primary key: `seq` is the rowid, so the range is walked directly.
  return "";
}

/** The last entry at or before `at` (by time, then `seq`), or null before the first. */
export function entryAtOrBefore(sql: SqlStorage, at: string): { seq: number; balance_after: number } | null {
  const row = one(
    sql,
    "SELECT seq, balance_after FROM entries INDEXED BY entries_created_at WHERE created_at <= ? ORDER BY created_at DESC, seq DESC LIMIT 1",
    at,
  );
  return row === undefined ? null : { seq: Number(row.seq), balance_after: Number(row.balance_after) };
}

/** One entry by `seq`: its balance and hash, or undefined past either end of the chain. */
export function entryLink(sql: SqlStorage, seq: number): { balance_after: number; hash: string } | undefined {
  const row = one(sql, "SELECT balance_after, hash FROM entries WHERE seq = ?", seq);
  if (row === undefined) return undefined;
  if (typeof row.hash !== "string") throw new Error(`invariant: entry ${seq} has no hash`);
  return { balance_after: Number(row.balance_after), hash: row.hash };
}

function one(sql: SqlStorage, text: string, ...params: SqlStorageValue[]): Row | undefined {
  return sql.exec<Row>(text, ...params).toArray()[0];
}
