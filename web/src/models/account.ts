/**
 * Ties the models together: whenever the logged-in user changes, pick their wallet, follow it live and
 * resubmit their saved requests. Kept apart from the models it joins, which it is handed, so none of them
 * imports another's life cycle.
 */
import { createModel, effect, signal } from "@preact/signals";
import { formatMinor } from "../money";
import { sentenceFor, type FormContext } from "../errors";
import type { ContactsModel } from "./contacts";
import { LiveModel } from "./live";
import type { NoticesModel } from "./notices";
import type { MoveKind, PendingModel } from "./pending";
import type { RequestsModel } from "./requests";
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
  requests: RequestsModel;
  contacts: ContactsModel;
}

/**
 * The wiring of one app instance. Its effects follow the user, resubmit saved requests every
 * RESUME_EVERY_MS and when the browser comes back online, and report background outcomes as notices.
 * It creates and owns the live feed of the followed wallet (`live`), so disposing the model stops all of
 * that and closes the feed's socket, timers and listeners with it.
 */
export const AccountModel = createModel(({ session, wallet, pending, notices, requests, contacts }: AccountParts) => {
  /** The wallet the user picked, when they have more than one; otherwise their first. */
  const chosenWalletId = signal<string | null>(null);
  // Created inside this factory, so the live model's own effect (its listeners and, on dispose, its socket
  // and timers) is disposed together with this model.
  // Requests reach every wallet's feed of the payer, and the receiving wallet's of the requester, so following
  // the active wallet is enough for the inbox; a reconnect or a poll reloads the lists, since requests are not
  // replayed on resume.
  const live = new LiveModel(wallet, { onPaymentRequest: requests.applyRequest, onResync: () => void requests.reload() });
  let followedUserId: string | null = null;

  function follow(): void {
    const current = session.me.value;
    const wanted = chosenWalletId.value;
    const next = current?.wallets.find((w) => w.id === wanted) ?? current?.wallets[0] ?? null;
    followUser(current?.user.id ?? null, current?.user.handle ?? null);
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

  /** The per-user lists (requests, contacts) start afresh only when the user changes, not on every `me` reload. */
  function followUser(userId: string | null, handle: string | null): void {
    if (userId === followedUserId) return;
    followedUserId = userId;
    requests.follow(handle);
    if (userId === null) {
      chosenWalletId.value = null;
      contacts.clear();
    } else void contacts.load();
  }

  function resume(): void {
    const current = session.me.peek();
    if (current === null) return;
    pending.resumePending(current.user.id);
    // A request's changes are pushed to the requester's receiving wallet only; while another of their wallets is
    // shown, this reload is what keeps the outgoing list at most RESUME_EVERY_MS stale.
    void requests.reload();
  }

  effect(follow);
  effect(() => {
    pending.onBackgroundOutcome((record, outcome) => {
      const context: FormContext = record.kind === "transfer" ? "send" : record.kind;
      if (outcome.state === "done" && record.kind === "request") void requests.reload();
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

/**
 * The summary sentence stored with a request, shown in the pending panel and in notices. `who` is the other
 * party as the user named them: the recipient, the payer, or for a split the number of people.
 */
export function describeMove(kind: MoveKind, minor: number, currency: string, who?: string): string {
  const amount = formatMinor(minor, currency);
  const other = who ?? "someone";
  switch (kind) {
    case "deposit":
      return `Deposit ${amount}`;
    case "withdrawal":
      return `Withdraw ${amount}`;
    case "transfer":
      return `Send ${amount} to ${who ?? "recipient"}`;
    case "pay":
      return `Pay ${amount} requested by ${other}`;
    case "refund":
      return `Refund ${amount} to ${other}`;
    case "request":
      return `Request ${amount} from ${other}`;
    case "split":
      return `Split ${amount} among ${other}`;
  }
}
