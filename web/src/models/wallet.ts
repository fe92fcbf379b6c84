/**
 * The active wallet and its history. Updates arrive from three places (HTTP refreshes, the live feed, and
 * "load more"), in any order, so every write here is a merge: wallets by `version`, entries by `seq`.
 */
import { computed, createModel, effect, signal } from "@preact/signals";
import { api, seg } from "../api";
import type { Entry, EntryKind, Page, Wallet } from "../types";

const PAGE_SIZE = 50;

export interface HistoryFilters {
  kind: EntryKind | "all";
  /** Local calendar dates as `<input type="date">` gives them ("2026-11-21"), or "" for no bound. */
  from: string;
  to: string;
}

const NO_FILTERS: HistoryFilters = { kind: "all", from: "", to: "" };

/** The local calendar date of an ISO timestamp, in the same form as a date input's value. */
export function localDate(iso: string): string {
  const date = new Date(iso);
  const pad = (n: number): string => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
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

  /** Filtering runs over the loaded pages only; the view says so and offers "load more". */
  const visibleEntries = computed(() => {
    const { kind, from, to } = filters.value;
    return entries.value.filter((entry) => {
      if (kind !== "all" && entry.kind !== kind) return false;
      const day = localDate(entry.created_at);
      return (from === "" || day >= from) && (to === "" || day <= to);
    });
  });

  let activeId: string | null = null;
  let refreshing: Promise<void> | null = null;
  let refreshAgain = false;

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
      api<Page<Entry>>("GET", `/wallets/${seg(id)}/history?limit=${PAGE_SIZE}`),
    ]);
    if (id !== activeId) return;
    if (walletResult.ok) applyWallet(walletResult.data);
    if (pageResult.ok) {
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
    visibleEntries,
    applyWallet,
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
    },
    /**
     * Adds one live entry. Returns false when it leaves a hole (entries between the newest loaded one and
     * this one never arrived), so the caller can fetch the first page to fill it.
     */
    applyEntry(entry: Entry): boolean {
      const newest = lastSeq();
      entries.value = mergeBySeq([entry], entries.value);
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
    /** Loads the next older page and appends it. */
    async loadMore(): Promise<void> {
      const id = activeId;
      const cursor = nextCursor.value;
      if (id === null || cursor === null || historyStatus.value === "loading") return;
      historyStatus.value = "loading";
      const result = await api<Page<Entry>>("GET", `/wallets/${seg(id)}/history?limit=${PAGE_SIZE}&cursor=${encodeURIComponent(cursor)}`);
      if (id !== activeId) return;
      if (!result.ok) {
        historyStatus.value = "error";
        return;
      }
      entries.value = mergeBySeq(entries.value, result.data.items);
      nextCursor.value = result.data.next_cursor;
      historyStatus.value = "idle";
    },
  };

  // The live feed (LiveModel, owned by the account model) is handed this model and writes into it directly.
  effect(() => () => {
    // Forgetting the wallet makes a fetch that is still under way drop its answer instead of applying it.
    activeId = null;
  });

  return model;
});

export type WalletModel = InstanceType<typeof WalletModel>;
