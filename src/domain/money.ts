/**
 * Money is an integer number of minor units everywhere. D1 and Durable Object SQLite store 64-bit integers,
 * but JavaScript numbers are exact only up to 2^53 - 1 and neither binding accepts BigInt, so every amount
 * and balance is asserted to be a safe integer where it crosses a boundary (request, RPC, storage read).
 */

/** Throws unless `value` is a safe integer; `what` names the field in the message. */
export function assertSafeInteger(value: unknown, what: string): asserts value is number {
  if (typeof value !== "number" || !Number.isSafeInteger(value)) {
    throw new Error(`invariant: ${what} must be a safe integer, got ${String(value)}`);
  }
}

/** Throws unless `value` is a valid amount: a safe integer of at least 1 minor unit. */
export function assertAmount(value: unknown, what = "amount"): asserts value is number {
  assertSafeInteger(value, what);
  if (value < 1) throw new Error(`invariant: ${what} must be at least 1, got ${value}`);
}

/** Throws unless `value` is a safe integer >= 0 (a balance, a held total, a counter). */
export function assertNonNegative(value: unknown, what: string): asserts value is number {
  assertSafeInteger(value, what);
  if (value < 0) throw new Error(`invariant: ${what} must not be negative, got ${value}`);
}
