/**
 * The wallet's state machine as pure functions. Each `plan*` takes the current rows and an input and returns
 * the result to give the caller plus the rows to write; it performs no I/O. The wallet object reads the rows,
 * asks for a plan and writes it in one synchronous transaction, so the balance and its entry always commit
 * together. Being pure, the same functions are checked against a simple model by the property tests.
 */
import { GENESIS_HASH, entryHash } from "../domain/hash-chain";
import { assertAmount, assertNonNegative } from "../domain/money";
import type { EntryKind, EntryView, WalletView } from "../domain/views";
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
} from "./rpc";
import type { EntryRow, HoldRow, WalletRow } from "./schema";

/** The limits a wallet enforces, from the validated config. */
export interface WalletLimits {
  daily_limit_minor: number;
  max_balance_minor: number;
}

/** What to write, and what to answer. Absent rows are not written. */
export interface Plan<R> {
  result: R;
  wallet?: WalletRow;
  hold?: HoldRow;
  entry?: EntryRow;
}

/** The UTC calendar day of `ms`, as `YYYY-MM-DD`: the daily limit's window. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Throws unless `w` satisfies every wallet invariant. Called after each read and before each write. */
export function assertWallet(w: WalletRow): void {
  assertNonNegative(w.balance, "balance");
  assertNonNegative(w.held, "held");
  assertNonNegative(w.version, "version");
  assertNonNegative(w.last_seq, "last_seq");
  assertNonNegative(w.daily_used, "daily_used");
  if (w.held > w.balance) throw new Error(`invariant: held ${w.held} exceeds balance ${w.balance}`);
}

/** The contract's view of a wallet row. */
export function walletView(w: WalletRow): WalletView {
  return {
    id: w.id,
    owner_id: w.owner_id,
    currency: w.currency,
    balance: w.balance,
    available: w.balance - w.held,
    held: w.held,
    version: w.version,
    chain: { head_seq: w.last_seq, head_hash: w.head_hash, verified_seq: w.verified_seq },
  };
}

/** The contract's view of an entry row. */
export function entryView(e: EntryRow): EntryView {
  return {
    id: e.id,
    seq: e.seq,
    kind: e.kind,
    amount: e.amount,
    balance_after: e.balance_after,
    transfer_id: e.transfer_id,
    counterparty: e.counterparty,
    memo: e.memo,
    created_at: e.created_at,
    prev_hash: e.prev_hash,
    hash: e.hash,
    refund_of: e.refund_of,
  };
}

/** A new wallet row, empty, with the genesis hash as its chain head. */
export function newWallet(id: string, owner_id: string, currency: string, now_ms: number): WalletRow {
  return {
    id,
    owner_id,
    currency,
    balance: 0,
    held: 0,
    version: 0,
    last_seq: 0,
    head_hash: GENESIS_HASH,
    daily_day: utcDay(now_ms),
    daily_used: 0,
    created_at: new Date(now_ms).toISOString(),
    verified_seq: 0,
    verified_hash: GENESIS_HASH,
  };
}

interface EntryFields {
  kind: EntryKind;
  amount: number;
  transfer_id: string;
  counterparty: string | null;
  memo: string | null;
  refund_of?: string | null;
}

/** The next link of the chain and the wallet row that points at it, with `amount` applied to the balance. */
function appendEntry(w: WalletRow, fields: EntryFields, now_ms: number): { wallet: WalletRow; entry: EntryRow } {
  const seq = w.last_seq + 1;
  const balance_after = w.balance + fields.amount;
  const unhashed = {
    id: `ent_${w.id.slice(4)}_${seq}`,
    seq,
    kind: fields.kind,
    amount: fields.amount,
    balance_after,
    transfer_id: fields.transfer_id,
    counterparty: fields.counterparty,
    memo: fields.memo,
    created_at: new Date(now_ms).toISOString(),
    prev_hash: w.head_hash,
  };
  const entry: EntryRow = { ...unhashed, hash: entryHash(w.id, unhashed), refund_of: fields.refund_of ?? null };
  const wallet: WalletRow = { ...w, balance: balance_after, version: w.version + 1, last_seq: seq, head_hash: entry.hash };
  return { wallet, entry };
}

