/**
 * A token bucket that refills continuously at `limit_per_minute` and holds at most that many tokens. Used by
 * the RateLimiter object (one bucket per key) and by each coordinator (its user's money movements).
 */
export class TokenBucket {
  private tokens = -1;
  private updated_ms = 0;

  /** Takes one token; returns null when allowed, or the whole seconds until a token is back. */
  take(limit_per_minute: number, now_ms: number): number | null {
    if (!Number.isSafeInteger(limit_per_minute) || limit_per_minute < 1) throw new Error(`invariant: bad limit ${limit_per_minute}`);
    this.tokens =
      this.tokens < 0
        ? limit_per_minute
        : Math.min(limit_per_minute, this.tokens + ((now_ms - this.updated_ms) * limit_per_minute) / 60_000);
    this.updated_ms = now_ms;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return null;
    }
    return Math.max(1, Math.ceil(((1 - this.tokens) * 60_000) / limit_per_minute / 1_000));
  }
}
