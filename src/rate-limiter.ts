/**
 * RateLimiter: one Durable Object per limited key (a login handle, a client address, a registration
 * address), named by a SHA-256 of that key. For an address it holds a token bucket that refills continuously;
 * a request takes one token or is refused with the seconds until one is back. For a login handle it holds that
 * handle's guessing limits (`auth/login-guard.ts`): a back-off per client address that has failed, never a
 * lockout of the handle as a whole. An address's object also guards that address's logins to unknown handles,
 * so guessing at random handles names no object per handle.
 *
 * Both live in memory: an object that is evicted after a quiet spell starts afresh, which only ever errs
 * towards letting a legitimate user in, and writes no storage, so probing random handles or addresses
 * allocates nothing durable. Being one object per key, the count is exact across every Worker instance, with
 * no race between two attempts.
 */
import { DurableObject } from "cloudflare:workers";
import { LoginGuard, type LoginGate, type LoginPolicy } from "./auth/login-guard";
import { TokenBucket } from "./domain/token-bucket";

/** The answer to one attempt. */
export type TakeResult = { allowed: true } | { allowed: false; retry_after_s: number };

/** A token bucket, or a handle's login guard, for one key. */
export class RateLimiter extends DurableObject<Env> {
  private readonly bucket = new TokenBucket();
  private readonly guard = new LoginGuard();

  /** Takes one token from a bucket of `limit_per_minute`. */
  async take(limit_per_minute: number): Promise<TakeResult> {
    const wait = this.bucket.take(limit_per_minute, Date.now());
    return wait === null ? { allowed: true } : { allowed: false, retry_after_s: wait };
  }

  /** Starts a login attempt recorded under `key` (an address, or an unknown handle): refused while it backs off. */
  async loginBegin(key: string, policy: LoginPolicy): Promise<LoginGate> {
    return this.guard.begin(key, policy, Date.now());
  }

  /** The attempt recorded under `key` had the right password: its record is cleared. */
  async loginSucceeded(key: string, policy: LoginPolicy): Promise<void> {
    this.guard.succeeded(key, policy, Date.now());
  }
}
