/**
 * Signed statements: a wallet's entries over a period of UTC days, with the opening and closing balances and
 * the totals in and out, signed with the receipt key over the canonical JSON of `statement` (exactly as
 * receipts are, audit/receipts.ts), so `npm run verify-receipt` checks both offline.
 *
 * A statement is assembled from entries the wallet returned page by page, and its arithmetic is checked here
 * before anything is signed or sent: every `balance_after` follows from the one before, the seqs are
 * contiguous, `closing = opening + total_in - total_out` and equals the last entry's `balance_after`, and the
 * chain head is the last entry. A failure is an invariant broken in storage or in transit: the route answers
 * 500 and logs it, and never sends a statement that does not add up.
 */
import type { EntryView } from "../domain/views";
import { signCanonical, type ReceiptSecretVars } from "./receipts";

/** What a statement attests (the contract's `statement`). Money in minor units, entries oldest first. */
export interface Statement {
  wallet_id: string;
  currency: string;
  /** First UTC day, YYYY-MM-DD. */
  from: string;
  /** Last UTC day (inclusive), YYYY-MM-DD. */
  to: string;
  opening_balance: number;
  total_in: number;
  total_out: number;
  closing_balance: number;
  entries: EntryView[];
  chain_head: { seq: number; hash: string };
}

/** A statement and its signature. */
export interface SignedStatement {
  statement: Statement;
  signature: { alg: "Ed25519"; key_id: string; value: string };
}

/** The statement's figures do not add up: never sent, answered as a 500 and logged. */
export class StatementInconsistent extends Error {}

/** The totals pass 2^53 - 1 and cannot be written as the contract's integers: a shorter period is needed. */
export class StatementTotalsTooLarge extends Error {}

/** What the wallet said about the period (wallet/find-rpc.ts), with the entries it returned. */
export interface StatementParts {
  wallet_id: string;
  currency: string;
  from: string;
  to: string;
  /** The seq the first entry must have. */
  lo: number;
  opening_balance: number;
  chain_head: { seq: number; hash: string };
  entries: EntryView[];
}

/** Assembles the statement and checks its arithmetic; throws StatementInconsistent if anything is off. */
export function assembleStatement(parts: StatementParts): Statement {
  let running = BigInt(parts.opening_balance);
  let total_in = 0n;
  let total_out = 0n;
  parts.entries.forEach((e, i) => {
    if (e.seq !== parts.lo + i) throw new StatementInconsistent(`entry ${i} has seq ${e.seq}, expected ${parts.lo + i}`);
    running += BigInt(e.amount);
    if (e.amount > 0) total_in += BigInt(e.amount);
    else total_out -= BigInt(e.amount);
    if (BigInt(e.balance_after) !== running)
      throw new StatementInconsistent(`entry ${e.seq}: balance_after ${e.balance_after}, computed ${running}`);
  });
  const closing = BigInt(parts.opening_balance) + total_in - total_out;
  const last = parts.entries[parts.entries.length - 1];
  if (closing !== running || (last !== undefined && BigInt(last.balance_after) !== closing)) {
    throw new StatementInconsistent(`closing ${closing} does not match the last balance ${running}`);
  }
  if (last !== undefined && (parts.chain_head.seq !== last.seq || parts.chain_head.hash !== last.hash)) {
    throw new StatementInconsistent(`chain head ${parts.chain_head.seq} is not the last entry ${last.seq}`);
  }
  if (!safe(total_in) || !safe(total_out) || !safe(closing)) throw new StatementTotalsTooLarge("totals pass 2^53 - 1");
  return {
    wallet_id: parts.wallet_id,
    currency: parts.currency,
    from: parts.from,
    to: parts.to,
    opening_balance: parts.opening_balance,
    total_in: Number(total_in),
    total_out: Number(total_out),
    closing_balance: Number(closing),
    entries: parts.entries,
    chain_head: parts.chain_head,
  };
}

function safe(n: bigint): boolean {
  return n >= 0n && n <= BigInt(Number.MAX_SAFE_INTEGER);
}

/** Signs a statement with the receipt key. */
export async function signStatement(vars: ReceiptSecretVars, statement: Statement): Promise<SignedStatement> {
  return { statement, signature: await signCanonical(vars, statement) };
}
