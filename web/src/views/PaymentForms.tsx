/**
 * Asking for money: one request ("Request money") or a bill split into one request per person ("Split a
 * bill"). Neither moves money, but both go through the pending model like the money forms, so a lost answer is
 * retried with the same Idempotency-Key and can never create a second request; the busy flag is set before the
 * first await, so a double click cannot submit twice either.
 */
import { useRef } from "preact/hooks";
import { signal, useSignal, type Signal } from "@preact/signals";
import { errorsFor, type FieldErrors } from "../errors";
import { formatMinor, fractionDigitsFor, parseMajorToMinor } from "../money";
import { parseRecipient, type Recipient } from "../recipient";
import { memoProblem } from "../text";
import { describeMove } from "../models/account";
import type { PaymentRequest, Split } from "../types";
import { useApp } from "./context";
import { CONTACTS_LIST_ID, FieldError, StatusLine, SubmitButton, TextField, focusFirstInvalid, useFormState } from "./fields";
import { REQUEST_STATUS_LABELS, partyLabel } from "./format";

const MEMO_MAX = 140;

/** The expiry choices, in seconds; the server's default (7 days) comes first. */
const EXPIRY_CHOICES: readonly [number, string][] = [
  [604_800, "7 days"],
  [3_600, "1 hour"],
  [86_400, "1 day"],
  [259_200, "3 days"],
  [2_592_000, "30 days"],
];

/** The contract's payer: registered users by handle or phone (wallet ids work too, as for a transfer's `to`). */
function payerOf(text: string): { ok: true; payer: Recipient; label: string } | { ok: false; reason: string } {
  const parsed = parseRecipient(text);
  return parsed.ok ? { ok: true, payer: parsed.to, label: parsed.label } : parsed;
}

function ExpirySelect({ id, value }: { id: string; value: Signal<number> }) {
  return (
    <div class="field">
      <label for={id}>
        Expires after<span class="optional"> (optional)</span>
      </label>
      <select
        id={id}
        data-testid={id}
        value={String(value.value)}
        onChange={(event) => {
          value.value = Number(event.currentTarget.value);
        }}
      >
        {EXPIRY_CHOICES.map(([seconds, label]) => (
          <option key={seconds} value={String(seconds)}>
            {label}
          </option>
        ))}
      </select>
    </div>
  );
}

export function RequestForm() {
  const payer = useSignal("");
  const amount = useSignal("");
  const memo = useSignal("");
  const expiry = useSignal(EXPIRY_CHOICES[0]?.[0] ?? 604_800);
  const { errors, busy, done } = useFormState();
  const form = useRef<HTMLFormElement>(null);
  const { wallet, session, pending, requests, contacts } = useApp();
  const w = wallet.wallet.value;
  const user = session.me.value?.user;

  async function onSubmit(event: Event): Promise<void> {
    event.preventDefault();
    if (busy.value || w === null || user === undefined) return;
    done.value = "";
    const who = payerOf(payer.value);
    const parsed = parseMajorToMinor(amount.value, fractionDigitsFor(w.currency));
    const note = memo.value.trim();
    const problems: FieldErrors = {};
    if (!who.ok) problems.payer = who.reason;
    if (!parsed.ok) problems.amount = parsed.reason;
    const memoIssue = memoProblem(note, MEMO_MAX);
    if (memoIssue !== null) problems.memo = memoIssue;
    if (!who.ok || !parsed.ok || memoIssue !== null) {
      errors.value = problems;
      focusFirstInvalid(form.current);
      return;
    }
    busy.value = true;
    errors.value = {};
    const body: Record<string, unknown> = { wallet_id: w.id, payer: who.payer, amount: parsed.minor, expires_in_s: expiry.value };
    if (note !== "") body.memo = note;
    const summary = describeMove("request", parsed.minor, w.currency, who.label);
    const outcome = await pending.submitMove({ kind: "request", route: "/payment-requests", body, user_id: user.id, summary });
    busy.value = false;
    if (outcome.state === "refused") {
      errors.value = errorsFor(outcome.error, "request");
      focusFirstInvalid(form.current);
      return;
    }
    payer.value = "";
    amount.value = "";
    memo.value = "";
    if (outcome.state === "pending") {
      errors.value = errorsFor(outcome.error, "request");
      return;
    }
    const made = (outcome.data as { payment_request?: PaymentRequest } | null)?.payment_request;
    if (made !== undefined) requests.applyRequest(made);
    void contacts.load();
    done.value = `Asked ${who.label} for ${formatMinor(parsed.minor, w.currency)}.`;
  }

  const e = errors.value;
  return (
    <form
      ref={form}
      class="card"
      data-testid="request-form"
      onSubmit={(event) => void onSubmit(event)}
      noValidate
      aria-labelledby="request-title"
    >
      <h2 id="request-title">Request money</h2>
      <TextField
        id="request-payer"
        testid="request-payer"
        label="From"
        hint="Who should pay: a handle (bob) or a phone number (+14155550123)"
        value={payer}
        error={e.payer}
        autocomplete="off"
        list={CONTACTS_LIST_ID}
        required
      />
      <TextField
        id="request-amount"
        testid="request-amount"
        label={`Amount${w !== null ? ` (${w.currency})` : ""}`}
        value={amount}
        error={e.amount}
        inputMode="decimal"
        autocomplete="off"
        placeholder="0.00"
        required
      />
      <TextField id="request-memo" testid="request-memo" label="Note" value={memo} error={e.memo} autocomplete="off" required={false} />
      <ExpirySelect id="request-expiry" value={expiry} />
      <FieldError id="request-form-error" message={e.form ?? e.expiry} />
      <SubmitButton testid="request-submit" busy={busy.value}>
        {busy.value ? "Asking…" : "Request"}
      </SubmitButton>
      {done.value !== "" ? <StatusLine message={done.value} /> : null}
    </form>
  );
}

