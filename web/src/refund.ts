/** Refund arithmetic, pure so that Node can test it. */
import type { Transfer } from "./types";

/**
 * What is left to refund of a received transfer, in minor units: its amount less its succeeded refunds (GET
 * /transfers/{id} shows them), or 0 when it cannot be refunded at all (it did not succeed, or is a refund).
 */
export function refundableOf(transfer: Pick<Transfer, "status" | "refund_of" | "amount" | "refunded_amount">): number {
  if (transfer.status !== "succeeded" || transfer.refund_of !== null) return 0;
  const rest = transfer.amount - transfer.refunded_amount;
  return Number.isSafeInteger(rest) && rest > 0 ? rest : 0;
}
