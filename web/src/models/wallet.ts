/**
 * The active wallet and its history. Updates arrive from three places (HTTP refreshes, the live feed, and
 * "load more"), in any order, so every write here is a merge: wallets by `version`, entries by `seq`.
 *
 * Filters are applied by the server (contract v1.1: `kind`, `from`, `to`, `counterparty`), so a filtered list
 * is complete however little of the history is loaded: while any filter is set, the view shows the filtered
 * listing, fetched page by page with its own cursor, and refetched when a live entry arrives.
 */
import { computed, createModel, effect, signal } from "@preact/signals";
import { api, download, seg, type DownloadResult } from "../api";
import type { Entry, EntryKind, HistoryEntry, Page, Wallet } from "../types";

const PAGE_SIZE = 50;

export interface HistoryFilters {
  kind: EntryKind | "all";
  /** Local calendar dates as `<input type="date">` gives them ("2026-11-21"), or "" for no bound. */
  from: string;
  to: string;
  /** A handle ("bob"), or "" for anyone. */
  counterparty: string;
}

export const NO_FILTERS: HistoryFilters = { kind: "all", from: "", to: "", counterparty: "" };

/** How long the filters must stay still before the listing is fetched (typing a handle, picking dates). */
const FILTER_DEBOUNCE_MS = 250;

/** A handle as the server accepts it. */
export const HANDLE_PATTERN = /^[a-z0-9_]{3,32}$/;

/** Whether any filter is set. */
export function hasFilters(f: HistoryFilters): boolean {
  return f.kind !== "all" || f.from !== "" || f.to !== "" || f.counterparty !== "";
}

/**
 * The history query of a set of filters: the local calendar days become instants (the start of `from`, and
 * the start of the day after `to`, which is exclusive on the server), so "to 21 Nov" includes all of 21 Nov
 * where the user is. Null while the counterparty is not a valid handle yet (the view says so).
 */
export function historyQuery(f: HistoryFilters): string | null {
  const params = new URLSearchParams();
  if (f.kind !== "all") params.set("kind", f.kind);
  if (f.from !== "") params.set("from", localMidnight(f.from, 0));
  if (f.to !== "") params.set("to", localMidnight(f.to, 1));
  const handle = f.counterparty.trim().replace(/^@/, "").toLowerCase();
  if (handle !== "") {
    if (!HANDLE_PATTERN.test(handle)) return null;
    params.set("counterparty", handle);
  }
  return params.toString();
}

/** The instant the local day `day` (+ `plusDays`) starts, as an ISO string. */
function localMidnight(day: string, plusDays: number): string {
  const [y, m, d] = day.split("-").map(Number);
  return new Date(y ?? 1970, (m ?? 1) - 1, (d ?? 1) + plusDays).toISOString();
}

export type StatementFormat = "json" | "csv" | "pdf";

/** The statement query of a calendar month ("2026-11"): its first and last UTC days, both included. */
export function statementQuery(month: string, format: StatementFormat): string {
  const [y, m] = month.split("-").map(Number);
  const last = new Date(Date.UTC(y ?? 1970, m ?? 1, 0)).getUTCDate();
  return `from=${month}-01&to=${month}-${String(last).padStart(2, "0")}&format=${format}`;
}

