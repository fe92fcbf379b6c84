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
