/**
 * Phone numbers at rest: AES-256-GCM ciphertext under a key from a Worker secret, tagged with the key's id so
 * keys can rotate, plus an HMAC-SHA-256 blind index under a second key, which is what lookups and the
 * uniqueness constraint use. The number itself is never stored, logged or sent to anyone but its owner.
 *
 * Secrets: PHONE_ENC_KEY_ID (a short name), PHONE_ENC_KEY and PHONE_INDEX_KEY (32 random bytes, base64url).
 * `npm start` generates them into its state directory; production sets them with `wrangler secret put`.
 * Rotation: set a new PHONE_ENC_KEY_ID and PHONE_ENC_KEY, and move the old pair into PHONE_ENC_KEYS_PREVIOUS
 * (JSON `{"old-id": "old key"}`): new numbers are sealed under the new key, old ones still open, and each is
 * re-sealed under the new key the next time its owner logs in. (The blind index key does not rotate this
 * way: changing it means recomputing every index.)
 */
import { base64urlDecode, base64urlEncode, hex } from "./encoding";

/** The secrets this module needs; absent in an environment that never registers phone numbers. */
export interface PhoneSecretVars {
  PHONE_ENC_KEY_ID?: string;
  PHONE_ENC_KEY?: string;
  PHONE_INDEX_KEY?: string;
  PHONE_ENC_KEYS_PREVIOUS?: string;
}

interface PhoneKeys {
  key_id: string;
  enc: CryptoKey;
  index: CryptoKey;
  previous: Map<string, CryptoKey>;
}

const keysCache = new WeakMap<object, Promise<PhoneKeys>>();

function secretBytes(value: string | undefined, name: string): Uint8Array {
  if (value === undefined || value === "") throw new Error(`secret ${name} is not set`);
  const bytes = base64urlDecode(value);
  if (bytes.length !== 32) throw new Error(`secret ${name} must be 32 bytes of base64url`);
  return bytes;
}

async function importKeys(vars: PhoneSecretVars): Promise<PhoneKeys> {
  const key_id = vars.PHONE_ENC_KEY_ID;
  if (key_id === undefined || !/^[A-Za-z0-9_-]{1,32}$/.test(key_id)) throw new Error("secret PHONE_ENC_KEY_ID is not set");
  const enc = await crypto.subtle.importKey("raw", secretBytes(vars.PHONE_ENC_KEY, "PHONE_ENC_KEY"), "AES-GCM", false, [
    "encrypt",
    "decrypt",
  ]);
  const index = await crypto.subtle.importKey(
    "raw",
    secretBytes(vars.PHONE_INDEX_KEY, "PHONE_INDEX_KEY"),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const previous = new Map<string, CryptoKey>();
  const old =
    vars.PHONE_ENC_KEYS_PREVIOUS === undefined || vars.PHONE_ENC_KEYS_PREVIOUS === ""
      ? {}
      : (JSON.parse(vars.PHONE_ENC_KEYS_PREVIOUS) as Record<string, string>);
  for (const [id, value] of Object.entries(old)) {
    previous.set(
      id,
      await crypto.subtle.importKey("raw", secretBytes(value, `PHONE_ENC_KEYS_PREVIOUS.${id}`), "AES-GCM", false, ["decrypt"]),
    );
  }
  return { key_id, enc, index, previous };
}

function keysOf(vars: PhoneSecretVars): Promise<PhoneKeys> {
  let keys = keysCache.get(vars);
  if (keys === undefined) {
    keys = importKeys(vars);
    keysCache.set(vars, keys);
  }
  return keys;
}

/** The keyed blind index of an E.164 number: equal numbers give equal indexes, nothing else can be read. */
export async function phoneIndex(vars: PhoneSecretVars, phone: string): Promise<string> {
  const { index } = await keysOf(vars);
  return hex(await crypto.subtle.sign("HMAC", index, new TextEncoder().encode(`phone:v1:${phone}`)));
}

/** The number encrypted under the current key: `{cipher, key_id}`, cipher = base64url(iv || ciphertext). */
export async function encryptPhone(vars: PhoneSecretVars, phone: string): Promise<{ cipher: string; key_id: string }> {
  const { key_id, enc } = await keysOf(vars);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv }, enc, new TextEncoder().encode(phone)));
  const out = new Uint8Array(iv.length + sealed.length);
  out.set(iv);
  out.set(sealed, iv.length);
  return { cipher: base64urlEncode(out), key_id };
}

/** The number behind `cipher`, or null when it was sealed under a key this environment no longer has. */
export async function decryptPhone(vars: PhoneSecretVars, cipher: string, key_id: string): Promise<string | null> {
  const keys = await keysOf(vars);
  const key = key_id === keys.key_id ? keys.enc : keys.previous.get(key_id);
  if (key === undefined) return null;
  const bytes = base64urlDecode(cipher);
  const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: bytes.slice(0, 12) }, key, bytes.slice(12));
  return new TextDecoder().decode(plain);
}

/** Whether a ciphertext under `key_id` should be re-sealed under the current key. */
export async function phoneNeedsReseal(vars: PhoneSecretVars, key_id: string): Promise<boolean> {
  return key_id !== (await keysOf(vars)).key_id;
}

/** The owner's masked view: every digit hidden but the last four. */
export function maskPhone(phone: string): string {
  return phone.slice(0, -4).replace(/\d/g, "•") + phone.slice(-4);
}
