/**
 * The three money forms. Each checks the amount locally with exact string arithmetic, then hands the
 * request to the pending model, which stores it with its Idempotency-Key before sending. The busy signal is
 * set synchronously on submit, so a double click cannot start a second request with a second key.
 */
import { useRef } from "preact/hooks";
import { useSignal } from "@preact/signals";
import { seg } from "../api";
import { errorsFor, type FieldErrors, type FormContext } from "../errors";
import { formatMinor, fractionDigitsFor, parseMajorToMinor } from "../money";
import { parseRecipient } from "../recipient";
import { memoProblem } from "../text";
import { describeMove } from "../models/account";
import type { LiveModel } from "../models/live";
import type { MoveOutcome } from "../models/pending";
import type { Wallet } from "../types";
import { useApp } from "./context";
import { CONTACTS_LIST_ID, FieldError, StatusLine, SubmitButton, TextField, focusFirstInvalid, useFormState } from "./fields";

/**
 * The server's MEMO_MAX_CHARS default, in characters as a reader sees them. No maxLength on the input: it
 * counts UTF-16 code units and would cut a note of emoji at half the limit; memoProblem counts as the server.
 */
const MEMO_MAX = 140;

/**
 * Shows the answer and says whether to clear the inputs. A request still pending is cleared too: it is
 * saved and will be retried, and leaving it in the form would invite a second submission with a new key.
 */
function settle(
  outcome: MoveOutcome,
  context: FormContext,
  errors: { value: FieldErrors },
  live: LiveModel,
): "done" | "pending" | "refused" {
  live.afterOwnAction();
  if (outcome.state === "done") return "done";
  errors.value = errorsFor(outcome.error, context);
  return outcome.state;
}

/** The recipient's wallet id in a transfer's answer (`{ transfer: { to_wallet_id } }`), or null. */
function toWalletOf(data: unknown): string | null {
  if (typeof data !== "object" || data === null || !("transfer" in data)) return null;
  const transfer: unknown = data.transfer;
  if (typeof transfer !== "object" || transfer === null || !("to_wallet_id" in transfer)) return null;
  return typeof transfer.to_wallet_id === "string" ? transfer.to_wallet_id : null;
}

interface AmountOnlyProps {
  kind: "deposit" | "withdrawal";
}

/** Deposit and withdraw differ only in route, words and test ids. */
export function AmountOnlyForm({ kind }: AmountOnlyProps) {
  const amount = useSignal("");
  const { errors, busy, done } = useFormState();
  const form = useRef<HTMLFormElement>(null);
  const { wallet, session, pending, account } = useApp();
  const w = wallet.wallet.value;
  const user = session.me.value?.user;
  const prefix = kind === "deposit" ? "deposit" : "withdraw";
  const title = kind === "deposit" ? "Deposit" : "Withdraw";

  async function onSubmit(event: Event): Promise<void> {
    event.preventDefault();
    if (busy.value || w === null || user === undefined) return;
    done.value = "";
    const parsed = parseMajorToMinor(amount.value, fractionDigitsFor(w.currency));
    if (!parsed.ok) {
      errors.value = { amount: parsed.reason };
      focusFirstInvalid(form.current);
      return;
    }
    busy.value = true;
    errors.value = {};
    const route = `/wallets/${seg(w.id)}/${kind === "deposit" ? "deposits" : "withdrawals"}`;
    const summary = describeMove(kind, parsed.minor, w.currency);
    const outcome = await pending.submitMove({ kind, route, body: { amount: parsed.minor }, user_id: user.id, summary });
    busy.value = false;
    const result = settle(outcome, kind, errors, account.live);
    if (result !== "refused") amount.value = "";
    if (result === "done") done.value = `${kind === "deposit" ? "Deposited" : "Withdrew"} ${formatMinor(parsed.minor, w.currency)}.`;
    // Move focus only if the user is still here: the answer can arrive after they went on to another form.
    if (!focusStillHere(form.current)) return;
    if (result === "refused") focusFirstInvalid(form.current);
    else setTimeout(() => form.current?.querySelector<HTMLInputElement>("input")?.focus(), 0);
  }

  return (
    <form
      ref={form}
      class="card"
      data-testid={`${prefix}-form`}
      onSubmit={(event) => void onSubmit(event)}
      noValidate
      aria-labelledby={`${prefix}-title`}
    >
      <h2 id={`${prefix}-title`}>{title}</h2>
      <TextField
        id={`${prefix}-amount`}
        testid={`${prefix}-amount`}
        label={`Amount${w !== null ? ` (${w.currency})` : ""}`}
        value={amount}
        error={errors.value.amount}
        inputMode="decimal"
        autocomplete="off"
        placeholder="0.00"
        required
      />
      <FieldError id={`${prefix}-form-error`} message={errors.value.form} />
      <SubmitButton testid={`${prefix}-submit`} busy={busy.value}>
        {busy.value ? "Working…" : title}
      </SubmitButton>
      {done.value !== "" ? <StatusLine message={done.value} /> : null}
    </form>
  );
}

