/**
 * A page of the user's sent transfers for `GET /transfers`, newest first, in O(page) whatever the filters and
 * however many transfers the user has sent. Every filter the route offers is an equality (the state, the
 * sending wallet, the recipient's wallet) or the time range and cursor. Each combination of equalities has an
 * index whose leading columns are those equalities and whose tail is (created_at_ms, id), the page's order
 * (schema.ts, the fourth migration step); a page walks it once per combination of values (a filter by several
 * states or several wallets reads each and merges them) and stops after `limit` rows, so a selective filter
 * (the rare failures, one wallet of several, one counterparty) reads only the rows it returns.
 *
 * The queries are plain SQL on `ctx.storage.sql` (not Drizzle) because they name their index with
 * `INDEXED BY`, as the wallet's history queries do: SQLite then cannot pick a plan that scans the table, and
 * a query whose index is missing fails loudly instead of slowly. workerd keeps each distinct statement
 * prepared, and there are at most five of them here.
 */
import type { MovementRow } from "./schema";

type MovementState = MovementRow["state"];

/** Every state a movement can be in, for a listing that does not filter by state. */
export const MOVEMENT_STATES: readonly MovementState[] = ["started", "succeeded", "failed"];

/** What a page of sent transfers may be narrowed by; null does not filter, an empty list matches nothing. */
export interface SentFilter {
  states: readonly MovementState[] | null;
  from_wallet_ids: readonly string[] | null;
  to_wallet_ids: readonly string[] | null;
  /** Transfers made at or after this instant. */
  from_ms: number | null;
  /** Transfers strictly before this position (time, then id), as the cursor and `to` give it. */
  before: { at_ms: number; id: string } | null;
  limit: number;
}

/** Which equalities a walk has, and so which index it walks. */
export interface SentShape {
  state: boolean;
  from: boolean;
  to: boolean;
}

/**
 * Rows whose recipient the sender may see (movements.ts, visibleRecipientWallet). The indexes on the recipient
 * hold only these, and a query must repeat the condition word for word for SQLite to use them.
 */
const VISIBLE_RECIPIENT = "(state = 'succeeded' OR json_extract(recipient, '$.wallet_id') = to_wallet_id)";

/** The index a walk uses: the one whose leading columns are its equalities, then (created_at_ms, id). */
export function sentIndexFor(shape: SentShape): string {
  if (shape.from && shape.to) return "movements_sent_from_to";
  if (shape.from) return "movements_sent_from";
  if (shape.to) return "movements_sent_to";
  if (shape.state) return "movements_sent_state";
  return "movements_sent_time";
}

/**
 * The SQL of one walk: its parameters are the equalities' values in the index's order (from, to, state), then
 * from_ms, the position to stay before (ms, id) and the limit. The recipient indexes end in `state`, so a walk
 * on them always has a state; `shape.state` says whether the caller filters by one.
 */
export function sentQueryText(shape: SentShape): string {
  const walksState = shape.state || shape.from || shape.to;
  const where = [
    "kind = 'transfer'",
    shape.to ? VISIBLE_RECIPIENT : "",
    shape.from ? "from_wallet_id = ?" : "",
    shape.to ? "to_wallet_id = ?" : "",
    walksState ? "state = ?" : "",
    "created_at_ms >= ?",
    "(created_at_ms, id) < (?, ?)",
  ].filter((term) => term !== "");
  return `SELECT * FROM movements INDEXED BY ${sentIndexFor(shape)} WHERE ${where.join(" AND ")} ORDER BY created_at_ms DESC, id DESC LIMIT ?`;
}

/**
 * One page of sent transfers matching `f`, newest first (time, then id), and the rows SQLite read for it. A
 * filter by a state, a wallet or a counterparty walks its index once per value (and, on the wallet and
 * recipient indexes, once per state when no state is asked for), so the cost is O(limit × the values asked for)
 * and never depends on how many other transfers there are.
 */
export function sentPage(sql: SqlStorage, f: SentFilter): { rows: MovementRow[]; rows_read: number } {
  const shape = { state: f.states !== null, from: f.from_wallet_ids !== null, to: f.to_wallet_ids !== null };
  const walksState = shape.state || shape.from || shape.to;
  const text = sentQueryText(shape);
  const range = [f.from_ms ?? 0, f.before?.at_ms ?? Number.MAX_SAFE_INTEGER, f.before?.id ?? "\uffff", f.limit];
  let rows_read = 0;
  const rows: MovementRow[] = [];
  for (const from of distinct(f.from_wallet_ids)) {
    for (const to of distinct(f.to_wallet_ids)) {
      for (const state of walksState ? distinct(f.states ?? MOVEMENT_STATES) : [null]) {
        const equalities = [from, to, state].filter((value) => value !== null);
        const cursor = sql.exec<Record<string, SqlStorageValue>>(text, ...equalities, ...range);
        rows.push(...(cursor.toArray() as unknown as MovementRow[]));
        rows_read += cursor.rowsRead;
      }
    }
  }
  rows.sort(newestFirst);
  return { rows: rows.slice(0, f.limit), rows_read };
}

/**
 * Whether movement `m` belongs on a page of `f`, by the same conditions as the page's SQL. The coordinator keeps
 * recent successes in memory until the outbox writes them (their rows still say `started`, with no recipient
 * yet), and adds the ones that match to a page with this.
 */
export function matchesSent(m: MovementRow, f: SentFilter): boolean {
  const before = f.before ?? { at_ms: Number.MAX_SAFE_INTEGER, id: "\uffff" };
  return (
    m.kind === "transfer" &&
    (f.states === null || f.states.includes(m.state)) &&
    (f.from_wallet_ids === null || (m.from_wallet_id !== null && f.from_wallet_ids.includes(m.from_wallet_id))) &&
    (f.to_wallet_ids === null || (m.to_wallet_id !== null && f.to_wallet_ids.includes(m.to_wallet_id) && recipientVisible(m))) &&
    m.created_at_ms >= (f.from_ms ?? 0) &&
    (m.created_at_ms < before.at_ms || (m.created_at_ms === before.at_ms && m.id < before.id))
  );
}

/** VISIBLE_RECIPIENT, for a row in memory. */
function recipientVisible(m: MovementRow): boolean {
  if (m.state === "succeeded") return true;
  const named = m.recipient === null ? undefined : (JSON.parse(m.recipient) as { wallet_id?: unknown }).wallet_id;
  return named === m.to_wallet_id;
}

/** Newest first: by time, then by id, as the pages' ORDER BY. */
export function newestFirst(a: MovementRow, b: MovementRow): number {
  return b.created_at_ms - a.created_at_ms || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

/** The values to walk for one equality: each once, or a single null for a filter not given. */
function distinct<T>(values: readonly T[] | null): (T | null)[] {
  return values === null ? [null] : [...new Set(values)];
}
