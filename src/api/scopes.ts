/**
 * Which API key scope each route needs: the one place this is decided. A rule by method and path, so that a
 * new route gets a scope without being listed (a GET needs `read`, anything else `payments:write`), and only
 * the exceptions are named here. Session tokens are not scoped: this applies to API keys alone, checked by the
 * session middleware (middleware.ts) before the route runs and before any Idempotency-Key is looked at.
 */
import type { Scope } from "../auth/api-keys";

/** What a route asks of an API key: one of these scopes, or no key at all (a person's session only). */
export type ScopeRule = { kind: "any_of"; scopes: readonly Scope[] } | { kind: "session_only" };

/**
 * Paths under /api/v1 that no API key may use, whatever its scopes: managing keys (a key must not mint or
 * revoke keys, or it could outlive its own revocation), logging out (a key is not a session), and the auditor's
 * and operator's routes (the contract gives keys the user's own data, not a role's).
 */
const SESSION_ONLY: readonly RegExp[] = [/^\/api-keys(\/|$)/, /^\/auth\//, /^\/audit(\/|$)/, /^\/admin\//];

/** Webhook endpoints and their deliveries: managed with `webhooks:write`, readable with `read` too. */
const WEBHOOKS = /^\/webhook-endpoints(\/|$)/;

const READ_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD"]);

/**
 * The rule for `method` on `path` (the request's path, with or without the `/api/v1` prefix). A GET is a read
 * of the caller's own data (the live feed's upgrade included); every other method changes something, and by
 * default that is money (deposits, withdrawals, transfers, refunds, requests and splits and their pay, decline
 * and cancel, new wallets), so a new route that is none of these must be named above.
 */
export function scopeRule(method: string, path: string): ScopeRule {
  const route = path.replace(/^\/api\/v1(?=\/)/, "");
  if (SESSION_ONLY.some((pattern) => pattern.test(route))) return { kind: "session_only" };
  const read = READ_METHODS.has(method.toUpperCase());
  if (WEBHOOKS.test(route)) return { kind: "any_of", scopes: read ? ["read", "webhooks:write"] : ["webhooks:write"] };
  return { kind: "any_of", scopes: read ? ["read"] : ["payments:write"] };
}

/** Whether a key with `scopes` may call `method` on `path`. */
export function scopeAllows(scopes: readonly Scope[], method: string, path: string): boolean {
  const rule = scopeRule(method, path);
  return rule.kind === "any_of" && rule.scopes.some((scope) => scopes.includes(scope));
}
