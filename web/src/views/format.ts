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
