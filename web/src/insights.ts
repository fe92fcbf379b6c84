/**
 * Pictures drawn from the history the client has already loaded (issue 18): no new server state. The balance
 * over time is each entry's `balance_after` at its `created_at`; the month's money in and out are the sums of
 * the loaded entries' positive and negative amounts since the start of the local month. Amounts stay integer
 * minor units; a sum that would leave the safe-integer range is reported as unknown instead of rounded.
 * No DOM or Preact imports, so Node's test runner imports this directly (web/test).
 */
import type { Entry } from "./types";

/** A series for the chart: x in Unix seconds, ascending; y in integer minor units. */
export interface Series {
  x: number[];
  y: number[];
}

/**
 * The balance after each loaded entry, oldest first, ending with the current balance "now" so the line reaches
 * today. `entries` may be in any order and may hold duplicates (the model's list is newest first, by seq).
 */
export function balanceSeries(entries: readonly Entry[], current: number | null, now_ms: number): Series {
  const bySeq = new Map<number, Entry>();
  for (const entry of entries) bySeq.set(entry.seq, entry);
  const sorted = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
  const x: number[] = [];
  const y: number[] = [];
  for (const entry of sorted) {
    const t = Date.parse(entry.created_at);
    if (Number.isNaN(t) || !Number.isSafeInteger(entry.balance_after)) continue;
    // Two entries in the same second keep their order: x must not go backwards for the chart.
    const seconds = Math.max(Math.floor(t / 1000), x.at(-1) ?? -Infinity);
    x.push(seconds);
    y.push(entry.balance_after);
  }
  if (current !== null && Number.isSafeInteger(current) && x.length > 0) {
    x.push(Math.max(Math.floor(now_ms / 1000), x.at(-1) ?? 0));
    y.push(current);
  }
  return { x, y };
}

/** Money in and out of one month, and whether the loaded entries cover all of it. */
export interface MonthFlows {
  in_minor: number | null;
  out_minor: number | null;
  /** False when older entries of this month may not be loaded yet (the figures are then "at least"). */
  complete: boolean;
}

/** The start of the local calendar month of `now_ms`, in ms. */
export function monthStart(now_ms: number): number {
  const now = new Date(now_ms);
  return new Date(now.getFullYear(), now.getMonth(), 1).getTime();
}

/**
 * Sums this month's loaded entries. `moreOlder` says whether older pages exist beyond those loaded: the sums are
 * complete when they do not, or when the oldest loaded entry is already before the month started.
 */
export function monthFlows(entries: readonly Entry[], moreOlder: boolean, now_ms: number): MonthFlows {
  const start = monthStart(now_ms);
  let in_minor: number | null = 0;
  let out_minor: number | null = 0;
  let oldest = Infinity;
  for (const entry of entries) {
    const t = Date.parse(entry.created_at);
    if (Number.isNaN(t)) continue;
    oldest = Math.min(oldest, t);
    if (t < start) continue;
    if (entry.amount > 0 && in_minor !== null) in_minor = safeAdd(in_minor, entry.amount);
    if (entry.amount < 0 && out_minor !== null) out_minor = safeAdd(out_minor, -entry.amount);
  }
  return { in_minor, out_minor, complete: !moreOlder || oldest < start };
}

function safeAdd(a: number, b: number): number | null {
  const sum = a + b;
  return Number.isSafeInteger(b) && Number.isSafeInteger(sum) ? sum : null;
}

/** Up to two initials of a name or handle ("Bob Smith" -> "BS", "@carol_x" -> "CA"), for an avatar. */
export function initialsOf(name: string): string {
  const words = name
    .replace(/^@/, "")
    .split(/[\s_.-]+/u)
    .filter((w) => w !== "");
  const letters = words.length >= 2 ? [words[0], words[1]] : [words[0]?.slice(0, 1), words[0]?.slice(1, 2)];
  // Whole code points, so a name that starts with an emoji or an accented letter is not cut in half.
  return letters
    .map((w) => [...(w ?? "")][0] ?? "")
    .join("")
    .toLocaleUpperCase();
}

/** Entries grouped by local calendar day, in the order given (newest first), with the day's key "YYYY-MM-DD". */
export function groupByDay<T extends { created_at: string }>(items: readonly T[]): { day: string; items: T[] }[] {
  const groups: { day: string; items: T[] }[] = [];
  for (const item of items) {
    const date = new Date(item.created_at);
    const pad = (n: number): string => String(n).padStart(2, "0");
    const day = Number.isNaN(date.getTime()) ? "unknown" : `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
    const last = groups.at(-1);
    if (last !== undefined && last.day === day) last.items.push(item);
    else groups.push({ day, items: [item] });
  }
  return groups;
}

/**
 * Money put into the system over time from audit rows (succeeded deposits minus succeeded withdrawals, one
 * currency), oldest first. Transfers move money between wallets and leave the total unchanged.
 */
export function moneyInSystem(
  rows: readonly { kind: string; status: string; amount: number; currency: string | null; created_at: string }[],
  currency: string,
): Series {
  const moves = rows
    .filter((r) => r.status === "succeeded" && r.currency === currency && (r.kind === "deposit" || r.kind === "withdrawal"))
    .map((r) => ({ t: Date.parse(r.created_at), signed: r.kind === "deposit" ? r.amount : -r.amount }))
    .filter((m) => !Number.isNaN(m.t) && Number.isSafeInteger(m.signed))
    .sort((a, b) => a.t - b.t);
  const x: number[] = [];
  const y: number[] = [];
  let total = 0;
  for (const move of moves) {
    const next = total + move.signed;
    if (!Number.isSafeInteger(next)) break;
    total = next;
    x.push(Math.max(Math.floor(move.t / 1000), x.at(-1) ?? -Infinity));
    y.push(total);
  }
  return { x, y };
}
