/**
 * Phone numbers inside stored JSON text: a payment request's `payer: {phone}` is shown to its requester in clear,
 * so the answers and events that carry it would rest in clear in the coordinators' storage (an event's body and a
 * keyed answer are kept as the text served). Before such text is stored, every `"phone":"+E.164"` member is
 * replaced by its sealed form (AES-GCM under the phone key, as the request's own row keeps it), and the text is
 * opened again, byte for byte as it was, each time it is served (GET /events, a webhook delivery, a replay).
 *
 * Only a member written exactly `"phone":"+digits"` is touched: inside a JSON string (a memo) a quote is always
 * escaped, so a memo can never hold that sequence.
 */
import { decryptPhone, encryptPhone, type PhoneSecretVars } from "./phone";

const CLEAR = /"phone":"(\+[1-9][0-9]{6,14})"/g;
const SEALED = /"phone":\{"sealed":"([A-Za-z0-9_-]+)","key_id":"([^"\\]+)"\}/g;

/** `text` with every phone member sealed (unchanged when it has none). */
export async function sealPhonesInJson(vars: PhoneSecretVars, text: string): Promise<string> {
  return replaceAsync(text, CLEAR, async ([, phone]) => {
    const sealed = await encryptPhone(vars, phone as string);
    return `"phone":{"sealed":"${sealed.cipher}","key_id":${JSON.stringify(sealed.key_id)}}`;
  });
}

/** `text` with every sealed phone member opened; one sealed under a key no longer held reads "unavailable". */
export async function openPhonesInJson(vars: PhoneSecretVars, text: string): Promise<string> {
  return replaceAsync(text, SEALED, async ([, cipher, key_id]) => {
    const phone = await decryptPhone(vars, cipher as string, key_id as string).catch(() => null);
    return `"phone":${JSON.stringify(phone ?? "unavailable")}`;
  });
}

async function replaceAsync(text: string, pattern: RegExp, replace: (match: RegExpExecArray) => Promise<string>): Promise<string> {
  const matches = [...text.matchAll(pattern)];
  if (matches.length === 0) return text;
  const replacements = await Promise.all(matches.map((m) => replace(m)));
  let out = "";
  let at = 0;
  matches.forEach((m, i) => {
    out += text.slice(at, m.index) + (replacements[i] as string);
    at = m.index + m[0].length;
  });
  return out + text.slice(at);
}
