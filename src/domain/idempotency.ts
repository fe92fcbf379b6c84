/**
 * The identity of a money-moving request, for idempotency: SHA-256 over the route and the body in canonical
 * JSON. Two requests are "the same" when these hashes are equal, whatever their whitespace or key order;
 * anything else under the same key is `idempotency_key_reused`.
 */
import { canonicalJson } from "./canonical";
import { sha256Hex } from "./hash-chain";

/** The request hash stored with an Idempotency-Key. */
export function requestHash(route: string, body: unknown): string {
  return sha256Hex(`${route}\n${canonicalJson(body)}`);
}
