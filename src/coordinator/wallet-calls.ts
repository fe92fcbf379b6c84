/**
 * Calls from a coordinator to a wallet object, with a bounded retry. Every wallet method is idempotent by
 * transfer id, so a call may safely run twice; still, only errors the runtime marks `retryable` (and not
 * `overloaded`, which more traffic would only worsen) are retried here, at most `max_attempts` times with a
 * capped exponential back-off. Anything else is left to the alarm, which resumes the movement later.
 */
import type { WalletObject } from "../wallet-object";
import { backoffMs, sleep } from "../domain/delays";
import type { WalletPort } from "./steps";

/** Attempts and back-off for one step, from the config. */
export interface RetryPolicy {
  max_attempts: number;
  base_ms: number;
  max_ms: number;
}

/** Thrown when a step could not complete now; the movement stays `started` and recovery resumes it. */
export class StepUnavailable extends Error {
  override readonly name = "StepUnavailable";
}

function flag(error: unknown, name: "retryable" | "overloaded"): boolean {
  return typeof error === "object" && error !== null && (error as Record<string, unknown>)[name] === true;
}

/** True for errors worth retrying at once: marked retryable by the runtime and not an overload. */
export function isRetryable(error: unknown): boolean {
  return flag(error, "retryable") && !flag(error, "overloaded");
}

/**
 * Runs `call` against the wallet named `walletId`, taking a fresh stub for every attempt (a stub that threw
 * may be broken). Throws StepUnavailable when the attempts are spent or the error is not retryable.
 */
export async function callWallet<R>(
  namespace: DurableObjectNamespace<WalletObject>,
  walletId: string,
  policy: RetryPolicy,
  call: (wallet: DurableObjectStub<WalletObject>) => Promise<R>,
): Promise<R> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call(namespace.getByName(walletId));
    } catch (error) {
      if (!isRetryable(error) || attempt >= policy.max_attempts) {
        throw new StepUnavailable(`wallet ${walletId} unavailable after ${attempt} attempt(s): ${String(error)}`);
      }
      await sleep(backoffMs(attempt, policy.base_ms, policy.max_ms));
    }
  }
}

/** The wallet operations the steps use, each a retried call to the wallet object named by its id. */
export function walletPort(namespace: DurableObjectNamespace<WalletObject>, policy: RetryPolicy): WalletPort {
  const call = <R>(walletId: string, fn: (w: DurableObjectStub<WalletObject>) => Promise<R>): Promise<R> =>
    callWallet(namespace, walletId, policy, fn);
  return {
    reserve: (id, input) => call(id, async (w) => await w.reserve(input)),
    capture: (id, input) => call(id, async (w) => await w.capture(input)),
    release: (id, input) => call(id, async (w) => await w.release(input)),
    credit: (id, input) => call(id, async (w) => await w.credit(input)),
    deposit: (id, input) => call(id, async (w) => await w.deposit(input)),
    withdraw: (id, input) => call(id, async (w) => await w.withdraw(input)),
  };
}
