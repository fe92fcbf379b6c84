/**
 * Secrets are never in wrangler.toml: `wrangler secret put NAME` sets them in production and `npm start`
 * generates local ones into its state directory. `wrangler types` cannot see them, so they are declared here,
 * on both the global `Env` and `Cloudflare.Env` (the type of `env` from "cloudflare:workers", which tests use).
 */
interface Secrets {
  /** The id of the current phone encryption key, stored beside each ciphertext. */
  PHONE_ENC_KEY_ID?: string;
  /** AES-256-GCM key for phone numbers: 32 bytes, base64url. */
  PHONE_ENC_KEY?: string;
  /** HMAC-SHA-256 key for the phone blind index: 32 bytes, base64url. */
  PHONE_INDEX_KEY?: string;
  /** Retired phone encryption keys, JSON `{"id": "key"}`, still able to open what they sealed. */
  PHONE_ENC_KEYS_PREVIOUS?: string;
  /** The operator token for /api/v1/admin/*: at least 32 characters; unset disables those routes. */
  ADMIN_TOKEN?: string;
  /** The id of the receipt signing key, in every signature. */
  RECEIPT_KEY_ID?: string;
  /** Ed25519 private key for receipts: PKCS#8 DER, base64url. */
  RECEIPT_SIGNING_KEY?: string;
  /** Ed25519 private key that signs the transparency log's checkpoints: PKCS#8 DER, base64url (src/log/keys.ts). */
  LOG_SIGNING_KEY?: string;
  /** HMAC-SHA-256 key that session tokens carry a MAC under: 32 bytes, base64url (src/auth/sessions.ts). */
  SESSION_TOKEN_KEY?: string;
}

// Declaration merging: each interface gains the secrets' members (an empty body is the point here).
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
interface Env extends Secrets {}
declare namespace Cloudflare {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface Env extends Secrets {}
}
