/**
 * The event log section's model: the user's events (GET /events), oldest first, page by page. The server's
 * next_cursor is the last seq of a page; once it is null the log is caught up, and "check for new" asks again
 * after the last seq seen, exactly as a program following the log would. A filter by type starts over.
 * Created by its view with `useModel`, so it lives only while the Developers page is shown.
 */
import { batch, createModel, signal } from "@preact/signals";
import { api } from "../api";
import type { components } from "../generated/api";
import { formatMinor } from "../money";
import type { ApiErrorBody } from "../types";
import type { EventType } from "./event-types";

export type WalletEvent = components["schemas"]["Event"];

/** A page of events; the server allows up to 200. */
export const EVENTS_PAGE = 50;

/**
 * A one-line summary of an event's object: its amount (with the currency when the object has one), what part
 * of a transfer is refunded, and its status. Money is shown only when it is a safe integer, never guessed.
 */
export function eventSummary(event: WalletEvent): string {
  const object = event.data.object;
  const parts: string[] = [];
  const amount = object.amount;
  const currency = typeof object.currency === "string" ? object.currency : null;
  const money = (minor: number): string => (currency === null ? `${minor} minor units` : formatMinor(minor, currency));
  if (typeof amount === "number" && Number.isSafeInteger(amount)) parts.push(money(amount));
  const refunded = object.refunded_amount;
  if (typeof refunded === "number" && Number.isSafeInteger(refunded) && refunded > 0) parts.push(`${money(refunded)} refunded`);
  if (typeof object.status === "string") parts.push(object.status);
  if (typeof object.id === "string") parts.push(object.id);
  return parts.join(" · ");
}

/** What to tell the user about a refused request, in words. */
export function eventsErrorText(error: ApiErrorBody): string {
  if (error.code === "network_error") return "The events could not be loaded: the request did not reach the server. Try again.";
  return `The events could not be loaded: ${error.message === "" ? "something went wrong" : error.message}. Try again.`;
}

interface Page {
  items: WalletEvent[];
  next_cursor: string | null;
}

/** The events loaded so far, the cursor to follow, and the type filter. */
export const EventsModel = createModel(() => {
  const events = signal<WalletEvent[]>([]);
  /** The `after` of the next page; null once caught up. */
  const cursor = signal<string | null>(null);
  const loaded = signal(false);
  const status = signal<"idle" | "loading">("idle");
  const error = signal<ApiErrorBody | null>(null);
  /** The types shown; empty means every type. */
  const types = signal<EventType[]>([]);
  // Each new filter bumps this, so a page that arrives for an older filter is dropped.
  let generation = 0;

  async function fetchPage(after: string, first: boolean): Promise<void> {
    const mine = generation;
    status.value = "loading";
    error.value = null;
    const filter = types.value.length === 0 ? "" : `&types=${encodeURIComponent(types.value.join(","))}`;
    const result = await api<Page>("GET", `/events?after=${encodeURIComponent(after)}&limit=${EVENTS_PAGE}${filter}`);
    if (mine !== generation) return;
    batch(() => {
      status.value = "idle";
      loaded.value = true;
      if (!result.ok) {
        error.value = result.error;
        return;
      }
      // An event seen already (asked again after the same seq) is not listed twice.
      const seen = new Set(first ? [] : events.value.map((e) => e.seq));
      const fresh = result.data.items.filter((e) => !seen.has(e.seq));
      events.value = first ? fresh : [...events.value, ...fresh];
      cursor.value = result.data.next_cursor;
    });
  }

  /** The seq after which to ask next: the cursor, or the last event seen once caught up. */
  function nextAfter(): string {
    if (cursor.value !== null) return cursor.value;
    const last = events.value.at(-1);
    return last === undefined ? "0" : String(last.seq);
  }

  return {
    events,
    cursor,
    loaded,
    status,
    error,
    types,
    /** The first page, from the oldest event kept. */
    load: (): Promise<void> => fetchPage("0", true),
    /** The next page, or, once caught up, whatever came after the last event seen. */
    async more(): Promise<void> {
      if (status.value === "loading") return;
      await fetchPage(nextAfter(), false);
    },
    /** Shows only these types (none: every type), starting over from the oldest. */
    async filter(next: EventType[]): Promise<void> {
      generation++;
      batch(() => {
        types.value = next;
        events.value = [];
        cursor.value = null;
      });
      await fetchPage("0", true);
    },
  };
});

export type EventsModel = InstanceType<typeof EventsModel>;