interface ShareRow {
  /** A stable key for the row, so removing one keeps the others' inputs and focus. */
  key: number;
  payer: Signal<string>;
  amount: Signal<string>;
}

type RowErrors = Record<number, { payer?: string; amount?: string }>;

/** The shares as typed, checked locally; `null` total while any amount is not a valid amount yet. */
function readShares(rows: readonly ShareRow[], digits: number) {
  const problems: RowErrors = {};
  const shares: { payer: Recipient; amount: number; label: string }[] = [];
  for (const row of rows) {
    const who = payerOf(row.payer.value);
    const parsed = parseMajorToMinor(row.amount.value, digits);
    if (!who.ok || !parsed.ok) {
      problems[row.key] = { ...(who.ok ? {} : { payer: who.reason }), ...(parsed.ok ? {} : { amount: parsed.reason }) };
      continue;
    }
    shares.push({ payer: who.payer, amount: parsed.minor, label: who.label });
  }
  return { problems, shares };
}

/** The sum of the amounts typed so far that parse, in minor units; exact, since each is a safe integer. */
function totalOf(rows: readonly ShareRow[], digits: number): { minor: number; complete: boolean } {
  let minor = 0;
  let complete = true;
  for (const row of rows) {
    const parsed = parseMajorToMinor(row.amount.value, digits);
    if (parsed.ok && Number.isSafeInteger(minor + parsed.minor)) minor += parsed.minor;
    else complete = false;
  }
  return { minor, complete };
}

function SplitRow(props: {
  row: ShareRow;
  index: number;
  errors: RowErrors[number] | undefined;
  canRemove: boolean;
  onRemove: () => void;
  currency: string;
}) {
  const { row, index, errors } = props;
  const n = index + 1;
  return (
    <li class="share-row" data-testid="split-row">
      <fieldset>
        <legend>Person {n}</legend>
        <TextField
          id={`split-payer-${row.key}`}
          testid="split-payer"
          label={`Who pays share ${n}`}
          value={row.payer}
          error={errors?.payer}
          autocomplete="off"
          list={CONTACTS_LIST_ID}
          required
        />
        <TextField
          id={`split-amount-${row.key}`}
          testid="split-amount"
          label={`Amount of share ${n} (${props.currency})`}
          value={row.amount}
          error={errors?.amount}
          inputMode="decimal"
          autocomplete="off"
          placeholder="0.00"
          required
        />
        <button type="button" class="link" data-testid="split-remove" disabled={!props.canRemove} onClick={props.onRemove}>
          Remove person {n}
        </button>
      </fieldset>
    </li>
  );
}

/** The split just made, with each request's status as it changes (the outgoing list is live). */
function SplitResult({ split, currency }: { split: Split; currency: string }) {
  const { requests } = useApp();
  const current = new Map(requests.outgoing.value.map((r) => [r.id, r]));
  return (
    <div data-testid="split-result">
      <h3>Split {formatMinor(split.amount, currency)}</h3>
      <ul class="plain-list">
        {split.requests.map((made) => {
          const r = current.get(made.id) ?? made;
          return (
            <li key={r.id} data-testid="split-request" data-status={r.status}>
              {partyLabel(r.payer)}: {formatMinor(r.amount, r.currency)} ·{" "}
              <span class={`badge badge-${r.status}`}>{REQUEST_STATUS_LABELS[r.status]}</span>
            </li>
          );
        })}
      </ul>
    </div>
  );
}

let rowKeys = 0;
function newRow(): ShareRow {
  return { key: ++rowKeys, payer: signal(""), amount: signal("") };
}

