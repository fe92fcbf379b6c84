/**
 * Which events a movement's outcome makes, and for whom (contract v1.1): a succeeded transfer (a refund is one
 * too) gives `transfer.succeeded` to its sender and to its recipient; a refund also gives both parties
 * `transfer.refunded` with the refunded transfer as it stands after this refund (the refunded transfer's
 * coordinator appends the original sender's copy in the settlement's own transaction, see refund-rooms.ts); a
 * refused transfer gives `transfer.failed` to its sender only; deposits and withdrawals give their one user
 * `deposit.succeeded` or `withdrawal.succeeded`. Bodies are the routes' shapes of the outcome, fixed here.
 */
import { singleWalletJson, transferJson } from "./movement-json";
import type { NewEvent } from "./events";
import { movementView } from "./movements";
import type { MovementRow } from "./schema";
import type { Decision } from "./steps";

/** The events of one outcome: this user's own, and those owed to another user. */
export interface OutcomeEvents {
  own: NewEvent[];
  others: { user_id: string; event: NewEvent }[];
}

/** The route's shape of a movement row, as an event's `data.object` (JSON). */
export function movementObject(done: MovementRow, refunded_amount = 0): string {
  const view = { ...movementView(done), refunded_amount };
  return JSON.stringify(view.kind === "transfer" ? transferJson(view) : singleWalletJson(view));
}

/** The events of a finished movement `done` (its row as written, or as it will be written) decided by `d`. */
export function outcomeEvents(done: MovementRow, d: Decision): OutcomeEvents {
  const object = movementObject(done);
  if (d.status === "failed") {
    const failed = done.kind === "transfer" ? [{ change_key: `${done.id}:failed`, type: "transfer.failed" as const, object }] : [];
    return { own: failed, others: [] };
  }
  if (done.kind === "deposit") return { own: [{ change_key: `${done.id}:succeeded`, type: "deposit.succeeded", object }], others: [] };
  if (done.kind === "withdrawal")
    return { own: [{ change_key: `${done.id}:succeeded`, type: "withdrawal.succeeded", object }], others: [] };
  const succeeded: NewEvent = { change_key: `${done.id}:succeeded`, type: "transfer.succeeded", object };
  const own = [succeeded];
  if (d.refunded_transfer !== undefined)
    own.push({ change_key: `${done.id}:refunded`, type: "transfer.refunded", object: d.refunded_transfer });
  const to = d.to_user_id;
  const others = to === undefined || to === done.user_id ? [] : [{ user_id: to, event: succeeded }];
  return { own, others };
}
