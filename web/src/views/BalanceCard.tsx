/**
 * Balance, available and held of the active wallet, with the live indicator. The figures sit in a polite,
 * atomic live region, and each change replays a short highlight (skipped under prefers-reduced-motion).
 */
import { formatMinor } from "../money";
import { useApp } from "./context";

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

export function BalanceCard() {
  const { wallet } = useApp();
  const w = wallet.wallet.value;
  const flash = wallet.balanceFlash.value;
  return (
    <section class="card balance-card" aria-labelledby="balance-title">
      <div class="card-head">
        <h2 id="balance-title">Balance</h2>
        <LiveIndicator />
      </div>
      <WalletPicker />
      {w === null ? (
        <p class="muted">Loading your wallet…</p>
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
        <p class="wallet-id">
          Wallet id: <code>{w.id}</code>
        </p>
      ) : null}
    </section>
  );
}
