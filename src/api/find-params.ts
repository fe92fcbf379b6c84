/**
 * Query parameters of the "finding things" routes (history filters, balances in the past, statements): ISO
 * 8601 instants and UTC days read strictly, the history cursor that remembers its filters, and the
 * counterparty handle resolved to wallet ids in the D1 directory.
 */
import { eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { base64urlDecode, base64urlEncode } from "../auth/encoding";
import { wallets, users } from "../db/schema";
import { canonicalJson } from "../domain/canonical";
import { sha256Hex } from "../domain/hash-chain";
import type { EntryKind } from "../domain/views";
import { ApiError } from "./errors";

/**
 * An ISO 8601 instant with a date, a time and an offset (`2026-11-30T10:00:00Z`, `...T10:00+01:00`, up to
 * nine decimals of a second). A date alone, or a time without an offset, names no single instant and is refused.
 */
const INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Reads an instant and writes it as `toISOString()` does (milliseconds, `Z`), the form entries are stamped
 * with, so that text comparison in SQL is time comparison. By default digits past the millisecond round up: an
 * entry stamped at millisecond m is at or after the instant exactly when it is at or after the instant rounded
 * up, and before it exactly when before the rounded-up instant, so both ends of a range keep their meaning.
 * An inclusive upper bound ("at or before", the balance's `at`) needs `"down"` instead: m is at or before the
 * instant exactly when it is at or before the instant rounded down.
 */
export function parseInstant(field: string, raw: string, rounding: "up" | "down" = "up"): string {
  const match = INSTANT.exec(raw);
  const bad = new ApiError("validation_error", [{ field, issue: "an ISO 8601 instant with a time zone, like 2026-11-30T10:00:00Z" }]);
  if (match === null) throw bad;
  const [, y, mo, d, h, mi, s = "00", frac = "", zone] = match;
  const base = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}.${frac.slice(0, 3).padEnd(3, "0")}${zone}`);
  // Date.parse accepts 2026-02-30; a round trip through the UTC fields of a Z instant catches it.
  if (!Number.isFinite(base) || !sameCalendarDay(`${y}-${mo}-${d}`) || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) throw bad;
  const extra = rounding === "up" && /[1-9]/.test(frac.slice(3)) ? 1 : 0;
  const ms = base + extra;
  if (ms < 0 || ms > 253_402_300_799_999) throw bad;
  return new Date(ms).toISOString();
}

/** `YYYY-MM-DD` as a real calendar day (UTC), as milliseconds since the epoch at its start. */
export function parseDay(field: string, raw: string): number {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(raw) || !sameCalendarDay(raw)) {
    throw new ApiError("validation_error", [{ field, issue: "a calendar day, YYYY-MM-DD (UTC)" }]);
  }
  return Date.parse(`${raw}T00:00:00Z`);
}

function sameCalendarDay(day: string): boolean {
  const ms = Date.parse(`${day}T00:00:00Z`);
  return Number.isFinite(ms) && new Date(ms).toISOString().slice(0, 10) === day;
}

/** The filters a history page was asked with, as they are fingerprinted into its cursor. */
export interface HistoryFilterSpec {
  kind?: EntryKind;
  from?: string;
  to?: string;
  counterparty?: string;
}

function fingerprint(filters: HistoryFilterSpec): string {
  return sha256Hex(canonicalJson(filters)).slice(0, 16);
}

function hasFilters(filters: HistoryFilterSpec): boolean {
  return Object.values(filters).some((v) => v !== undefined);
}

/**
 * History cursors are opaque: base64url of `h1:<seq>` for an unfiltered page (the v1 form, unchanged) and of
 * `h2:<seq>:<fingerprint of the filters>` for a filtered one, so a cursor can only continue the listing it
 * came from: used with other filters it is a 400, not a page of some other listing.
 */
export function encodeHistoryCursor(before_seq: number, filters: HistoryFilterSpec): string {
  const text = hasFilters(filters) ? `h2:${before_seq}:${fingerprint(filters)}` : `h1:${before_seq}`;
  return base64urlEncode(new TextEncoder().encode(text));
}

/** The `seq` a cursor continues below; 400 for a cursor this API did not return for these filters. */
export function decodeHistoryCursor(cursor: string, filters: HistoryFilterSpec): number {
  let text: string;
  try {
    text = new TextDecoder().decode(base64urlDecode(cursor));
  } catch {
    text = "";
  }
  const match = /^h1:(\d{1,16})$|^h2:(\d{1,16}):([0-9a-f]{16})$/.exec(text);
  const seq = Number(match?.[1] ?? match?.[2]);
  if (match === null || !Number.isSafeInteger(seq) || seq < 1) {
    throw new ApiError("validation_error", [{ field: "cursor", issue: "not a cursor this API returned" }]);
  }
  const expected = hasFilters(filters) ? fingerprint(filters) : undefined;
  if (match[3] !== expected) {
    throw new ApiError("validation_error", [{ field: "cursor", issue: "this cursor belongs to a listing with other filters" }]);
  }
  return seq;
}

/**
 * The wallet ids of the user with this handle (a user may hold one wallet per currency); none for a handle
 * nobody has. The caller then gets an empty page, not a 404: who is registered is already answered by the
 * transfer form (a 404 for an unknown recipient), and a filter should not become a second, quieter probe.
 */
export async function walletIdsOfHandle(db: D1Database, handle: string): Promise<string[]> {
  const rows = await drizzle(db)
    .select({ id: wallets.id })
    .from(wallets)
    .innerJoin(users, eq(wallets.owner_id, users.id))
    .where(eq(users.handle, handle))
    .all();
  return rows.map((r) => r.id);
}

/**
 * The display names of the owners of these wallets, by wallet id, in one statement whatever the page's size: the
 * ids travel as one JSON array (json_each), so D1's limit of 100 bound parameters never applies. A wallet nobody
 * owns in the directory is simply absent.
 */
export async function displayNamesOfWallets(db: D1Database, walletIds: readonly string[]): Promise<Map<string, string>> {
  const unique = [...new Set(walletIds)];
  if (unique.length === 0) return new Map();
  const rows = await db
    .prepare(
      "SELECT w.id AS id, u.display_name AS name FROM wallets w JOIN users u ON u.id = w.owner_id WHERE w.id IN (SELECT value FROM json_each(?))",
    )
    .bind(JSON.stringify(unique))
    .all<{ id: string; name: string }>();
  return new Map(rows.results.map((r) => [r.id, r.name]));
}
