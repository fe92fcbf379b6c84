/**
 * Webhook signing secrets: `whsec_` + base64 of 32 random bytes (the Standard Webhooks form, inside the contract's
 * 24..64 bytes), shown to the user once. At rest they are sealed with AES-256-GCM under the phone key
 * (auth/phone.ts: same key id scheme and rotation), with a domain tag inside the sealed text so that a sealed
 * phone number can never be opened as a secret. Signing needs the secret itself, so a hash would not do; it is
 * opened only in the queue consumer, for the attempt, and never logged.
 */
import { decryptPhone, encryptPhone, type PhoneSecretVars } from "../auth/phone";

const TAG = "webhook-secret:v1:";

/** A new secret, in clear (to show once) and sealed (to store). */
export async function newSecret(vars: PhoneSecretVars): Promise<{ secret: string; cipher: string; key_id: string }> {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const secret = `whsec_${btoa(String.fromCharCode(...bytes))}`;
  return { secret, ...(await sealSecret(vars, secret)) };
}

/** A secret sealed for storage. */
export function sealSecret(vars: PhoneSecretVars, secret: string): Promise<{ cipher: string; key_id: string }> {
  return encryptPhone(vars, TAG + secret);
}

/** The secret behind a sealed one; null when it cannot be opened (a retired key, or not a secret). */
export async function openSecret(vars: PhoneSecretVars, cipher: string, key_id: string): Promise<string | null> {
  const plain = await decryptPhone(vars, cipher, key_id).catch(() => null);
  return plain !== null && plain.startsWith(TAG) ? plain.slice(TAG.length) : null;
}
