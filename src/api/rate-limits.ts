/**
 * Rate limits at the edge, held by RateLimiter objects: client addresses in a fixed set of shards, login
 * handles that exist in an object each. Keys are hashed before they name an object or a bucket, so no handle
 * or client address appears in an object name. Refusals are 429 `rate_limited` with Retry-After.
 */
import { addressGroup, addressNetwork48 } from "../domain/address-group";
import { sha256Hex } from "../domain/hash-chain";
import type { AppContext } from "./context";
import { ApiError } from "./errors";
import type { RateLimiter } from "../rate-limiter";

/**
 * The client as rate limits count it: the address Cloudflare reports, an IPv6 one grouped by its /64
 * (domain/address-group.ts); "unknown" when not behind Cloudflare (local runs).
 */
export function clientAddress(c: AppContext): string {
  return addressGroup(c.req.header("cf-connecting-ip") ?? "unknown");
}

/** The client's IPv6 /48 (domain/address-group.ts), or null for an IPv4 client or none (local runs). */
export function clientNetwork48(c: AppContext): string | null {
  return addressNetwork48(c.req.header("cf-connecting-ip") ?? "unknown");
}

/**
 * Client addresses are spread over this many RateLimiter objects, each holding the buckets of its addresses.
 * An object per address would let anyone with many addresses (an IPv6 block) create objects at will, and
 * addressing a Durable Object allocates its storage (issue 19); a fixed set of shards bounds that, and the
 * count per address stays exact, since one address always lands in the same shard.
 */
export const ADDRESS_SHARDS = 64;

/** The RateLimiter shard that holds the limits of client address `address` for `purpose`. */
export function addressShard(c: AppContext, purpose: string, address: string): DurableObjectStub<RateLimiter> {
  const shard = Number.parseInt(sha256Hex(address).slice(0, 8), 16) % ADDRESS_SHARDS;
  return c.env.RATE_LIMITER.getByName(sha256Hex(`${purpose}-shard:${shard}`));
}

/** Takes one attempt from client address `address`'s bucket for `purpose`, or throws 429 with Retry-After. */
export async function enforceAddress(c: AppContext, purpose: string, address: string, limit_per_minute: number): Promise<void> {
  const result = await addressShard(c, purpose, address).take(limit_per_minute, sha256Hex(address));
  if (!result.allowed) throw new ApiError("rate_limited", undefined, { "Retry-After": String(result.retry_after_s) });
}

/**
 * Takes one attempt from the client's own bucket for `purpose` (its IPv4 address or IPv6 /64) and, for an IPv6
 * client, one from its /48's bucket too, or throws 429 with Retry-After. The /48's count closes what the /64's
 * leaves open: a host with a routed /48 could otherwise take `per_address` from each of its 65,536 /64s.
 */
export async function enforceClient(
  c: AppContext,
  purpose: string,
  limits: { per_address_per_minute: number; per_ipv6_48_per_minute: number },
): Promise<void> {
  await enforceAddress(c, purpose, clientAddress(c), limits.per_address_per_minute);
  const network = clientNetwork48(c);
  if (network !== null) await enforceAddress(c, `${purpose}-ipv6-48`, network, limits.per_ipv6_48_per_minute);
}
