/**
 * Delays: capped exponential back-off, jitter, and a promise that waits. Shared by the coordinator's wallet
 * calls, its recovery and outbox timing, the config check that depends on the jitter, and the self-audit.
 */

/** The most `jittered` stretches a delay: up to 50 % longer. */
export const JITTER_MAX_FACTOR = 1.5;

/** The delay before attempt `attempt + 1`: base * 2^(attempt-1), capped, with up to 50% jitter. */
export function backoffMs(attempt: number, base_ms: number, max_ms: number): number {
  const exponential = Math.min(max_ms, base_ms * 2 ** Math.min(attempt - 1, 20));
  return Math.round(exponential / 2 + Math.random() * (exponential / 2));
}

/**
 * `ms` stretched by a random 0-50 %: coordinators that became busy together (a burst of sign-ups, a payroll)
 * would otherwise wake together for every recovery check and outbox batch, and stall everything else at once.
 */
export function jittered(ms: number): number {
  return Math.round(ms * (1 + Math.random() * (JITTER_MAX_FACTOR - 1)));
}

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
