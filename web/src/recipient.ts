/**
 * Reads the "send to" field: one box accepts a handle, a phone number or a wallet id, and this decides which
 * one the user meant, so the form does not need a separate type picker. Pure, so Node can test it.
 */
import { WALLET_ID_SHAPE } from "../../src/domain/ids.ts";

/** The contract's `to` object: exactly one of handle, phone or wallet_id. */
export type Recipient = { handle: string } | { phone: string } | { wallet_id: string };

export type RecipientResult = { ok: true; to: Recipient; label: string } | { ok: false; reason: string };

const HANDLE = /^[a-z0-9_]{3,32}$/;
const E164 = /^\+[1-9]\d{6,14}$/;

/**
 * Parses the recipient box. A leading "+" means a phone number (spaces, dashes, dots and brackets are
 * dropped, as people type them); "wal_" means a wallet id; anything else is a handle, with an optional "@"
 * and upper case forgiven because handles are lower case by definition.
 */
export function parseRecipient(text: string): RecipientResult {
  const trimmed = text.trim();
  if (trimmed === "") return { ok: false, reason: "Enter a handle, a phone number or a wallet id." };
  if (trimmed.startsWith("+")) {
    const phone = trimmed.replace(/[\s\-().]/g, "");
    if (!E164.test(phone)) return { ok: false, reason: "Phone numbers need the international format, like +14155550123." };
    return { ok: true, to: { phone }, label: phone };
  }
  if (trimmed.startsWith("wal_")) {
    if (!WALLET_ID_SHAPE.test(trimmed)) return { ok: false, reason: "That wallet id does not look right; copy it again." };
    return { ok: true, to: { wallet_id: trimmed }, label: trimmed };
  }
  const handle = trimmed.replace(/^@/, "").toLowerCase();
  if (!HANDLE.test(handle)) {
    return { ok: false, reason: "Handles are 3 to 32 letters, digits or underscores. Phone numbers start with +." };
  }
  return { ok: true, to: { handle }, label: `@${handle}` };
}
