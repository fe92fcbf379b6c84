/**
 * The contract's JSON shapes of a movement (a transfer, a deposit, a withdrawal), shared by the routes that answer
 * with them (api/render.ts) and the events that carry them (movement-events.ts), so both show the same bytes.
 */
import type { MovementView } from "./rpc";

/** The contract's transfer shape. */
export function transferJson(m: MovementView): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: m.id,
    status: m.status,
    from_wallet_id: m.from_wallet_id,
    to_wallet_id: m.to_wallet_id,
    amount: m.amount,
    currency: m.currency,
    memo: m.memo,
    created_at: m.created_at,
    completed_at: m.completed_at,
  };
  if (m.failure_code !== null) out.failure_code = m.failure_code;
  // Contract v1.1 fields, after the v1 ones so that a v1 client's view of the bytes only grows at the end.
  out.refund_of = m.refund_of;
  out.refunded_amount = m.refunded_amount;
  out.payment_request_id = m.payment_request_id;
  return out;
}

/** A deposit's or withdrawal's shape: one wallet, no memo. */
export function singleWalletJson(m: MovementView): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: m.id,
    status: m.status,
    wallet_id: m.kind === "deposit" ? m.to_wallet_id : m.from_wallet_id,
    amount: m.amount,
    currency: m.currency,
    created_at: m.created_at,
    completed_at: m.completed_at,
  };
  if (m.failure_code !== null) out.failure_code = m.failure_code;
  return out;
}