export function SplitForm() {
  const rows = useSignal<ShareRow[]>([newRow(), newRow()]);
  const memo = useSignal("");
  const rowErrors = useSignal<RowErrors>({});
  const made = useSignal<Split | null>(null);
  const { errors, busy, done } = useFormState();
  const form = useRef<HTMLFormElement>(null);
  const { wallet, session, pending, requests, contacts } = useApp();
  const w = wallet.wallet.value;
  const user = session.me.value?.user;
  const digits = w !== null ? fractionDigitsFor(w.currency) : 2;

  function addRow(): void {
    const row = newRow();
    rows.value = [...rows.value, row];
    // The new row's first field takes focus, so a keyboard user can type straight on.
    setTimeout(() => document.getElementById(`split-payer-${row.key}`)?.focus(), 0);
  }

  function removeRow(key: number): void {
    const index = rows.value.findIndex((r) => r.key === key);
    rows.value = rows.value.filter((r) => r.key !== key);
    // Focus would fall to the page when the button it was on disappears; the row that takes its place gets it.
    const next = rows.value[Math.min(index, rows.value.length - 1)];
    if (next !== undefined) setTimeout(() => document.getElementById(`split-payer-${next.key}`)?.focus(), 0);
  }

  async function onSubmit(event: Event): Promise<void> {
    event.preventDefault();
    if (busy.value || w === null || user === undefined) return;
    done.value = "";
    const { problems, shares } = readShares(rows.value, digits);
    const note = memo.value.trim();
    const memoIssue = memoProblem(note, MEMO_MAX);
    const sum = shares.reduce((a, s) => a + s.amount, 0);
    rowErrors.value = problems;
    errors.value = memoIssue !== null ? { memo: memoIssue } : {};
    if (Object.keys(problems).length > 0 || memoIssue !== null) {
      focusFirstInvalid(form.current);
      return;
    }
    if (!Number.isSafeInteger(sum)) {
      errors.value = { shares: "That total is too large." };
      return;
    }
    busy.value = true;
    const body: Record<string, unknown> = { wallet_id: w.id, shares: shares.map(({ payer, amount }) => ({ payer, amount })) };
    if (note !== "") body.memo = note;
    const summary = describeMove("split", sum, w.currency, `${shares.length} people`);
    const outcome = await pending.submitMove({ kind: "split", route: "/splits", body, user_id: user.id, summary });
    busy.value = false;
    if (outcome.state !== "done") {
      errors.value = errorsFor(outcome.error, "split");
      if (outcome.state === "refused") focusFirstInvalid(form.current);
      return;
    }
    const split = (outcome.data as { split?: Split } | null)?.split ?? null;
    for (const r of split?.requests ?? []) requests.applyRequest(r);
    made.value = split;
    const fresh = [newRow(), newRow()];
    rows.value = fresh;
    // The typed rows are replaced by empty ones; a field of the old rows had focus, so the first new field takes it
    // rather than the page, ready for the next split.
    if (form.current?.contains(document.activeElement) === true || document.activeElement === document.body)
      setTimeout(() => document.getElementById(`split-payer-${fresh[0]?.key ?? 0}`)?.focus(), 0);
    memo.value = "";
    void contacts.load();
    done.value = `Asked ${shares.length} people for ${formatMinor(sum, w.currency)} in all.`;
  }

  const e = errors.value;
  // Computed in render (cheap), so it follows both the typed amounts and a switch to a wallet in another currency.
  const t = totalOf(rows.value, digits);
  const currency = w?.currency ?? "USD";
  return (
    <form
      ref={form}
      class="card"
      data-testid="split-form"
      onSubmit={(event) => void onSubmit(event)}
      noValidate
      aria-labelledby="split-title"
    >
      <h2 id="split-title">Split a bill</h2>
      <ol class="shares">
        {rows.value.map((row, index) => (
          <SplitRow
            key={row.key}
            row={row}
            index={index}
            errors={rowErrors.value[row.key]}
            canRemove={rows.value.length > 2}
            onRemove={() => removeRow(row.key)}
            currency={currency}
          />
        ))}
      </ol>
      <button type="button" class="secondary" data-testid="split-add" onClick={addRow}>
        Add a person
      </button>
      <p class="split-total" aria-live="polite" data-testid="split-total">
        Total: {formatMinor(t.minor, currency)}
        {t.complete ? "" : " so far"}
      </p>
      <TextField id="split-memo" testid="split-memo" label="Note" value={memo} error={e.memo} autocomplete="off" required={false} />
      <FieldError id="split-form-error" message={e.shares ?? e.payer ?? e.amount ?? e.form} />
      <SubmitButton testid="split-submit" busy={busy.value}>
        {busy.value ? "Asking…" : "Send the requests"}
      </SubmitButton>
      {done.value !== "" ? <StatusLine message={done.value} /> : null}
      {made.value !== null ? <SplitResult split={made.value} currency={currency} /> : null}
    </form>
  );
}
