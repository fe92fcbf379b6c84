/**
 * The rate limits and the login back-off (read in src/api/routes/auth.ts and src/coordinator/movement-driver.ts): how
 * many attempts an address, a handle, an IPv6 /48 or a user may make per minute, and how the back-off after failures
 * grows.
 */
import { DAY_MS, integer, type VarsOf } from "./parse";

/** The validated rate limits, part of Config (src/config.ts). */
export interface RateLimitConfig {
  readonly rate_login_failures_per_handle_per_minute: number;
  readonly login_free_failures_per_address: number;
  readonly login_backoff_base_ms: number;
  readonly login_backoff_max_ms: number;
  readonly login_max_addresses_per_handle: number;
  readonly rate_login_per_ip_per_minute: number;
  readonly rate_register_per_ip_per_minute: number;
  /** Login attempts from one IPv6 /48 together (each of its /64s also has rate_login_per_ip_per_minute). */
  readonly rate_login_per_ipv6_48_per_minute: number;
  /** Registrations from one IPv6 /48 together (each of its /64s also has rate_register_per_ip_per_minute). */
  readonly rate_register_per_ipv6_48_per_minute: number;
  readonly rate_money_per_user_per_minute: number;
}

/** The `[vars]` entries RateLimitConfig is read from. */
export type RateLimitVarName =
  | "RATE_LOGIN_FAILURES_PER_HANDLE_PER_MINUTE"
  | "LOGIN_FREE_FAILURES_PER_ADDRESS"
  | "LOGIN_BACKOFF_BASE_MS"
  | "LOGIN_BACKOFF_MAX_MS"
  | "LOGIN_MAX_ADDRESSES_PER_HANDLE"
  | "RATE_LOGIN_PER_IP_PER_MINUTE"
  | "RATE_REGISTER_PER_IP_PER_MINUTE"
  | "RATE_LOGIN_PER_IPV6_48_PER_MINUTE"
  | "RATE_REGISTER_PER_IPV6_48_PER_MINUTE"
  | "RATE_MONEY_PER_USER_PER_MINUTE";

/** Parses and range-checks the rate limits, in this order; throws an Error naming the first bad variable. */
export function parseRateLimitConfig(vars: VarsOf<RateLimitVarName>): RateLimitConfig {
  return {
    // Failures on one handle from every address together only tighten the per-address back-off (never a
    // lockout of the handle), so this may be low without letting anyone lock the owner out.
    rate_login_failures_per_handle_per_minute: integer(vars, "RATE_LOGIN_FAILURES_PER_HANDLE_PER_MINUTE", 1, 100_000),
    login_free_failures_per_address: integer(vars, "LOGIN_FREE_FAILURES_PER_ADDRESS", 1, 100),
    login_backoff_base_ms: integer(vars, "LOGIN_BACKOFF_BASE_MS", 100, 600_000),
    login_backoff_max_ms: integer(vars, "LOGIN_BACKOFF_MAX_MS", 1_000, DAY_MS),
    // Each handle's object keeps a record per failing address in memory; beyond this the oldest is forgotten.
    login_max_addresses_per_handle: integer(vars, "LOGIN_MAX_ADDRESSES_PER_HANDLE", 10, 1_000_000),
    rate_login_per_ip_per_minute: integer(vars, "RATE_LOGIN_PER_IP_PER_MINUTE", 1, 100_000),
    rate_register_per_ip_per_minute: integer(vars, "RATE_REGISTER_PER_IP_PER_MINUTE", 1, 100_000),
    // A /48 holds 65,536 /64s: without its own budget, a host with a routed /48 multiplies the per-/64 limits by that.
    rate_login_per_ipv6_48_per_minute: integer(vars, "RATE_LOGIN_PER_IPV6_48_PER_MINUTE", 1, 100_000),
    rate_register_per_ipv6_48_per_minute: integer(vars, "RATE_REGISTER_PER_IPV6_48_PER_MINUTE", 1, 100_000),
    rate_money_per_user_per_minute: integer(vars, "RATE_MONEY_PER_USER_PER_MINUTE", 1, 10_000_000),
  };
}