/** The wallet with its daily counter moved to `day` (reset when the UTC day has changed). */
function onDay(w: WalletRow, day: string): WalletRow {
  return w.daily_day === day ? w : { ...w, daily_day: day, daily_used: 0 };
}

function assertSameEntry(e: EntryRow, kind: EntryKind, amount: number): void {
  if (e.kind !== kind || e.amount !== amount) {
    throw new Error(`invariant: ${e.transfer_id} was already recorded as ${e.kind} ${e.amount}, not ${kind} ${amount}`);
  }
}

/** Reserve funds for an outgoing transfer: the balance check happens here, once, for the whole transfer. */
export function planReserve(
  w: WalletRow,
  hold: HoldRow | null,
  input: ReserveInput,
  limits: WalletLimits,
  now_ms: number,
): Plan<ReserveResult> {
  assertAmount(input.amount);
  if (hold !== null) return { result: replayReserve(w, hold, input) };
  if (input.owner_id !== w.owner_id) return { result: { code: "forbidden" } };
  const day = utcDay(now_ms);
  const current = onDay(w, day);
  const counted = input.daily !== false;
  if (current.balance - current.held < input.amount) return { result: { code: "insufficient_funds", currency: w.currency } };
  if (counted && current.daily_used + input.amount > limits.daily_limit_minor)
    return { result: { code: "daily_limit_exceeded", currency: w.currency } };
  const wallet: WalletRow = {
    ...current,
    held: current.held + input.amount,
    daily_used: current.daily_used + (counted ? input.amount : 0),
    version: current.version + 1,
  };
  const newHold: HoldRow = {
    transfer_id: input.transfer_id,
    amount: input.amount,
    state: "held",
    day,
    release_reason: null,
    created_at_ms: now_ms,
    resolved_at_ms: null,
    daily_counted: counted ? 1 : 0,
  };
  return { result: { code: "reserved", wallet: walletView(wallet) }, wallet, hold: newHold };
}

function replayReserve(w: WalletRow, hold: HoldRow, input: ReserveInput): ReserveResult {
  if (hold.state === "released") return { code: "released", reason: hold.release_reason ?? "released" };
  if (hold.amount !== input.amount) {
    throw new Error(`invariant: hold ${hold.transfer_id} is for ${hold.amount}, not ${input.amount}`);
  }
  return { code: "exists", state: hold.state, wallet: walletView(w) };
}

/** Post a held transfer: the balance and the hold drop by its amount and a `transfer_out` entry is chained. */
export function planCapture(
  w: WalletRow,
  hold: HoldRow | null,
  existing: EntryRow | null,
  input: CaptureInput,
  now_ms: number,
): Plan<CaptureResult> {
  if (hold === null) return { result: { code: "no_hold" } };
  if (hold.state === "released") return { result: { code: "released" } };
  if (hold.state === "captured") {
    if (existing === null) throw new Error(`invariant: captured hold ${hold.transfer_id} has no entry`);
    assertSameEntry(existing, "transfer_out", -hold.amount);
    return { result: { code: "exists", entry: entryView(existing), wallet: walletView(w) } };
  }
  const fields = {
    kind: "transfer_out" as const,
    amount: -hold.amount,
    transfer_id: hold.transfer_id,
    counterparty: input.counterparty,
    memo: input.memo,
    refund_of: input.refund_of ?? null,
  };
  const appended = appendEntry({ ...w, held: w.held - hold.amount }, fields, now_ms);
  const captured: HoldRow = { ...hold, state: "captured", resolved_at_ms: now_ms };
  return {
    result: { code: "captured", entry: entryView(appended.entry), wallet: walletView(appended.wallet) },
    wallet: appended.wallet,
    hold: captured,
    entry: appended.entry,
  };
}

/**
 * Void a hold. Releasing a hold that does not exist writes a released tombstone, so a reserve that arrives
 * late (after the coordinator gave up on it) can never take funds for a transfer that has already failed.
 */
