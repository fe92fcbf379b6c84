/** Words and dates shared by the history list, the entry dialog and the audit screen. */
import type { EntryKind } from "../types";

export const KIND_LABELS: Record<EntryKind, string> = {
  deposit: "Deposit",
  withdrawal: "Withdrawal",
  transfer_in: "Received",
  transfer_out: "Sent",
};

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** A timestamp in the reader's locale and time zone; an unparseable one is shown as it came. */
export function formatDate(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : dateTime.format(date);
}

/** A party of a payment request as the user may see them: "@bob", or the phone they were asked by. */
export function partyLabel(party: { handle: string } | { phone: string }): string {
  return "handle" in party ? `@${party.handle}` : party.phone;
}

/** A request's status in words, for the lists and for screen readers. */
export const REQUEST_STATUS_LABELS = {
  open: "Open",
  paid: "Paid",
  declined: "Declined",
  cancelled: "Cancelled",
  expired: "Expired",
} as const;

const timeOnly = new Intl.DateTimeFormat(undefined, { timeStyle: "short" });
const dayOnly = new Intl.DateTimeFormat(undefined, { weekday: "short", month: "short", day: "numeric", year: "numeric" });

/** The time of day of a timestamp (the day is the heading above it); an unparseable one is shown as it came. */
export function formatTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : timeOnly.format(date);
}

/** A local day ("2026-11-23") as a heading: "Today", "Yesterday", or the date. */
export function dayLabel(day: string, now: Date = new Date()): string {
  const [y, m, d] = day.split("-").map(Number);
  if (y === undefined || m === undefined || d === undefined || Number.isNaN(y)) return day;
  const date = new Date(y, m - 1, d);
  const today = new Date(now.getFullYear(), now.getMonth(), now.getDate());
  const days = Math.round((today.getTime() - date.getTime()) / 86_400_000);
  return days === 0 ? "Today" : days === 1 ? "Yesterday" : dayOnly.format(date);
}
