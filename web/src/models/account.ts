/**
 * Ties the models together: whenever the logged-in user changes, pick their wallet, follow it live and
 * resubmit their saved requests. Kept apart from the models it joins, which it is handed, so none of them
 * imports another's life cycle.
 */
import { createModel, effect, signal } from "@preact/signals";
import { formatMinor } from "../money";
import { sentenceFor, type FormContext } from "../errors";
import { LiveModel } from "./live";
import type { NoticesModel } from "./notices";
import type { PendingModel } from "./pending";
import type { SessionModel } from "./session";
import type { WalletModel } from "./wallet";

/** How often saved requests are tried again while the page stays open. */
export const RESUME_EVERY_MS = 30_000;

/** The models the account wiring joins. */
export interface AccountParts {
  session: SessionModel;
  wallet: WalletModel;
  pending: PendingModel;
  notices: NoticesModel;
}

/**
 * The wiring of one app instance. Its effects follow the user, resubmit saved requests every
 * RESUME_EVERY_MS and when the browser comes back online, and report background outcomes as notices.
 * It creates and owns the live feed of the followed wallet (`live`), so disposing the model stops all of
 * that and closes the feed's socket, timers and listeners with it.
 */
export const AccountModel = createModel(({ session, wallet, pending, notices }: AccountParts) => {
  /** The wallet the user picked, when they have more than one; otherwise their first. */
  const chosenWalletId = signal<string | null>(null);
  // Created inside this factory, so the live model's own effect (its listeners and, on dispose, its socket
  // and timers) is disposed together with this model.
  const live = new LiveModel(wallet);

  function follow(): void {
    const current = session.me.value;
    const wanted = chosenWalletId.value;
    const next = current?.wallets.find((w) => w.id === wanted) ?? current?.wallets[0] ?? null;
    if (current === null || next === null) {
      live.stop();
      wallet.resetWallet(null);
      return;
    }
    // `me` is reloaded after login and register; only a different wallet restarts the feed.
    if (next.id !== wallet.activeWalletId()) {
      wallet.resetWallet(next);
      void wallet.refresh();
      live.start(next.id);
    }
    pending.resumePending(current.user.id);
  }

  function resume(): void {
    const current = session.me.peek();
    if (current !== null) pending.resumePending(current.user.id);
  }

  effect(follow);
  effect(() => {
    pending.onBackgroundOutcome((record, outcome) => {
      const context: FormContext = record.kind === "transfer" ? "send" : record.kind;
      if (outcome.state === "done") notices.pushNotice(`Confirmed: ${record.summary}.`, "ok");
      if (outcome.state === "refused") notices.pushNotice(`Not done: ${record.summary}. ${sentenceFor(outcome.error, context)}`, "error");
      live.afterOwnAction();
    });
    return () => pending.onBackgroundOutcome(() => undefined);
  });
  effect(() => {
    const timer = setInterval(resume, RESUME_EVERY_MS);
    window.addEventListener("online", resume);
    return () => {
      clearInterval(timer);
      window.removeEventListener("online", resume);
    };
  });

  return { chosenWalletId, live };
});

export type AccountModel = InstanceType<typeof AccountModel>;

/** The summary sentence stored with a request, shown in the pending panel and in notices. */
export function describeMove(kind: "deposit" | "withdrawal" | "transfer", minor: number, currency: string, to?: string): string {
  const amount = formatMinor(minor, currency);
  if (kind === "deposit") return `Deposit ${amount}`;
  if (kind === "withdrawal") return `Withdraw ${amount}`;
  return `Send ${amount} to ${to ?? "recipient"}`;
}
