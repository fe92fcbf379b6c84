/**
 * A payment request's two shapes and the way between them: the row the requester's coordinator stores, made
 * from what the requester asked for, and the contract's `payment_request` view read back from that row (with a
 * payer's phone decrypted for the view and sealed again in the events stored from it). These are pure of the
 * desk's wiring to other objects (request-desk.ts): they need only the row, the clock and the phone keys.
 */
import { decryptPhone } from "../auth/phone";
import { sealPhonesInJson } from "../auth/phone-text";
import { newRequestId } from "../domain/ids";
import type { NewEvent } from "./events";
import { isDue } from "./payment-requests";
import type { PaymentRequestRow } from "./schema";
import { requestEvents, type CreateRequestsInput, type NewShare, type PaymentRequestView, type StoredPayer } from "./request-views";

/** The row of one share of a new request: open, owed to its payer's notice, and expiring `expires_in_s` from now. */
export function newRequestRow(
  input: CreateRequestsInput,
  share: NewShare,
  currency: string,
  split_id: string | null,
  now_ms: number,
): PaymentRequestRow {
  const { handle, display_name } = input.requester;
  return {
    id: newRequestId(input.requester.user_id),
    status: "open",
    requester: JSON.stringify({ handle, display_name }),
    requester_wallet_id: input.wallet_id,
    payer_user_id: share.payer_user_id,
    payer: JSON.stringify(share.payer),
    amount: share.amount,
    currency,
    memo: input.memo,
    split_id,
    created_at: new Date(now_ms).toISOString(),
    created_at_ms: now_ms,
    expires_at_ms: now_ms + input.expires_in_s * 1_000,
    resolved_at: null,
    transfer_id: null,
    claimed_by: null,
    notify_pending: 1,
  };
}

/**
 * The contract's view of a stored request at `now_ms`. A request past its expiry shows as expired even before
 * the expiry is written (a full disk may have refused the write), resolved at the moment it expired.
 */
export async function requestView(env: Env, row: PaymentRequestRow, now_ms: number): Promise<PaymentRequestView> {
  const status = isDue(row, now_ms) ? "expired" : row.status;
  return {
    id: row.id,
    status,
    requester: JSON.parse(row.requester) as PaymentRequestView["requester"],
    requester_wallet_id: row.requester_wallet_id,
    payer: await payerView(env, JSON.parse(row.payer) as StoredPayer),
    amount: row.amount,
    currency: row.currency,
    memo: row.memo,
    created_at: row.created_at,
    expires_at: new Date(row.expires_at_ms).toISOString(),
    resolved_at: status === "expired" && row.resolved_at === null ? new Date(row.expires_at_ms).toISOString() : row.resolved_at,
    transfer_id: row.transfer_id,
    split_id: row.split_id,
  };
}

/** The events `view` owes, with a payer's phone sealed: an event's body is stored as it is served (auth/phone-text.ts). */
export async function sealedRequestEvents(env: Env, view: PaymentRequestView): Promise<NewEvent[]> {
  return Promise.all(requestEvents(view).map(async (e) => ({ ...e, object: await sealPhonesInJson(env, e.object) })));
}

/** The payer as the view shows them: a handle as stored, a phone decrypted ("unavailable" when its key is gone). */
async function payerView(env: Env, payer: StoredPayer): Promise<PaymentRequestView["payer"]> {
  if ("handle" in payer) return payer;
  return { phone: (await decryptPhone(env, payer.phone.cipher, payer.phone.key_id)) ?? "unavailable" };
}
