/**
 * Rate limits at the edge, each a RateLimiter object per key. Keys are hashed before they name an object, so
 * no handle or client address appears in an object name. Refusals are 429 `rate_limited` with Retry-After.
 */
import { sha256Hex } from "../domain/hash-chain";
import type { AppContext } from "./context";
import { ApiError } from "./errors";

/** The client's address as Cloudflare reports it; "unknown" when not behind Cloudflare (local runs). */
export function clientAddress(c: AppContext): string {
  return c.req.header("cf-connecting-ip") ?? "unknown";
}

/** Takes one attempt from the bucket for `key`, or throws 429 with Retry-After. */
export async function enforce(c: AppContext, key: string, limit_per_minute: number): Promise<void> {
  const result = await c.env.RATE_LIMITER.getByName(sha256Hex(key)).take(limit_per_minute);
  if (!result.allowed) throw new ApiError("rate_limited", undefined, { "Retry-After": String(result.retry_after_s) });
}
