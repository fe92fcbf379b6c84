/**
 * RateLimiter: one Durable Object per limited key (a login handle, a client address, a registration
 * address), named by a SHA-256 of that key. It holds a token bucket that refills continuously; a request
 * takes one token or is refused with the seconds until one is back.
 *
 * The bucket lives in memory: an object that is evicted after a quiet spell starts full again, which only
 * ever errs towards letting a legitimate user in. Being one object per key, the count is exact across every
 * Worker instance, with no race between two attempts.
 */
import { DurableObject } from "cloudflare:workers";
import { TokenBucket } from "./domain/token-bucket";

/** The answer to one attempt. */
export type TakeResult = { allowed: true } | { allowed: false; retry_after_s: number };

/** A token bucket for one key. */
export class RateLimiter extends DurableObject<Env> {
  private readonly bucket = new TokenBucket();

  /** Takes one token from a bucket of `limit_per_minute`. */
  async take(limit_per_minute: number): Promise<TakeResult> {
    const wait = this.bucket.take(limit_per_minute, Date.now());
    return wait === null ? { allowed: true } : { allowed: false, retry_after_s: wait };
  }
}
