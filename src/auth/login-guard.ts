/**
 * Password-guessing limits for one login handle, without a lockout an attacker could trigger (OWASP
 * Authentication Cheat Sheet). Held in memory by the handle's RateLimiter object (one per existing handle), so
 * every attempt on a handle is counted in one place, in order. (An unknown handle is guarded in the client
 * address's object instead, with the records keyed by handle and the whole-handle rule off; the arithmetic is
 * the same, so "address" below is simply the record's key.)
 *
 * - Each client address has its own record for the handle: it may fail `free_failures` times, then each further
 *   attempt from it must wait an exponential back-off (`backoff_base_ms`, doubling, at most `backoff_max_ms`).
 *   A success clears the record. Only that address waits: the owner elsewhere is never held back by it.
 * - Failures on the handle from every address together are a leaky bucket draining at
 *   `failures_per_minute`. When it is full the handle is under a spread-out attack, and then every address
 *   gets one failure before it backs off. It never refuses an address that has not failed, so the owner's
 *   right password from a new address still gets in however many others failed.
 *
 * An attempt is counted as a failure when it begins and forgiven when it succeeds, so parallel guesses from
 * one address cannot all slip in before the first of them is counted.
 */

/** The limits, from the config. */
export interface LoginPolicy {
  free_failures: number;
  failures_per_minute: number;
  backoff_base_ms: number;
  backoff_max_ms: number;
  max_addresses: number;
}

/** The answer to the start of one attempt. */
export type LoginGate = { allowed: true } | { allowed: false; retry_after_s: number };

interface AddressRecord {
  failures: number;
  blocked_until_ms: number;
  last_ms: number;
}

/** The failure records of one handle. */
export class LoginGuard {
  /** By address, least recently used first (a touched record is re-inserted at the end). */
  private readonly addresses = new Map<string, AddressRecord>();
  private level = 0;
  private level_ms = 0;

  /** Starts an attempt from `address`: refused while the address is backing off, otherwise counted as failed. */
  begin(address: string, policy: LoginPolicy, now_ms: number): LoginGate {
    const record = this.recordOf(address, policy, now_ms);
    if (now_ms < record.blocked_until_ms) {
      this.remember(address, record, policy);
      return { allowed: false, retry_after_s: Math.max(1, Math.ceil((record.blocked_until_ms - now_ms) / 1_000)) };
    }
    const free = this.underAttack(policy, now_ms) ? 1 : policy.free_failures;
    record.failures += 1;
    record.last_ms = now_ms;
    if (record.failures >= free) record.blocked_until_ms = now_ms + backoff(record.failures - free, policy);
    this.level = this.drained(policy, now_ms) + 1;
    this.level_ms = now_ms;
    this.remember(address, record, policy);
    return { allowed: true };
  }

  /** The attempt begun from `address` had the right password: its failure is forgiven and its record cleared. */
  succeeded(address: string, policy: LoginPolicy, now_ms: number): void {
    this.addresses.delete(address);
    this.level = Math.max(0, this.drained(policy, now_ms) - 1);
    this.level_ms = now_ms;
  }

  /** Whether failures from all addresses together have filled the handle's bucket. */
  private underAttack(policy: LoginPolicy, now_ms: number): boolean {
    return this.drained(policy, now_ms) >= policy.failures_per_minute;
  }

  private drained(policy: LoginPolicy, now_ms: number): number {
    return Math.max(0, this.level - ((now_ms - this.level_ms) * policy.failures_per_minute) / 60_000);
  }

  /** The address's record; one that has been quiet for the longest back-off is forgotten. */
  private recordOf(address: string, policy: LoginPolicy, now_ms: number): AddressRecord {
    const known = this.addresses.get(address);
    const quietSince = known === undefined ? 0 : Math.max(known.last_ms, known.blocked_until_ms);
    if (known === undefined || now_ms - quietSince >= policy.backoff_max_ms) return { failures: 0, blocked_until_ms: 0, last_ms: now_ms };
    return known;
  }

  /** Stores the record as the most recent, dropping the least recently used beyond `max_addresses`. */
  private remember(address: string, record: AddressRecord, policy: LoginPolicy): void {
    this.addresses.delete(address);
    this.addresses.set(address, record);
    while (this.addresses.size > policy.max_addresses) {
      const oldest = this.addresses.keys().next().value;
      if (oldest === undefined) break;
      this.addresses.delete(oldest);
    }
  }
}

/** The wait after the `n`th failure past the free ones (0-based): base, doubling, capped. */
function backoff(n: number, policy: LoginPolicy): number {
  return Math.min(policy.backoff_max_ms, policy.backoff_base_ms * 2 ** Math.min(n, 40));
}
