/**
 * The steps of each kind of movement, as plain async functions over ports (wallet calls, directory lookups,
 * failpoints). They decide the outcome; the coordinator records it. Every step is idempotent by the movement
 * id, so recovery simply runs the same function again from the top: a step that already happened answers
 * `exists` with what it did, and the run continues where the crash interrupted it.
 *
 * Transfer: check the sender, resolve the recipient, reserve on the sender, credit the recipient, capture
 * on the sender; a refused credit releases the hold instead. The only branch point after a hold is the
 * credit's answer, which is fixed for a given transfer id, so a replay always takes the same branch.
 */
import type {
  CaptureInput,
  CaptureResult,
  CreditInput,
  CreditResult,
  DepositInput,
  DepositResult,
  ReleaseInput,
  ReleaseResult,
  ReserveInput,
  ReserveResult,
  WithdrawInput,
  WithdrawResult,
} from "../wallet/rpc";
import { FAILURE_CODES, type Failpoint, type FailureCode, type Recipient } from "./rpc";
import type { ProducedEntry } from "./outbox";
import type { MovementRow } from "./schema";
import type { Resolution } from "./directory";
import type { ClaimRefundInput, ClaimRefundResult, ReleaseRefundResult, SettledRefund } from "./refund-rooms";

/** The wallet operations a movement needs, by wallet id. */
export interface WalletPort {
  reserve(walletId: string, input: ReserveInput): Promise<ReserveResult>;
  capture(walletId: string, input: CaptureInput): Promise<CaptureResult>;
  release(walletId: string, input: ReleaseInput): Promise<ReleaseResult>;
  credit(walletId: string, input: CreditInput): Promise<CreditResult>;
  deposit(walletId: string, input: DepositInput): Promise<DepositResult>;
  withdraw(walletId: string, input: WithdrawInput): Promise<WithdrawResult>;
}

/** The refund rooms of the coordinator that owns the refunded transfer (coordinator/refund-rooms.ts). */
export interface RefundPort {
  claim(input: ClaimRefundInput): Promise<ClaimRefundResult>;
  settle(transfer_id: string, refund_id: string): Promise<SettledRefund>;
  release(transfer_id: string, refund_id: string, reason: string): Promise<ReleaseRefundResult>;
}

/** The requester's coordinator of a request being paid (coordinator/payment-requests.ts). */
export interface RequestPort {
  claim(
    id: string,
    movement_id: string,
    amount: number,
  ): Promise<{ code: "claimed" | "exists" | "request_not_open" | "not_found" | "forbidden" }>;
  unclaim(id: string, movement_id: string): Promise<unknown>;
  settle(id: string, movement_id: string): Promise<unknown>;
}

/** Everything the steps touch outside the coordinator's own storage. */
export interface StepPorts {
  wallets: WalletPort;
  refunds: RefundPort;
  requests: RequestPort;
  /** The recipient's wallet in `currency` (a wallet id is taken as it is), or why there is none. */
  resolve(recipient: Recipient, currency: string): Promise<Resolution>;
  /** The currency of one of the user's wallets (null: no such wallet). */
  walletCurrency(walletId: string): Promise<string | null>;
  /** Whether a wallet with this id exists at all, to tell `forbidden` from `not_found`. */
  walletExists(walletId: string): Promise<boolean>;
  failpoint(name: Failpoint): void;
}

/** A movement's outcome, with the entries it produced (for the D1 mirror). */
export interface Decision {
  status: "succeeded" | "failed";
  failure_code: FailureCode | null;
  /** Set when the steps learned the paying wallet (a refund learns it from the refunded transfer). */
  from_wallet_id?: string | null;
  to_wallet_id: string | null;
  currency: string | null;
  entries: ProducedEntry[];
  /**
   * When the money finished moving: the time of the movement's last entry, read back from the wallet, so a
   * re-run after a crash derives the same outcome to the byte. Null for a refusal (recorded when decided).
   */
  completed_at: string | null;
  /** The recipient's user (a success to another wallet), read from the credited wallet: they get their own event. */
  to_user_id?: string;
  /** A refund's success: the refunded transfer as its `transfer.refunded` event shows it (JSON), from the settlement. */
  refunded_transfer?: string;
}

const KNOWN_FAILURES: ReadonlySet<string> = new Set<string>(FAILURE_CODES);

function failed(code: string, to_wallet_id: string | null = null, currency: string | null = null): Decision {
  if (!KNOWN_FAILURES.has(code)) throw new Error(`invariant: ${code} is not a failure code`);
  return { status: "failed", failure_code: code as FailureCode, to_wallet_id, currency, entries: [], completed_at: null };
}

