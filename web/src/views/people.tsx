/**
 * The other side of an entry as a person would name it (issue 18): their display name when the client knows
 * who owns the wallet (models/directory.ts, payment requests and the transfers that paid them, contacts), "@handle"
 * without a display name, a short wallet id otherwise; and an avatar of initials. Deposits and withdrawals are
 * with the bank.
 */
import type { AppModel } from "../models/app";
import { initialsOf } from "../insights";
import type { Entry } from "../types";

export interface Party {
  /** What the row shows: "Bob Smith", "@bob", "Wallet 1a2b3c…", or "Bank". */
  name: string;
  handle: string | null;
  initials: string;
  bank: boolean;
}

function handleOf(app: AppModel, entry: Entry, walletId: string): string | null {
  // A payment of a request names both sides: the payer of the user's own request, the requester of one they paid.
  for (const request of app.requests.outgoing.value) {
    if (request.transfer_id === entry.transfer_id && "handle" in request.payer) return request.payer.handle;
  }
  for (const request of app.requests.incoming.value) {
    if (request.transfer_id === entry.transfer_id) return request.requester.handle;
  }
  const known = app.directory.handles.value.get(walletId);
  if (known !== undefined) return known;
  for (const request of [...app.requests.incoming.value, ...app.requests.outgoing.value]) {
    if (request.requester_wallet_id === walletId) return request.requester.handle;
  }
  return null;
}

/** Who `entry` was with. */
export function partyOf(app: AppModel, entry: Entry): Party {
  if (entry.counterparty === null) return { name: "Bank", handle: null, initials: entry.kind === "deposit" ? "↓" : "↑", bank: true };
  const handle = handleOf(app, entry, entry.counterparty);
  if (handle === null) return { name: `Wallet ${entry.counterparty.slice(0, 8)}…`, handle: null, initials: "?", bank: false };
  const contact = app.contacts.contacts.value.find((c) => c.handle === handle);
  const display = contact !== undefined && contact.display_name.trim() !== "" ? contact.display_name : null;
  return { name: display ?? `@${handle}`, handle, initials: initialsOf(display ?? handle), bank: false };
}

/** A round avatar of initials; decorative, since the name is always written beside it. */
export function Avatar({ party }: { party: Party }) {
  return (
    <span class={party.bank ? "avatar bank" : "avatar"} aria-hidden="true">
      {party.initials}
    </span>
  );
}
