/**
 * Ties the models together: whenever the logged-in user changes, pick their wallet, follow it live and
 * resubmit their saved requests. Kept apart from the models it joins so none of them imports another's
 * life cycle.
 */
import { effect, signal } from "@preact/signals";
import { formatMinor } from "../money";
import { sentenceFor, type FormContext } from "../errors";
import { afterOwnAction, startLive, stopLive } from "./live";
import { pushNotice } from "./notices";
import { onBackgroundOutcome, resumePending } from "./pending";
import { me } from "./session";
import { activeWalletId, refresh, resetWallet } from "./wallet";

/** The wallet the user picked, when they have more than one; otherwise their first. */
export const chosenWalletId = signal<string | null>(null);

/** How often saved requests are tried again while the page stays open. */
const RESUME_EVERY_MS = 30_000;

function follow(): void {
  const current = me.value;
  const wanted = chosenWalletId.value;
  if (current === null) {
    stopLive();
    resetWallet(null);
    return;
  }
  const next = current.wallets.find((w) => w.id === wanted) ?? current.wallets[0] ?? null;
  if (next === null) {
    stopLive();
    resetWallet(null);
    return;
  }
  // `me` is reloaded after login and register; only a different wallet restarts the feed.
  if (next.id !== activeWalletId()) {
    resetWallet(next);
    void refresh();
    startLive(next.id);
  }
  resumePending(current.user.id);
}

/** Starts the wiring; called once by main. */
export function startAccountSync(): void {
  effect(follow);
  onBackgroundOutcome((record, outcome) => {
    const context: FormContext = record.kind === "transfer" ? "send" : record.kind;
    if (outcome.state === "done") pushNotice(`Confirmed: ${record.summary}.`, "ok");
    if (outcome.state === "refused") pushNotice(`Not done: ${record.summary}. ${sentenceFor(outcome.error, context)}`, "error");
    afterOwnAction();
  });
  const resume = (): void => {
    const current = me.value;
    if (current !== null) resumePending(current.user.id);
  };
  setInterval(resume, RESUME_EVERY_MS);
  window.addEventListener("online", resume);
}

/** The summary sentence stored with a request, shown in the pending panel and in notices. */
export function describeMove(kind: "deposit" | "withdrawal" | "transfer", minor: number, currency: string, to?: string): string {
  const amount = formatMinor(minor, currency);
  if (kind === "deposit") return `Deposit ${amount}`;
  if (kind === "withdrawal") return `Withdraw ${amount}`;
  return `Send ${amount} to ${to ?? "recipient"}`;
}
