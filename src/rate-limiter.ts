/**
 * RateLimiter: a Durable Object per login handle that exists, and a fixed number of shards for client
 * addresses (src/api/rate-limits.ts), named by a SHA-256 of the key, so that no request can name a new object
 * of its own: a probe from a fresh address lands in one of the shards, which exist anyway. For an address it holds a token bucket that refills continuously;
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

/** Buckets one object keeps in memory (an address shard's addresses); about 100 bytes each. */
export const BUCKETS_MAX = 50_000;

/** The answer to one attempt. */
export type TakeResult = { allowed: true } | { allowed: false; retry_after_s: number };

/** A token bucket, or a handle's login guard, for one key. */
export class RateLimiter extends DurableObject<Env> {
  /** Buckets by key (an address shard holds many addresses), least recently used first. */
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly guard = new LoginGuard();

  /**
   * Takes one token from the bucket of `limit_per_minute` for `key` (one object may hold the buckets of many
   * keys: the addresses of one shard). At most BUCKETS_MAX buckets are kept; past that the least recently used
   * is forgotten, which only ever errs towards letting someone in.
   */
  async take(limit_per_minute: number, key = ""): Promise<TakeResult> {
    const bucket = this.buckets.get(key) ?? new TokenBucket();
    this.buckets.delete(key);
    this.buckets.set(key, bucket);
    while (this.buckets.size > BUCKETS_MAX) {
      const oldest = this.buckets.keys().next();
      if (oldest.done === true) break;
      this.buckets.delete(oldest.value);
    }
    const wait = bucket.take(limit_per_minute, Date.now());
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
