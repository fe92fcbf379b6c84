/**
 * Balance, available and held of the active wallet, with the live indicator. The figures sit in a polite,
 * atomic live region, and each change replays a short highlight (skipped under prefers-reduced-motion).
 */
import { useRef } from "preact/hooks";
import { useSignal } from "@preact/signals";
import { api } from "../api";
import { errorsFor } from "../errors";
import { formatMinor } from "../money";
import type { Wallet } from "../types";
import { balanceSeries, monthFlows } from "../insights";
import type { WalletModel } from "../models/wallet";
import { Chart } from "./Chart";
import { useApp } from "./context";
import { FieldError, StatusLine, SubmitButton, useFormState } from "./fields";

/** Offered first in the currency list; every other code Intl knows follows, in order. */
const COMMON_CURRENCIES = ["USD", "EUR", "GBP", "JPY", "CHF", "CAD", "AUD", "INR", "MXN", "BRL"];

/** The currencies the user can still open a wallet in, common ones first. */
function currencyChoices(held: ReadonlySet<string>): string[] {
  const known = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("currency") : [];
  const all = [...COMMON_CURRENCIES, ...known.filter((c) => !COMMON_CURRENCIES.includes(c))];
  return all.filter((c) => !held.has(c));
}

/**
 * "Open a wallet in another currency": POST /wallets, then `me` again (which lists the new wallet) and a switch
 * to it. Opening twice is harmless (409 wallet_exists), so no key is kept for a retry.
 */
