/**
 * Canonical JSON: object keys sorted at every level (by UTF-16 code unit), no whitespace, `undefined` members
 * left out. The one implementation behind every hash and signature over JSON: the request hash an
 * Idempotency-Key is stored with (domain/idempotency.ts), signed receipts (audit/receipts.ts), and the offline
 * `npm run verify-receipt`, which imports this very file. It therefore imports nothing, so that Node can load it
 * directly (its types stripped) outside the Worker's build.
 */

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