/** Refuses a wallet the user does not own: 403 when it exists, 404 when it does not. */
async function ownershipRefusal(m: MovementRow, walletId: string, ports: StepPorts): Promise<Decision | null> {
  const owned: unknown = JSON.parse(m.owned_wallet_ids);
  if (Array.isArray(owned) && owned.includes(walletId)) return null;
  return failed((await ports.walletExists(walletId)) ? "forbidden" : "not_found");
}

function recipientOf(m: MovementRow): Recipient {
  if (m.recipient === null) throw new Error(`invariant: transfer ${m.id} has no recipient`);
  return JSON.parse(m.recipient) as Recipient;
}

function requireWallet(id: string | null, m: MovementRow): string {
  if (id === null) throw new Error(`invariant: movement ${m.id} has no wallet`);
  return id;
}

/** Runs (or resumes) a transfer to its outcome. */
export async function runTransfer(m: MovementRow, ports: StepPorts): Promise<Decision> {
  const from = requireWallet(m.from_wallet_id, m);
  const refusal = await ownershipRefusal(m, from, ports);
  if (refusal !== null) return refusal;
  const currency = await ports.walletCurrency(from);
  if (currency === null) return failed("not_found");
  const resolved = await ports.resolve(recipientOf(m), currency);
  ports.failpoint("after_resolve");
  // From here every refusal names the currency it was sent in: the sending wallet's, known to the sender.
  if (resolved.code !== "ok") return failed(resolved.code, null, currency);
  const to = resolved.wallet_id;
  if (to === from) return failed("same_wallet", to, currency);

  const reserved = await ports.wallets.reserve(from, { transfer_id: m.id, owner_id: m.user_id, amount: m.amount });
  ports.failpoint("after_reserve");
  if (reserved.code === "released") return failed(reserved.reason, to, currency);
  if (reserved.code === "insufficient_funds" || reserved.code === "daily_limit_exceeded")
    return failed(reserved.code, to, reserved.currency);
  if (reserved.code !== "reserved" && reserved.code !== "exists") return failed(reserved.code, to, currency);
  if (reserved.wallet.currency !== currency)
    throw new Error(`invariant: wallet ${from} holds ${reserved.wallet.currency}, D1 says ${currency}`);

  const credit = { transfer_id: m.id, amount: m.amount, currency, counterparty: from, memo: m.memo };
  const credited = await ports.wallets.credit(to, credit);
  ports.failpoint("after_credit");
  if (credited.code !== "credited" && credited.code !== "exists") {
    return releaseAfterRefusal(m, from, to, currency, credited.code, ports);
  }

  const captured = await ports.wallets.capture(from, { transfer_id: m.id, counterparty: to, memo: m.memo });
  ports.failpoint("after_capture");
  if (captured.code !== "captured" && captured.code !== "exists") {
    // The recipient has been credited, so the hold must be captured; anything else would create money.
    throw new Error(`invariant: capture of ${m.id} answered ${captured.code} after a credit`);
  }
  const entries = [
    { wallet_id: from, entry: captured.entry },
    { wallet_id: to, entry: credited.entry },
  ];
  return {
    status: "succeeded",
    failure_code: null,
    to_wallet_id: to,
    currency,
    entries,
    completed_at: captured.entry.created_at,
    to_user_id: credited.wallet.owner_id,
  };
}

async function releaseAfterRefusal(
  m: MovementRow,
  from: string,
  to: string,
  currency: string,
  code: string,
  ports: StepPorts,
): Promise<Decision> {
  const released = await ports.wallets.release(from, { transfer_id: m.id, reason: code });
  ports.failpoint("after_release");
  if (released.code !== "released" && released.code !== "exists") {
    throw new Error(`invariant: release of ${m.id} answered ${released.code}`);
  }
  return failed(code, to, currency);
}

/** Runs (or resumes) a deposit to its outcome. */
export async function runDeposit(m: MovementRow, ports: StepPorts): Promise<Decision> {
  const walletId = requireWallet(m.to_wallet_id, m);
  const refusal = await ownershipRefusal(m, walletId, ports);
  if (refusal !== null) return refusal;
  const result = await ports.wallets.deposit(walletId, { transfer_id: m.id, owner_id: m.user_id, amount: m.amount });
  ports.failpoint("after_credit");
  if (result.code !== "credited" && result.code !== "exists") return failed(result.code, walletId);
  const entries = [{ wallet_id: walletId, entry: result.entry }];
  return {
    status: "succeeded",
    failure_code: null,
    to_wallet_id: walletId,
    currency: result.wallet.currency,
    entries,
    completed_at: result.entry.created_at,
  };
}

