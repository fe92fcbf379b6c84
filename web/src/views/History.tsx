/**
 * The wallet's history, newest first: filters (applied to the loaded pages), the list, "load more", and the
 * detail dialog of the chosen entry. New live entries appear at the top as the model receives them.
 */
import { useSignal } from "@preact/signals";
import { formatMinor, formatSignedMinor } from "../money";
import type { HistoryFilters, WalletModel } from "../models/wallet";
import type { Entry, EntryKind } from "../types";
import { useApp } from "./context";
import { EntryDetail } from "./EntryDetail";
import { UserText } from "./UserText";
import { KIND_LABELS, formatDate } from "./format";

function setFilter<K extends keyof HistoryFilters>(wallet: WalletModel, key: K, value: HistoryFilters[K]): void {
  wallet.filters.value = { ...wallet.filters.value, [key]: value };
}

function isKind(value: string): value is EntryKind | "all" {
  return value === "all" || value in KIND_LABELS;
}

function Filters({ wallet }: { wallet: WalletModel }) {
  const f = wallet.filters.value;
  const active = f.kind !== "all" || f.from !== "" || f.to !== "";
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
      {active ? (
        <button type="button" class="link" onClick={() => (wallet.filters.value = { kind: "all", from: "", to: "" })}>
          Clear filters
        </button>
      ) : null}
    </fieldset>
  );
}

function Item({ entry, currency, onOpen }: { entry: Entry; currency: string; onOpen: (entry: Entry) => void }) {
  const incoming = entry.amount > 0;
  return (
    <li data-testid="history-item" data-seq={entry.seq} data-kind={entry.kind}>
      <button type="button" class="entry" onClick={() => onOpen(entry)} aria-haspopup="dialog">
        <span class="entry-main">
          <span class="entry-kind">{KIND_LABELS[entry.kind]}</span>
          <span class="entry-meta">
            {formatDate(entry.created_at)}
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

export function History() {
  const { wallet } = useApp();
  const selected = useSignal<Entry | null>(null);
  const w = wallet.wallet.value;
  const shown = wallet.visibleEntries.value;
  const loaded = wallet.entries.value.length;
  const status = wallet.historyStatus.value;
  const filtered = shown.length !== loaded;
  return (
    <section class="card history" aria-labelledby="history-title">
      <h2 id="history-title">History</h2>
      <Filters wallet={wallet} />
      <p class="muted" aria-live="polite">
        {!wallet.historyReady.value && status !== "error"
          ? "Loading history…"
          : filtered
            ? `Showing ${shown.length} of ${loaded} loaded entries.`
            : loaded === 0
              ? "No money has moved yet."
              : `${loaded} entries loaded.`}
      </p>
      <ul class="entries" data-testid="history-list" aria-label="History entries, newest first">
        {w !== null &&
          shown.map((entry) => <Item key={entry.seq} entry={entry} currency={w.currency} onOpen={(e) => (selected.value = e)} />)}
      </ul>
      {status === "error" ? (
        <p class="error" role="alert">
          The history could not be loaded. It will be tried again shortly.
        </p>
      ) : null}
      {wallet.nextCursor.value !== null ? (
        <button
          type="button"
          class="secondary"
          data-testid="history-more"
          onClick={() => void wallet.loadMore()}
          disabled={status === "loading"}
        >
          {status === "loading" ? "Loading…" : filtered ? "Load more to search older entries" : "Load more"}
        </button>
      ) : null}
      {selected.value !== null && w !== null ? (
        <EntryDetail entry={selected.value} currency={w.currency} onClose={() => (selected.value = null)} />
      ) : null}
    </section>
  );
}