function transferBody(w: Wallet, to: object, minor: number, memo: string): Record<string, unknown> {
  const body: Record<string, unknown> = { from_wallet_id: w.id, to, amount: minor };
  if (memo !== "") body.memo = memo;
  return body;
}

export function SendForm() {
  const recipient = useSignal("");
  const amount = useSignal("");
  const memo = useSignal("");
  const { errors, busy, done } = useFormState();
  const form = useRef<HTMLFormElement>(null);
  const { wallet, session, pending, account, contacts, directory } = useApp();
  const w = wallet.wallet.value;
  const user = session.me.value?.user;

  async function onSubmit(event: Event): Promise<void> {
    event.preventDefault();
    if (busy.value || w === null || user === undefined) return;
    done.value = "";
    const to = parseRecipient(recipient.value);
    const parsed = parseMajorToMinor(amount.value, fractionDigitsFor(w.currency));
    const note = memo.value.trim();
    const problems: FieldErrors = {};
    if (!to.ok) problems.recipient = to.reason;
    if (!parsed.ok) problems.amount = parsed.reason;
    const memoIssue = memoProblem(note, MEMO_MAX);
    if (memoIssue !== null) problems.memo = memoIssue;
    if (!to.ok || !parsed.ok || problems.memo !== undefined) {
      errors.value = problems;
      focusFirstInvalid(form.current);
      return;
    }
    busy.value = true;
    errors.value = {};
    const summary = describeMove("transfer", parsed.minor, w.currency, to.label);
    const body = transferBody(w, to.to, parsed.minor, note);
    const outcome = await pending.submitMove({ kind: "transfer", route: "/transfers", body, user_id: user.id, summary });
    busy.value = false;
    const result = settle(outcome, "send", errors, account.live);
    if (result !== "refused") {
      amount.value = "";
      memo.value = "";
    }
    if (result === "done") {
      done.value = `Sent ${formatMinor(parsed.minor, w.currency)} to ${to.label}.`;
      // Whoever was just paid is now a contact, suggested next time, and named in the activity list.
      void contacts.load();
      const paidWallet = outcome.state === "done" ? toWalletOf(outcome.data) : null;
      if (paidWallet !== null && "handle" in to.to) directory.learn(paidWallet, to.to.handle);
    }
    if (!focusStillHere(form.current)) return;
    if (result === "refused") focusFirstInvalid(form.current);
    else setTimeout(() => form.current?.querySelector<HTMLInputElement>("#send-amount")?.focus(), 0);
  }

  const e = errors.value;
  return (
    <form
      ref={form}
      class="card"
      data-testid="send-form"
      onSubmit={(event) => void onSubmit(event)}
      noValidate
      aria-labelledby="send-title"
    >
      <h2 id="send-title">Send money</h2>
      <TextField
        id="send-recipient"
        testid="send-recipient"
        label="To"
        hint="A handle (bob), a phone number (+14155550123) or a wallet id (wal_…)"
        value={recipient}
        error={e.recipient}
        autocomplete="off"
        list={CONTACTS_LIST_ID}
        required
      />
      <TextField
        id="send-amount"
        testid="send-amount"
        label={`Amount${w !== null ? ` (${w.currency})` : ""}`}
        value={amount}
        error={e.amount}
        inputMode="decimal"
        autocomplete="off"
        placeholder="0.00"
        required
      />
      <TextField id="send-memo" label="Note" value={memo} error={e.memo} autocomplete="off" required={false} />
      <FieldError id="send-form-error" message={e.form} />
      <SubmitButton testid="send-submit" busy={busy.value}>
        {busy.value ? "Sending…" : "Send"}
      </SubmitButton>
      {done.value !== "" ? <StatusLine message={done.value} /> : null}
    </form>
  );
}

/** True when focus is inside `form` or nowhere in particular (the page body), so moving it steals nothing. */
function focusStillHere(form: HTMLFormElement | null): boolean {
  const active = document.activeElement;
  return active === null || active === document.body || (form !== null && form.contains(active));
}