function NewWalletForm() {
  const { session, account } = useApp();
  const held = new Set((session.me.value?.wallets ?? []).map((w) => w.currency));
  const choices = currencyChoices(held);
  const currency = useSignal(choices[0] ?? "");
  const { errors, busy, done } = useFormState();
  const form = useRef<HTMLFormElement>(null);
  const chosen = choices.includes(currency.value) ? currency.value : (choices[0] ?? "");

  async function onSubmit(event: Event): Promise<void> {
    event.preventDefault();
    if (busy.value || chosen === "") return;
    busy.value = true;
    errors.value = {};
    done.value = "";
    const result = await api<{ wallet: Wallet }>("POST", "/wallets", { body: { currency: chosen } });
    if (!result.ok) {
      busy.value = false;
      errors.value = errorsFor(result.error, "wallet");
      setTimeout(() => form.current?.querySelector("select")?.focus(), 0);
      return;
    }
    await session.loadMe();
    busy.value = false;
    account.chosenWalletId.value = result.data.wallet.id;
    done.value = `Opened a ${chosen} wallet; it is now shown.`;
  }

  const message = errors.value.currency ?? errors.value.form;
  return (
    <details class="new-wallet">
      <summary data-testid="new-wallet-toggle">Open a wallet in another currency</summary>
      <form ref={form} data-testid="new-wallet-form" onSubmit={(event) => void onSubmit(event)} noValidate>
        <div class="field">
          <label for="new-wallet-currency">Currency</label>
          <select
            id="new-wallet-currency"
            data-testid="new-wallet-currency"
            value={chosen}
            aria-invalid={message !== undefined ? "true" : undefined}
            aria-describedby={message !== undefined ? "new-wallet-error" : undefined}
            onChange={(event) => {
              currency.value = event.currentTarget.value;
            }}
          >
            {choices.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </div>
        <FieldError id="new-wallet-error" message={message} />
        <SubmitButton testid="new-wallet-submit" busy={busy.value}>
          {busy.value ? "Opening…" : `Open a ${chosen} wallet`}
        </SubmitButton>
        {done.value !== "" ? <StatusLine message={done.value} /> : null}
      </form>
    </details>
  );
}

const LIVE_TEXT = {
  live: "Live",
  reconnecting: "Reconnecting…",
  offline: "Offline: refreshing every 5 seconds",
} as const;

export function LiveIndicator() {
  const { live } = useApp().account;
  const state = live.status.value;
  const text = state === "reconnecting" && live.firstAttempt.value ? "Connecting…" : LIVE_TEXT[state];
  return (
    <p class={`live live-${state}`} data-testid="live-status" data-state={state} role="status">
      <span class="dot" aria-hidden="true" />
      {text}
    </p>
  );
}

function WalletPicker() {
  const { session, wallet, account } = useApp();
  const wallets = session.me.value?.wallets ?? [];
  const current = wallet.wallet.value;
  if (wallets.length < 2 || current === null) return null;
  return (
    <div class="field">
      <label for="wallet-picker">Wallet</label>
      <select
        id="wallet-picker"
        data-testid="wallet-picker"
        value={current.id}
        onChange={(event) => {
          account.chosenWalletId.value = event.currentTarget.value;
        }}
      >
        {wallets.map((w) => (
          <option key={w.id} value={w.id}>
            {w.currency} · {w.id}
          </option>
        ))}
      </select>
    </div>
  );
}

/** The month's money in and out, from the loaded history; "at least" while older pages of the month are not loaded. */
function MonthFlows({ wallet, currency }: { wallet: WalletModel; currency: string }) {
  const flows = monthFlows(wallet.entries.value, wallet.nextCursor.value !== null, Date.now());
  const prefix = flows.complete ? "" : "at least ";
  const show = (minor: number | null): string => (minor === null ? "too large to show" : prefix + formatMinor(minor, currency));
  return (
    <dl class="sub-figures month" data-testid="month-flows">
      <div>
        <dt>In this month</dt>
        <dd class="in" data-testid="month-in">
          {show(flows.in_minor)}
        </dd>
      </div>
      <div>
        <dt>Out this month</dt>
        <dd data-testid="month-out">{show(flows.out_minor)}</dd>
      </div>
    </dl>
  );
}

/** The balance after each loaded entry, as a stepped line; the label says the same in words. */
function BalanceChart({ wallet, current, currency }: { wallet: WalletModel; current: number; currency: string }) {
  const series = balanceSeries(wallet.entries.value, current, Date.now());
  if (!wallet.historyReady.value)
    return (
      <div class="chart skeleton" aria-hidden="true">
        <span class="block" />
      </div>
    );
  if (series.x.length < 2) {
    return (
      <p class="chart-empty" data-testid="balance-chart-empty">
        Your balance over time appears here once money has moved: add money with Deposit to start.
      </p>
    );
  }
  const low = Math.min(...series.y);
  const high = Math.max(...series.y);
  const from = new Date((series.x[0] ?? 0) * 1000).toLocaleDateString();
  const label = `Balance over time since ${from}: lowest ${formatMinor(low, currency)}, highest ${formatMinor(high, currency)}, now ${formatMinor(current, currency)}.`;
  return (
    <Chart
      testid="balance-chart"
      label={label}
      series={{ x: series.x, ys: [series.y], labels: ["Balance"] }}
      formatY={(minor) => formatMinor(minor, currency)}
      stepped
    />
  );
}

export function BalanceCard() {
  const { wallet } = useApp();
  const w = wallet.wallet.value;
  const flash = wallet.balanceFlash.value;
  return (
    <section class="card balance-card" aria-labelledby="balance-title">
      <div class="card-head">
        <h2 id="balance-title">Balance</h2>
        {/* Badges about the wallet's history (the transparency log's "history verified") go in this slot. */}
        <div class="badge-slot" data-slot="verification" />
        <LiveIndicator />
      </div>
      <WalletPicker />
      {w === null ? (
        <div class="skeleton" aria-hidden="true">
          <span class="big" />
          <span class="short" />
        </div>
      ) : (
        <div aria-live="polite" aria-atomic="true">
          {/* A new key remounts the figures, which is what restarts the CSS highlight on every change. */}
          <div key={flash} class={flash > 0 ? "figures flash" : "figures"}>
            <p class="balance-line">
              <span class="visually-hidden">Balance: </span>
              <strong class="balance" data-testid="balance">
                {formatMinor(w.balance, w.currency)}
              </strong>
            </p>
            <dl class="sub-figures">
              <div>
                <dt>Available</dt>
                <dd data-testid="available">{formatMinor(w.available, w.currency)}</dd>
              </div>
              <div>
                <dt>Held</dt>
                <dd data-testid="held">{formatMinor(w.held, w.currency)}</dd>
              </div>
            </dl>
          </div>
        </div>
      )}
      {w !== null ? (
        <>
          <MonthFlows wallet={wallet} currency={w.currency} />
          <BalanceChart wallet={wallet} current={w.balance} currency={w.currency} />
          <p class="wallet-id">
            Wallet id: <code>{w.id}</code>
          </p>
        </>
      ) : null}
      <NewWalletForm />
    </section>
  );
}