/** The local calendar date of an ISO timestamp, in the same form as a date input's value. */
export function localDate(iso: string): string {
  const date = new Date(iso);
  const pad = (n: number): string => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/**
 * The counterparty names a history page brings (`counterparty_display_name`, issue 18) added to those already
 * known, by wallet id; the same map back when the page taught nothing new, so nothing redraws for it. Live
 * entries carry no name: they are named from what an earlier page taught, or by the views' other sources.
 */
export function withNames(known: ReadonlyMap<string, string>, items: readonly Partial<HistoryEntry>[]): ReadonlyMap<string, string> {
  let next: Map<string, string> | null = null;
  for (const item of items) {
    const id = item.counterparty;
    const name = item.counterparty_display_name;
    if (typeof id !== "string" || typeof name !== "string" || name.trim() === "" || (next ?? known).get(id) === name) continue;
    next ??= new Map(known);
    next.set(id, name);
  }
  return next ?? known;
}

function mergeBySeq(a: readonly Entry[], b: readonly Entry[]): Entry[] {
  const bySeq = new Map<number, Entry>();
  for (const entry of [...a, ...b]) bySeq.set(entry.seq, entry);
  return [...bySeq.values()].sort((x, y) => y.seq - x.seq);
}

function isContiguous(list: readonly Entry[]): boolean {
  return list.every((entry, i) => i === 0 || list[i - 1]?.seq === entry.seq + 1);
}

/** The wallet shown by one app instance, with its loaded history. */
export const WalletModel = createModel(() => {
  const wallet = signal<Wallet | null>(null);
  /** Loaded history, newest first, without duplicate seqs. */
  const entries = signal<Entry[]>([]);
  const nextCursor = signal<string | null>(null);
  const historyStatus = signal<"idle" | "loading" | "error">("idle");
  /** False until the first history page of the active wallet has arrived, so the view can say "loading". */
  const historyReady = signal(false);
  /** Grows by one whenever balance, available or held changes, so the view can replay its flash animation. */
  const balanceFlash = signal(0);
  const filters = signal<HistoryFilters>(NO_FILTERS);
  /** Counterparty display names by wallet id, as history pages named them. */
  const counterpartyNames = signal<ReadonlyMap<string, string>>(new Map());

  /** Counterparties a live entry made us ask the server to name, so each is asked for once. */
  const askedNames = new Set<string>();

  function learnNames(items: readonly HistoryEntry[]): void {
    counterpartyNames.value = withNames(counterpartyNames.value, items);
  }

  /** The server's filtered listing, while any filter is set: its loaded pages, its cursor and its state. */
  const filteredEntries = signal<Entry[]>([]);
  const filteredCursor = signal<string | null>(null);
  const filteredStatus = signal<"idle" | "loading" | "error" | "invalid">("idle");
  const filtersActive = computed(() => hasFilters(filters.value));

  /** What the list shows: the history, or the server's filtered listing while a filter is set. */
  const visibleEntries = computed(() => (filtersActive.value ? filteredEntries.value : entries.value));

  let activeId: string | null = null;
  let refreshing: Promise<void> | null = null;
  let refreshAgain = false;
  /** Grows with every new filtered listing asked for, so an answer to an older one is dropped. */
  let filterGeneration = 0;
  let filterTimer: ReturnType<typeof setTimeout> | null = null;

  /** Fetches the first page of the filtered listing (after the debounce), replacing what was shown. */
  function scheduleFiltered(delay_ms = FILTER_DEBOUNCE_MS): void {
    if (filterTimer !== null) clearTimeout(filterTimer);
    filterTimer = setTimeout(() => {
      filterTimer = null;
      void fetchFiltered(null);
    }, delay_ms);
  }

  /** One page of the filtered listing: the first (cursor null) replaces the list, later ones append. */
  async function fetchFiltered(cursor: string | null): Promise<void> {
    const id = activeId;
    const query = historyQuery(filters.value);
    const generation = cursor === null ? ++filterGeneration : filterGeneration;
    if (id === null || !hasFilters(filters.value)) return;
    if (query === null) {
      filteredEntries.value = [];
      filteredCursor.value = null;
      filteredStatus.value = "invalid";
      return;
    }
    filteredStatus.value = "loading";
    const page = `limit=${PAGE_SIZE}${cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`}`;
    const result = await api<Page<HistoryEntry>>("GET", `/wallets/${seg(id)}/history?${query}&${page}`);
    if (id !== activeId || generation !== filterGeneration) return;
    if (!result.ok) {
      filteredStatus.value = result.status === 400 ? "invalid" : "error";
      return;
    }
    learnNames(result.data.items);
    filteredEntries.value = cursor === null ? result.data.items : mergeBySeq(filteredEntries.value, result.data.items);
    filteredCursor.value = result.data.next_cursor;
    filteredStatus.value = "idle";
  }

  /** Applies a wallet state unless it is older than the one shown; flashes the figures when they changed. */
  function applyWallet(next: Wallet): void {
    if (next.id !== activeId) return;
    const current = wallet.value;
    if (current !== null && next.version < current.version) return;
    if (current !== null && (current.balance !== next.balance || current.available !== next.available || current.held !== next.held)) {
      balanceFlash.value += 1;
    }
    wallet.value = next;
  }

  /** The newest seq loaded, or 0 before any entry. */
  function lastSeq(): number {
    return entries.value[0]?.seq ?? 0;
  }

  /**
   * Merges a freshly fetched first page. When it joins up with what is loaded, older pages are kept along
   * with their cursor; when it does not (a long gap), the list restarts from this page so it never shows a
   * hole.
   */
  function mergeFirstPage(page: Page<Entry>): void {
    const oldestLoaded = entries.value[entries.value.length - 1]?.seq;
    const oldestInPage = page.items[page.items.length - 1]?.seq;
    const merged = mergeBySeq(page.items, entries.value);
    if (isContiguous(merged)) {
      entries.value = merged;
      const keepOlder = oldestLoaded !== undefined && (oldestInPage === undefined || oldestLoaded < oldestInPage);
      if (!keepOlder) nextCursor.value = page.next_cursor;
    } else {
      entries.value = page.items;
      nextCursor.value = page.next_cursor;
    }
  }

  async function refreshOnce(id: string): Promise<void> {
    const [walletResult, pageResult] = await Promise.all([
      api<Wallet>("GET", `/wallets/${seg(id)}`),
      api<Page<HistoryEntry>>("GET", `/wallets/${seg(id)}/history?limit=${PAGE_SIZE}`),
    ]);
    if (id !== activeId) return;
    if (walletResult.ok) applyWallet(walletResult.data);
    if (pageResult.ok) {
      learnNames(pageResult.data.items);
      mergeFirstPage(pageResult.data);
      historyReady.value = true;
      if (historyStatus.value === "error") historyStatus.value = "idle";
    } else if (entries.value.length === 0) {
      historyStatus.value = "error";
    }
  }

  const model = {
    wallet,
    entries,
    nextCursor,
    historyStatus,
    historyReady,
    balanceFlash,
    filters,
    filtersActive,
    filteredEntries,
    counterpartyNames,
    filteredCursor,
    filteredStatus,
    visibleEntries,
    applyWallet,
    /** Sets the filters; the filtered listing is fetched once they have been still for a moment. */
    setFilters(next: HistoryFilters): void {
      filters.value = next;
      filteredEntries.value = [];
      filteredCursor.value = null;
      if (hasFilters(next)) {
        filteredStatus.value = "loading";
        scheduleFiltered();
      } else {
        filterGeneration++;
        filteredStatus.value = "idle";
      }
    },
    /** Fetches this month's statement (UTC days) in `format`, for the view to hand to the browser. */
    downloadStatement(month: string, format: StatementFormat): Promise<DownloadResult> {
      const id = activeId;
      if (id === null) return Promise.resolve({ ok: false, status: 0, message: "No wallet is open." });
      return download(`/wallets/${seg(id)}/statement?${statementQuery(month, format)}`);
    },
    lastSeq,
    activeWalletId(): string | null {
      return activeId;
    },
    /** Switches to another wallet (or to none), forgetting everything about the previous one. */
    resetWallet(next: Wallet | null): void {
      activeId = next?.id ?? null;
      wallet.value = next;
      entries.value = [];
      nextCursor.value = null;
      historyStatus.value = "idle";
      historyReady.value = false;
      balanceFlash.value = 0;
      filters.value = NO_FILTERS;
      filteredEntries.value = [];
      filteredCursor.value = null;
      filteredStatus.value = "idle";
      filterGeneration++;
    },
    /**
     * Adds one live entry. Returns false when it leaves a hole (entries between the newest loaded one and
     * this one never arrived), so the caller can fetch the first page to fill it.
     */
    applyEntry(entry: Entry): boolean {
      const newest = lastSeq();
      entries.value = mergeBySeq([entry], entries.value);
      // A live entry carries no name: a counterparty no page has named yet (a first payment from a stranger) is
      // named by fetching the first page again, once per such wallet, as the server names every page's entries.
      const other = entry.counterparty;
      if (typeof other === "string" && !counterpartyNames.value.has(other) && !askedNames.has(other)) {
        askedNames.add(other);
        void model.refresh();
      }
      // Whether it matches the filters is the server's to say: the filtered listing is fetched again.
      if (hasFilters(filters.value)) scheduleFiltered();
      return newest === 0 || entry.seq <= newest + 1;
    },
    /**
     * Refetches the wallet and the first history page. A call made while one is running schedules exactly
     * one more run afterwards, so a refresh asked for after an action always sees that action.
     */
    refresh(): Promise<void> {
      if (refreshing !== null) {
        refreshAgain = true;
        return refreshing;
      }
      const run = async (): Promise<void> => {
        do {
          refreshAgain = false;
          if (activeId === null) return;
          await refreshOnce(activeId);
        } while (refreshAgain);
      };
      refreshing = run().finally(() => {
        refreshing = null;
      });
      return refreshing;
    },
    /** Loads the next older page and appends it (of the filtered listing while a filter is set). */
    async loadMore(): Promise<void> {
      if (hasFilters(filters.value)) {
        const cursor = filteredCursor.value;
        if (cursor !== null && filteredStatus.value !== "loading") await fetchFiltered(cursor);
        return;
      }
      const id = activeId;
      const cursor = nextCursor.value;
      if (id === null || cursor === null || historyStatus.value === "loading") return;
      historyStatus.value = "loading";
      const result = await api<Page<HistoryEntry>>(
        "GET",
        `/wallets/${seg(id)}/history?limit=${PAGE_SIZE}&cursor=${encodeURIComponent(cursor)}`,
      );
      if (id !== activeId) return;
      if (!result.ok) {
        historyStatus.value = "error";
        return;
      }
      learnNames(result.data.items);
      entries.value = mergeBySeq(entries.value, result.data.items);
      nextCursor.value = result.data.next_cursor;
      historyStatus.value = "idle";
    },
  };

  // The live feed (LiveModel, owned by the account model) is handed this model and writes into it directly.
  effect(() => () => {
    // Forgetting the wallet makes a fetch that is still under way drop its answer instead of applying it.
    activeId = null;
    if (filterTimer !== null) clearTimeout(filterTimer);
  });

  return model;
});

export type WalletModel = InstanceType<typeof WalletModel>;