export function planRelease(w: WalletRow, hold: HoldRow | null, input: ReleaseInput, now_ms: number): Plan<ReleaseResult> {
  if (hold === null) {
    const tombstone: HoldRow = {
      transfer_id: input.transfer_id,
      amount: 0,
      state: "released",
      day: utcDay(now_ms),
      release_reason: input.reason,
      created_at_ms: now_ms,
      resolved_at_ms: now_ms,
      daily_counted: 0,
    };
    return { result: { code: "released", wallet: walletView(w) }, hold: tombstone };
  }
  if (hold.state === "released") return { result: { code: "exists", wallet: walletView(w) } };
  if (hold.state === "captured") return { result: { code: "captured" } };
  // A released hold no longer counts towards today's limit; one from an earlier day already rolled off.
  const refund = hold.daily_counted === 1 && hold.day === w.daily_day ? Math.min(hold.amount, w.daily_used) : 0;
  const wallet: WalletRow = { ...w, held: w.held - hold.amount, daily_used: w.daily_used - refund, version: w.version + 1 };
  const released: HoldRow = { ...hold, state: "released", release_reason: input.reason, resolved_at_ms: now_ms };
  return { result: { code: "released", wallet: walletView(wallet) }, wallet, hold: released };
}

/** Credit an incoming transfer: a `transfer_in` entry, refused for another currency or past the balance cap. */
export function planCredit(
  w: WalletRow,
  existing: EntryRow | null,
  input: CreditInput,
  limits: WalletLimits,
  now_ms: number,
): Plan<CreditResult> {
  assertAmount(input.amount);
  if (existing !== null) {
    assertSameEntry(existing, "transfer_in", input.amount);
    return { result: { code: "exists", entry: entryView(existing), wallet: walletView(w) } };
  }
  if (input.currency !== w.currency) return { result: { code: "currency_mismatch" } };
  if (w.balance + input.amount > limits.max_balance_minor) return { result: { code: "balance_limit_exceeded" } };
  const fields = {
    kind: "transfer_in" as const,
    amount: input.amount,
    transfer_id: input.transfer_id,
    counterparty: input.counterparty,
    memo: input.memo,
    refund_of: input.refund_of ?? null,
  };
  const { wallet, entry } = appendEntry(w, fields, now_ms);
  return { result: { code: "credited", entry: entryView(entry), wallet: walletView(wallet) }, wallet, entry };
}

/** A top-up from outside the system, by the wallet's owner. */
export function planDeposit(
  w: WalletRow,
  existing: EntryRow | null,
  input: DepositInput,
  limits: WalletLimits,
  now_ms: number,
): Plan<DepositResult> {
  assertAmount(input.amount);
  if (existing !== null) {
    assertSameEntry(existing, "deposit", input.amount);
    return { result: { code: "exists", entry: entryView(existing), wallet: walletView(w) } };
  }
  if (input.owner_id !== w.owner_id) return { result: { code: "forbidden" } };
  if (w.balance + input.amount > limits.max_balance_minor) return { result: { code: "balance_limit_exceeded" } };
  const fields = { kind: "deposit" as const, amount: input.amount, transfer_id: input.transfer_id, counterparty: null, memo: null };
  const { wallet, entry } = appendEntry(w, fields, now_ms);
  return { result: { code: "credited", entry: entryView(entry), wallet: walletView(wallet) }, wallet, entry };
}

/** A withdrawal to outside the system, by the owner, from available funds and within the daily limit. */
export function planWithdraw(
  w: WalletRow,
  existing: EntryRow | null,
  input: WithdrawInput,
  limits: WalletLimits,
  now_ms: number,
): Plan<WithdrawResult> {
  assertAmount(input.amount);
  if (existing !== null) {
    assertSameEntry(existing, "withdrawal", -input.amount);
    return { result: { code: "exists", entry: entryView(existing), wallet: walletView(w) } };
  }
  if (input.owner_id !== w.owner_id) return { result: { code: "forbidden" } };
  const current = onDay(w, utcDay(now_ms));
  if (current.balance - current.held < input.amount) return { result: { code: "insufficient_funds", currency: w.currency } };
  if (current.daily_used + input.amount > limits.daily_limit_minor)
    return { result: { code: "daily_limit_exceeded", currency: w.currency } };
  const fields = { kind: "withdrawal" as const, amount: -input.amount, transfer_id: input.transfer_id, counterparty: null, memo: null };
  const { wallet, entry } = appendEntry({ ...current, daily_used: current.daily_used + input.amount }, fields, now_ms);
  return { result: { code: "debited", entry: entryView(entry), wallet: walletView(wallet) }, wallet, entry };
}
