/**
 * The wallet's history, newest first: filters (applied by the server), the list, "load more", the detail
 * dialog of the chosen entry, and the monthly statement download. New live entries appear at the top as the
 * model receives them.
 */
import { useSignal } from "@preact/signals";
import { formatMinor, formatSignedMinor } from "../money";
import { NO_FILTERS, type HistoryFilters, type StatementFormat, type WalletModel } from "../models/wallet";
import type { Entry, EntryKind } from "../types";
import { useApp } from "./context";
import { EntryDetail } from "./EntryDetail";
import { UserText } from "./UserText";
import { KIND_LABELS, dayLabel, formatTime } from "./format";
import { groupByDay } from "../insights";
import { Avatar, partyOf } from "./people";

function setFilter<K extends keyof HistoryFilters>(wallet: WalletModel, key: K, value: HistoryFilters[K]): void {
  wallet.setFilters({ ...wallet.filters.value, [key]: value });
}

function isKind(value: string): value is EntryKind | "all" {
  return value === "all" || value in KIND_LABELS;
}

function Filters({ wallet }: { wallet: WalletModel }) {
  const f = wallet.filters.value;
  const active = wallet.filtersActive.value;
  return (
    <fieldset class="filters">
      <legend>Filter</legend>
      <div class="field">
        <label for="filter-kind">Kind</label>
        <select
          id="filter-kind"
          value={f.kind}
          onChange={(event) => {
            const value = event.currentTarget.value;
            if (isKind(value)) setFilter(wallet, "kind", value);
          }}
        >
          <option value="all">All</option>
          {Object.entries(KIND_LABELS).map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
      </div>
      <div class="field">
        <label for="filter-from">From</label>
        <input
          id="filter-from"
          type="date"
          value={f.from}
          max={f.to || undefined}
          onInput={(event) => setFilter(wallet, "from", event.currentTarget.value)}
        />
      </div>
      <div class="field">
        <label for="filter-to">To</label>
        <input
          id="filter-to"
          type="date"
          value={f.to}
          min={f.from || undefined}
          onInput={(event) => setFilter(wallet, "to", event.currentTarget.value)}
        />
      </div>
      <div class="field">
        <label for="filter-counterparty">With</label>
        <input
          id="filter-counterparty"
          type="search"
          placeholder="handle"
          autocomplete="off"
          spellcheck={false}
          value={f.counterparty}
          onInput={(event) => setFilter(wallet, "counterparty", event.currentTarget.value)}
        />
      </div>
      {active ? (
        <button
          type="button"
          class="link"
          data-testid="history-clear-filters"
          onClick={() => {
            wallet.setFilters(NO_FILTERS);
            // This button goes away with the filters, which would drop focus to the page: the first filter takes it.
            setTimeout(() => document.getElementById("filter-kind")?.focus(), 0);
          }}
        >
          Clear filters
        </button>
      ) : null}
    </fieldset>
  );
}

function Item({ entry, currency, onOpen }: { entry: Entry; currency: string; onOpen: (entry: Entry) => void }) {
  const app = useApp();
  const incoming = entry.amount > 0;
  const party = partyOf(app, entry);
  return (
    <li data-testid="history-item" data-seq={entry.seq} data-kind={entry.kind}>
      <button type="button" class="entry" onClick={() => onOpen(entry)} aria-haspopup="dialog">
        <Avatar party={party} />
        <span class="entry-main">
          <span class="entry-kind">{party.bank ? KIND_LABELS[entry.kind] : <UserText text={party.name} />}</span>
          <span class="entry-meta">
            {party.bank ? formatTime(entry.created_at) : `${KIND_LABELS[entry.kind]} · ${formatTime(entry.created_at)}`}
            {entry.memo !== null && entry.memo !== "" ? (
              <>
                {" · "}
                <UserText text={entry.memo} />
              </>
            ) : null}
          </span>
        </span>
        <span class="entry-amounts">
          <span class={incoming ? "amount in" : "amount out"}>{formatSignedMinor(entry.amount, currency)}</span>
          <span class="entry-meta">Balance {formatMinor(entry.balance_after, currency)}</span>
        </span>
      </button>
    </li>
  );
}

/** Entries under a heading per local day ("Today", "Yesterday", "Mon, Nov 23"), newest first. */
function Days({ entries, currency, onOpen }: { entries: readonly Entry[]; currency: string; onOpen: (entry: Entry) => void }) {
  return (
    <ol class="days" data-testid="history-list" aria-label="History entries, newest first">
      {groupByDay(entries).map((group) => (
        <li key={group.day} class="day">
          <h3 class="day-title" id={`day-${group.day}`}>
            {dayLabel(group.day)}
          </h3>
          <ul class="entries" aria-labelledby={`day-${group.day}`}>
            {group.items.map((entry) => (
              <Item key={entry.seq} entry={entry} currency={currency} onOpen={onOpen} />
            ))}
          </ul>
        </li>
      ))}
    </ol>
  );
}

/** The month picker and format of a statement download; the file is handed to the browser as it arrives. */
function StatementDownload({ wallet }: { wallet: WalletModel }) {
  const month = useSignal(new Date().toISOString().slice(0, 7));
  const format = useSignal<StatementFormat>("pdf");
  const state = useSignal<{ busy: boolean; error: string | null }>({ busy: false, error: null });
  const start = async (): Promise<void> => {
    if (state.value.busy) return;
    state.value = { busy: true, error: null };
    const result = await wallet.downloadStatement(month.value, format.value);
    if (!result.ok) {
      state.value = { busy: false, error: result.message };
      return;
    }
    const url = URL.createObjectURL(result.blob);
    const link = document.createElement("a");
    link.href = url;
    link.download = result.filename;
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    state.value = { busy: false, error: null };
  };
  return (
    <fieldset class="filters statement">
      <legend>Statement</legend>
      <div class="field">
        <label for="statement-month">Month (UTC)</label>
        <input id="statement-month" type="month" value={month.value} onInput={(event) => (month.value = event.currentTarget.value)} />
      </div>
      <div class="field">
        <label for="statement-format">Format</label>
        <select
          id="statement-format"
          value={format.value}
          onChange={(event) => {
            const value = event.currentTarget.value;
            if (value === "pdf" || value === "csv" || value === "json") format.value = value;
          }}
        >
          <option value="pdf">PDF</option>
          <option value="csv">CSV</option>
          <option value="json">Signed JSON</option>
        </select>
      </div>
      <button
        type="button"
        class="secondary"
        data-testid="statement-download"
        // Busy is aria-disabled, not disabled, so the keyboard user's focus stays on the button (see SubmitButton).
        disabled={month.value === ""}
        aria-disabled={state.value.busy ? "true" : undefined}
        onClick={() => void start()}
      >
        {state.value.busy ? "Preparing…" : "Download statement"}
      </button>
      {state.value.error !== null ? (
        <p class="error" role="alert">
          {state.value.error}
        </p>
      ) : null}
    </fieldset>
  );
}

function summary(wallet: WalletModel, shown: number, loaded: number): string {
  if (wallet.filtersActive.value) {
    const status = wallet.filteredStatus.value;
    if (status === "invalid") return "A handle is 3 to 32 letters, digits or underscores.";
    if (status === "loading" && shown === 0) return "Searching…";
    if (status === "error") return "The search failed. Change a filter to try again.";
    return shown === 0
      ? "No entries match these filters."
      : `${shown} matching entries shown${wallet.filteredCursor.value !== null ? "; more below" : ""}.`;
  }
  if (!wallet.historyReady.value && wallet.historyStatus.value !== "error") return "Loading history…";
  return loaded === 0 ? "No money has moved yet." : `${loaded} entries loaded.`;
}

export function History() {
  const { wallet } = useApp();
  const selected = useSignal<Entry | null>(null);
  const w = wallet.wallet.value;
  const shown = wallet.visibleEntries.value;
  const loaded = wallet.entries.value.length;
  const filtered = wallet.filtersActive.value;
  const status = filtered ? wallet.filteredStatus.value : wallet.historyStatus.value;
  const cursor = filtered ? wallet.filteredCursor.value : wallet.nextCursor.value;
  return (
    <section class="card history" aria-labelledby="history-title">
      <h2 id="history-title">Activity</h2>
      <details class="more" data-testid="history-tools">
        <summary>Filter and statements</summary>
        <Filters wallet={wallet} />
        <StatementDownload wallet={wallet} />
      </details>
      <p class="muted" aria-live="polite" data-testid="history-summary">
        {summary(wallet, shown.length, loaded)}
      </p>
      {w !== null && shown.length > 0 ? <Days entries={shown} currency={w.currency} onOpen={(e) => (selected.value = e)} /> : null}
      {!wallet.historyReady.value && wallet.historyStatus.value !== "error" ? (
        <div class="skeleton" aria-hidden="true">
          <span />
          <span class="short" />
          <span />
        </div>
      ) : null}
      {wallet.historyReady.value && loaded === 0 && !filtered ? (
        <div class="empty" data-testid="history-empty">
          <p class="empty-title">Nothing here yet</p>
          <p class="muted">Add money with Deposit, then send it by handle or phone, or ask someone with Request money.</p>
        </div>
      ) : null}
      {status === "error" && !filtered ? (
        <p class="error" role="alert">
          The history could not be loaded. It will be tried again shortly.
        </p>
      ) : null}
      {cursor !== null ? (
        <button
          type="button"
          class="secondary"
          data-testid="history-more"
          onClick={() => void wallet.loadMore()}
          disabled={status === "loading"}
        >
          {status === "loading" ? "Loading…" : "Load more"}
        </button>
      ) : null}
      {selected.value !== null && w !== null ? (
        <EntryDetail entry={selected.value} currency={w.currency} onClose={() => (selected.value = null)} />
      ) : null}
    </section>
  );
}
