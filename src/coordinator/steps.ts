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

/** The wallet operations a movement needs, by wallet id. */
export interface WalletPort {
  reserve(walletId: string, input: ReserveInput): Promise<ReserveResult>;
  capture(walletId: string, input: CaptureInput): Promise<CaptureResult>;
  release(walletId: string, input: ReleaseInput): Promise<ReleaseResult>;
  credit(walletId: string, input: CreditInput): Promise<CreditResult>;
  deposit(walletId: string, input: DepositInput): Promise<DepositResult>;
  withdraw(walletId: string, input: WithdrawInput): Promise<WithdrawResult>;
}

/** Everything the steps touch outside the coordinator's own storage. */
export interface StepPorts {
  wallets: WalletPort;
  /** The recipient's wallet id, or null when nobody is registered under that handle or phone. */
  resolve(recipient: Recipient): Promise<string | null>;
  /** Whether a wallet with this id exists at all, to tell `forbidden` from `not_found`. */
  walletExists(walletId: string): Promise<boolean>;
  failpoint(name: Failpoint): void;
}

/** A movement's outcome, with the entries it produced (for the D1 mirror). */
export interface Decision {
  status: "succeeded" | "failed";
  failure_code: FailureCode | null;
  to_wallet_id: string | null;
  currency: string | null;
  entries: ProducedEntry[];
  /**
   * When the money finished moving: the time of the movement's last entry, read back from the wallet, so a
   * re-run after a crash derives the same outcome to the byte. Null for a refusal (recorded when decided).
   */
  completed_at: string | null;
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
  const to = await ports.resolve(recipientOf(m));
  ports.failpoint("after_resolve");
  if (to === null) return failed("not_found");
  if (to === from) return failed("same_wallet", to);

  const reserved = await ports.wallets.reserve(from, { transfer_id: m.id, owner_id: m.user_id, amount: m.amount });
  ports.failpoint("after_reserve");
  if (reserved.code === "released") return failed(reserved.reason, to);
  if (reserved.code === "insufficient_funds" || reserved.code === "daily_limit_exceeded")
    return failed(reserved.code, to, reserved.currency);
  if (reserved.code !== "reserved" && reserved.code !== "exists") return failed(reserved.code, to);
  const currency = reserved.wallet.currency;

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
  return { status: "succeeded", failure_code: null, to_wallet_id: to, currency, entries, completed_at: captured.entry.created_at };
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