/** Runs (or resumes) a withdrawal to its outcome. */
export async function runWithdrawal(m: MovementRow, ports: StepPorts): Promise<Decision> {
  const walletId = requireWallet(m.from_wallet_id, m);
  const refusal = await ownershipRefusal(m, walletId, ports);
  if (refusal !== null) return refusal;
  const result = await ports.wallets.withdraw(walletId, { transfer_id: m.id, owner_id: m.user_id, amount: m.amount });
  ports.failpoint("after_capture");
  if (result.code === "insufficient_funds" || result.code === "daily_limit_exceeded") return failed(result.code, null, result.currency);
  if (result.code !== "debited" && result.code !== "exists") return failed(result.code);
  const entries = [{ wallet_id: walletId, entry: result.entry }];
  return {
    status: "succeeded",
    failure_code: null,
    to_wallet_id: null,
    currency: result.wallet.currency,
    entries,
    completed_at: result.entry.created_at,
  };
}

/**
 * Runs (or resumes) a refund to its outcome: claim room on the refunded transfer (in the coordinator that owns
 * it), then move the money back as a transfer does, from the original recipient's wallet to the original
 * sender's (not counted toward the daily limit), and settle the claim; a refusal after the claim releases it,
 * so a refund refused for funds takes no room.
 */
export async function runRefund(m: MovementRow, ports: StepPorts): Promise<Decision> {
  const refund_of = requireRefunded(m);
  const owned = JSON.parse(m.owned_wallet_ids) as string[];
  const room = await ports.refunds.claim({
    transfer_id: refund_of,
    refund_id: m.id,
    amount: m.amount,
    requester: { user_id: m.user_id, wallet_ids: owned },
  });
  ports.failpoint("after_claim");
  if (room.code === "released") return failed(room.reason);
  if (room.code !== "claimed" && room.code !== "exists") return failed(room.code);
  const { from_wallet_id: from, to_wallet_id: to, currency } = room;
  const refused = async (code: string): Promise<Decision> => {
    await ports.refunds.release(refund_of, m.id, code);
    ports.failpoint("after_release");
    return { ...failed(code, to, currency), from_wallet_id: from };
  };

  const reserved = await ports.wallets.reserve(from, { transfer_id: m.id, owner_id: m.user_id, amount: m.amount, daily: false });
  ports.failpoint("after_reserve");
  if (reserved.code === "released") return refused(reserved.reason);
  if (reserved.code !== "reserved" && reserved.code !== "exists") return refused(reserved.code);

  const credited = await ports.wallets.credit(to, {
    transfer_id: m.id,
    amount: m.amount,
    currency,
    counterparty: from,
    memo: m.memo,
    refund_of,
  });
  ports.failpoint("after_credit");
  if (credited.code !== "credited" && credited.code !== "exists") {
    const released = await ports.wallets.release(from, { transfer_id: m.id, reason: credited.code });
    if (released.code !== "released" && released.code !== "exists")
      throw new Error(`invariant: release of ${m.id} answered ${released.code}`);
    return refused(credited.code);
  }

  const captured = await ports.wallets.capture(from, { transfer_id: m.id, counterparty: to, memo: m.memo, refund_of });
  ports.failpoint("after_capture");
  if (captured.code !== "captured" && captured.code !== "exists") {
    throw new Error(`invariant: capture of refund ${m.id} answered ${captured.code} after a credit`);
  }
  const settled = await ports.refunds.settle(refund_of, m.id);
  const entries = [
    { wallet_id: from, entry: captured.entry },
    { wallet_id: to, entry: credited.entry },
  ];
  return {
    status: "succeeded",
    failure_code: null,
    from_wallet_id: from,
    to_wallet_id: to,
    currency,
    entries,
    completed_at: captured.entry.created_at,
    to_user_id: credited.wallet.owner_id,
    refunded_transfer: settled.refunded_transfer,
  };
}

function requireRefunded(m: MovementRow): string {
  if (m.refund_of === null) throw new Error(`invariant: refund ${m.id} names no transfer`);
  return m.refund_of;
}

/**
 * Runs (or resumes) the pay of a payment request: the sender's wallet is checked, the request is claimed in its
 * requester's coordinator before any money is reserved, the transfer then runs like every other one (to the requester's
 * wallet, for the request's amount), and the claim then ends: `paid` by this transfer, or dropped (open again,
 * or expired) when the transfer was refused. A re-run finds its own claim, or the request paid by itself.
 */
export async function runPayment(m: MovementRow, ports: StepPorts): Promise<Decision> {
  const request_id = m.payment_request_id;
  if (request_id === null) throw new Error(`invariant: payment ${m.id} names no request`);
  const from = requireWallet(m.from_wallet_id, m);
  const refusal = await ownershipRefusal(m, from, ports);
  if (refusal !== null) return refusal;
  const claim = await ports.requests.claim(request_id, m.id, m.amount);
  ports.failpoint("after_claim");
  if (claim.code === "not_found" || claim.code === "forbidden" || claim.code === "request_not_open") return failed(claim.code);
  const decision = await runTransfer(m, ports);
  if (decision.status === "succeeded") await ports.requests.settle(request_id, m.id);
  else await ports.requests.unclaim(request_id, m.id);
  return decision;
}
