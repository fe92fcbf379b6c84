/**
 * The identity of a money-moving request, for idempotency: SHA-256 over the route and the body in canonical
 * JSON (keys sorted at every level). Two requests are "the same" when these hashes are equal, whatever their
 * whitespace or key order; anything else under the same key is `idempotency_key_reused`.
 */
import { sha256Hex } from "../domain/hash-chain";

/** JSON with object keys sorted recursively. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** The request hash stored with an Idempotency-Key. */
export function requestHash(route: string, body: unknown): string {
  return sha256Hex(`${route}\n${canonicalJson(body)}`);
}
