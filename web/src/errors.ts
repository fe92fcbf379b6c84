/**
 * Contract errors in plain words, attached to the field they concern. Clients branch on `code` (and on
 * `details[].field` for validation errors), never on the server's message, so every message a person sees
 * is written here.
 */
import type { ApiErrorBody } from "./types";

/** The fields a message can sit beside; `form` is the whole form, for errors about no one field. */
export type Field =
  "form" | "amount" | "recipient" | "memo" | "handle" | "password" | "phone" | "display_name" | "currency" | "payer" | "shares" | "expiry";

export type FieldErrors = Partial<Record<Field, string>>;

/** Which form asked: the same code can mean different things (a 401 at login is a wrong password). */
export type FormContext = "login" | "register" | "send" | "deposit" | "withdrawal" | "request" | "split" | "pay" | "refund" | "wallet";

/** A validation detail's field path, as the server names it, to the form field that shows it. */
const DETAIL_FIELDS: Record<string, Field> = {
  amount: "amount",
  to: "recipient",
  "to.handle": "recipient",
  "to.phone": "recipient",
  "to.wallet_id": "recipient",
  memo: "memo",
  handle: "handle",
  password: "password",
  phone: "phone",
  display_name: "display_name",
  currency: "currency",
  payer: "payer",
  "payer.handle": "payer",
  "payer.phone": "payer",
  "payer.wallet_id": "payer",
  shares: "shares",
  expires_in_s: "expiry",
};

/** What to tell the user when the server refuses a field's value. */
const FIELD_MESSAGES: Record<Field, string> = {
  form: "Something in this form is not valid. Please check it and try again.",
  amount: "Enter an amount greater than zero.",
  recipient: "Check the recipient: a handle, a phone number like +14155550123, or a wallet id.",
  memo: "The note is too long; keep it to 140 characters.",
  handle: "Handles are 3 to 32 lowercase letters, digits or underscores.",
  password: "Passwords are 10 to 128 characters long.",
  phone: "Use the international format, like +14155550123.",
  display_name: "The display name is too long; keep it to 64 characters.",
  currency: "Use a three-letter currency code, like USD or EUR.",
  payer: "Check who should pay: a handle or a phone number like +14155550123.",
  shares: "Check the shares: each person at most once, and every amount greater than zero.",
  expiry: "A request can stay open from 1 minute to 30 days.",
};

const SAVED_AND_RETRYING = "Your request is saved and will be retried; it will never be sent twice.";

/** Codes whose meaning does not depend much on the form, with the field they belong to. */
const CODE_MESSAGES: Record<string, [Field, string]> = {
  insufficient_funds: ["amount", "There is not enough available money for this amount."],
  daily_limit_exceeded: ["amount", "This would go over today's limit for transfers and withdrawals. The limit resets at midnight UTC."],
  balance_limit_exceeded: ["amount", "The receiving wallet cannot hold that much."],
  currency_mismatch: ["recipient", "The recipient's wallet uses a different currency, so this transfer is not possible."],
  same_wallet: ["recipient", "You cannot send money to the wallet it comes from."],
  handle_taken: ["handle", "That handle is already taken. Please choose another."],
  phone_taken: ["phone", "That phone number is already registered."],
  forbidden: ["form", "You are not allowed to do that."],
  idempotency_key_reused: ["form", "This request clashed with an earlier one. Please submit it again."],
  idempotency_key_required: ["form", "Something went wrong on our side. Please try again."],
  payload_too_large: ["form", "That request is too large. Shorten the note and try again."],
  rate_limited: ["form", "Too many requests right now. Please wait a moment and try again."],
  internal: ["form", "Something went wrong on our side. Please try again."],
  request_not_open: ["form", "This request is no longer open: it was already paid, declined, cancelled or it expired."],
  refund_exceeds_transfer: ["amount", "That is more than is left to refund of this payment."],
  transfer_not_refundable: ["form", "This payment cannot be refunded."],
  wallet_exists: ["currency", "You already have a wallet in that currency."],
  insufficient_scope: ["form", "You are not allowed to do that."],
};

function isAuthForm(context: FormContext): boolean {
  return context === "login" || context === "register";
}

/** The messages to show for `error`, keyed by the field each belongs beside. */
export function errorsFor(error: ApiErrorBody, context: FormContext): FieldErrors {
  const { code } = error;
  if (code === "validation_error") {
    // Login accepts any non-empty handle and password, so the register rules would mislead there.
    if (context === "login") return { form: "Enter your handle and your password." };
    const errors: FieldErrors = {};
    for (const detail of error.details ?? []) {
      // A split's shares are named by position ("shares.1.amount"); the list shows one message for all of them.
      const field = DETAIL_FIELDS[detail.field] ?? (detail.field.startsWith("shares.") ? "shares" : "form");
      errors[field] = FIELD_MESSAGES[field];
    }
    return Object.keys(errors).length > 0 ? errors : { form: FIELD_MESSAGES.form };
  }
  if (code === "unauthenticated") {
    return { form: context === "login" ? "The handle or the password is wrong." : "Your session has ended. Please log in again." };
  }
  if (code === "not_found") {
    if (context === "send") return { recipient: "Nobody with that handle, phone number or wallet id can be paid. Please check it." };
    if (context === "request") return { payer: "Nobody with that handle or phone number is registered. Please check it." };
    if (context === "split") return { shares: "One of these people is not registered. Please check every handle and phone number." };
    if (context === "pay" || context === "refund") return { form: "That was not found. Please reload the page." };
    return { form: "That wallet was not found. Please reload the page." };
  }
  if (code === "network_error") {
    return {
      form: isAuthForm(context)
        ? "We could not reach the service. Check your connection and try again."
        : `You seem to be offline. ${SAVED_AND_RETRYING}`,
    };
  }
  if (code === "unavailable" || code === "idempotency_in_progress") {
    return {
      form: isAuthForm(context)
        ? "The service is busy. Please try again in a moment."
        : `The service has not confirmed this yet. ${SAVED_AND_RETRYING}`,
    };
  }
  if (code === "balance_limit_exceeded" && context === "deposit") return { amount: "Your wallet cannot hold that much." };
  if (code === "same_wallet" && (context === "request" || context === "split")) return { payer: "You cannot ask yourself for money." };
  if (code === "limit_exceeded") return { [context === "wallet" ? "currency" : "form"]: limitSentence(error) };
  const known = CODE_MESSAGES[code];
  if (known !== undefined) return { [known[0]]: known[1] };
  return { form: `Something went wrong (${code}). Please try again.` };
}

/** A count limit, named by the server in `details` ("at most 5"), in words. */
function limitSentence(error: ApiErrorBody): string {
  const issue = error.details?.[0]?.issue;
  const field = error.details?.[0]?.field ?? "";
  const what = LIMIT_NAMES[field] ?? "items";
  return `You have reached the limit of ${what}${issue !== undefined && issue !== "" ? ` (${issue})` : ""}.`;
}

/** The [vars] names the server puts in a limit_exceeded detail, as a person would say them. */
const LIMIT_NAMES: Record<string, string> = {
  WALLETS_MAX_PER_USER: "wallets",
  SPLIT_MAX_SHARES: "people in one split",
  REQUESTS_MAX_OPEN_PER_USER: "open requests",
  REQUESTS_MAX_PER_PAYER_PER_DAY: "requests one person can receive per day",
};

/** One sentence for a refusal outside any form (a request resubmitted in the background). */
export function sentenceFor(error: ApiErrorBody, context: FormContext): string {
  const errors = errorsFor(error, context);
  return Object.values(errors).join(" ");
}
