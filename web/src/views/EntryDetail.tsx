/**
 * One history entry in a modal dialog. The native <dialog> gives focus trapping, Escape to close and an
 * inert background for free; focus goes back to the entry that opened it. Transfers also show the transfer
 * itself, fetched from GET /transfers/{id}.
 */
import { useEffect, useRef } from "preact/hooks";
import { useSignal } from "@preact/signals";
import { api, download, seg } from "../api";
import { errorsFor } from "../errors";
import { formatMinor, formatSignedMinor, fractionDigitsFor, minorToDecimalString, parseMajorToMinor } from "../money";
import { describeMove } from "../models/account";
import { refundableOf } from "../refund";
import { memoProblem } from "../text";
import type { Entry, Transfer } from "../types";
import { useApp } from "./context";
import { FieldError, SubmitButton, TextField, focusFirstInvalid, useFormState } from "./fields";
import { KIND_LABELS, formatDate } from "./format";
import { UserText } from "./UserText";
import { Avatar, partyOf } from "./people";

const MEMO_MAX = 140;

/**
 * Gives money back for a received transfer. The amount starts at what is left to refund; the request goes
 * through the pending model with its own Idempotency-Key, so a retry after a lost answer never refunds twice.
 */
function RefundForm({ transfer, currency, onRefunded }: { transfer: Transfer; currency: string; onRefunded: (text: string) => void }) {
  const rest = refundableOf(transfer);
  const digits = fractionDigitsFor(currency);
  const amount = useSignal(minorToDecimalString(rest, digits));
  const memo = useSignal("");
  const { errors, busy } = useFormState();
  const form = useRef<HTMLFormElement>(null);
  const { session, pending, account } = useApp();
  const user = session.me.value?.user;

  async function onSubmit(event: Event): Promise<void> {
    event.preventDefault();
    if (busy.value || user === undefined) return;
    const parsed = parseMajorToMinor(amount.value, digits);
    const note = memo.value.trim();
    const memoIssue = memoProblem(note, MEMO_MAX);
    if (!parsed.ok || memoIssue !== null) {
      errors.value = { ...(parsed.ok ? {} : { amount: parsed.reason }), ...(memoIssue === null ? {} : { memo: memoIssue }) };
      focusFirstInvalid(form.current);
      return;
    }
    busy.value = true;
    errors.value = {};
    const body: Record<string, unknown> = { amount: parsed.minor };
    if (note !== "") body.memo = note;
    const summary = describeMove("refund", parsed.minor, currency, transfer.from_wallet_id ?? "the sender");
    const route = `/transfers/${seg(transfer.id)}/refunds`;
    const outcome = await pending.submitMove({ kind: "refund", route, body, user_id: user.id, summary });
    busy.value = false;
    account.live.afterOwnAction();
    if (outcome.state === "done") {
      onRefunded(`Refunded ${formatMinor(parsed.minor, currency)}.`);
      return;
    }
    errors.value = errorsFor(outcome.error, "refund");
    if (outcome.state === "refused") focusFirstInvalid(form.current);
  }

  return (
    <form
      ref={form}
      class="refund"
      data-testid="refund-form"
      onSubmit={(event) => void onSubmit(event)}
      noValidate
      aria-labelledby="refund-title"
    >
      <h3 id="refund-title">Refund</h3>
      <p class="muted" id="refund-rest">
        Up to {formatMinor(rest, currency)} can still be refunded.
      </p>
      <TextField
        id="refund-amount"
        testid="refund-amount"
        label={`Amount (${currency})`}
        value={amount}
        error={errors.value.amount}
        inputMode="decimal"
        autocomplete="off"
        describedBy="refund-rest"
        required
      />
      <TextField id="refund-memo" label="Note" value={memo} error={errors.value.memo} autocomplete="off" required={false} />
      <FieldError id="refund-form-error" message={errors.value.form} />
      <SubmitButton testid="refund-submit" busy={busy.value}>
        {busy.value ? "Refunding…" : "Refund"}
      </SubmitButton>
    </form>
  );
}

type TransferState = { state: "loading" } | { state: "error" } | { state: "done"; transfer: Transfer };

function TransferFacts({ id, currency, received }: { id: string; currency: string; received: boolean }) {
  const info = useSignal<TransferState>({ state: "loading" });
  /** Bumped after a refund, to fetch the transfer again with its new refunded amount. */
  const version = useSignal(0);
  /** The last refund's confirmation; kept here, since the form is rebuilt (or gone) once the transfer reloads. */
  const refunded = useSignal("");
  useEffect(() => {
    let current = true;
    void api<{ transfer: Transfer }>("GET", `/transfers/${seg(id)}`).then((result) => {
      if (!current) return;
      info.value =
        result.ok && typeof result.data === "object" && result.data !== null
          ? { state: "done", transfer: result.data.transfer }
          : { state: "error" };
    });
    return () => {
      current = false;
    };
  }, [id, version.value]);
  const value = info.value;
  if (value.state === "loading") return <p class="muted">Loading the transfer…</p>;
  if (value.state === "error") return <p class="error">The transfer details could not be loaded.</p>;
  const t = value.transfer;
  return (
    <>
      <dl class="facts">
        <dt>Transfer status</dt>
        <dd>
          {t.status}
          {t.failure_code !== undefined ? ` (${t.failure_code})` : ""}
        </dd>
        <dt>Amount</dt>
        <dd>{formatMinor(t.amount, t.currency ?? currency)}</dd>
        <dt>From wallet</dt>
        <dd>
          <code>{t.from_wallet_id ?? "outside"}</code>
        </dd>
        <dt>To wallet</dt>
        <dd>
          <code>{t.to_wallet_id ?? "outside"}</code>
        </dd>
        <dt>Started</dt>
        <dd>{formatDate(t.created_at)}</dd>
        <dt>Completed</dt>
        <dd>{t.completed_at !== null ? formatDate(t.completed_at) : "not yet"}</dd>
        {t.refund_of !== null ? (
          <>
            <dt>Refund of</dt>
            <dd>
              <code>{t.refund_of}</code>
            </dd>
          </>
        ) : null}
        {t.refunded_amount > 0 ? (
          <>
            <dt>Refunded</dt>
            <dd data-testid="refunded-amount">{formatMinor(t.refunded_amount, t.currency ?? currency)}</dd>
          </>
        ) : null}
      </dl>
      {received && refundableOf(t) > 0 ? (
        <RefundForm
          key={t.refunded_amount}
          transfer={t}
          currency={t.currency ?? currency}
          onRefunded={(text) => {
            refunded.value = text;
            version.value += 1;
            // The form is about to be rebuilt or removed, so focus goes to the confirmation instead of the page.
            setTimeout(() => document.getElementById("refund-done")?.focus(), 0);
          }}
        />
      ) : null}
      <div aria-live="polite">
        {refunded.value !== "" ? (
          <p id="refund-done" tabIndex={-1} role="status" class="status" data-testid="refund-done">
            {refunded.value}
          </p>
        ) : null}
      </div>
    </>
  );
}

/**
 * Whether the continuous self-audit has re-checked this entry's hash chain: the wallet's `chain.verified_seq` is
 * the last seq it verified, so every entry at or below it is covered.
 */
function Verification({ seq }: { seq: number }) {
  const { wallet } = useApp();
  const verified = wallet.wallet.value?.chain.verified_seq ?? 0;
  return verified >= seq ? (
    <span class="badge ok" data-testid="entry-verified">
      Checked by the self-audit
    </span>
  ) : (
    <span class="badge wait" data-testid="entry-verified">
      Not checked yet (the self-audit runs every minute)
    </span>
  );
}

/** Downloads the signed receipt of a transfer (GET /transfers/{id}/receipt) as a JSON file. */
function ReceiptDownload({ transferId }: { transferId: string }) {
  const state = useSignal<{ busy: boolean; error: string | null }>({ busy: false, error: null });
  const start = async (): Promise<void> => {
    if (state.value.busy) return;
    state.value = { busy: true, error: null };
    const result = await download(`/transfers/${seg(transferId)}/receipt`);
    if (!result.ok) {
      state.value = { busy: false, error: result.message };
      return;
    }
    const url = URL.createObjectURL(result.blob);
    const link = document.createElement("a");
    link.href = url;
    link.download = `receipt_${transferId}.json`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    state.value = { busy: false, error: null };
  };
  return (
    <>
      {/* Busy is aria-disabled, not disabled: a disabled button would drop focus out of the dialog (see SubmitButton). */}
      <button
        type="button"
        class="secondary"
        data-testid="receipt-download"
        aria-disabled={state.value.busy ? "true" : undefined}
        onClick={() => void start()}
      >
        {state.value.busy ? "Preparing…" : "Download signed receipt"}
      </button>
      {state.value.error !== null ? (
        <p class="error" role="alert">
          {state.value.error}
        </p>
      ) : null}
    </>
  );
}

export function EntryDetail({ entry, currency, onClose }: { entry: Entry; currency: string; onClose: () => void }) {
  const app = useApp();
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    const element = dialog.current;
    if (element !== null && !element.open) element.showModal();
    return () => opener?.focus();
  }, []);
  const isTransfer = entry.kind === "transfer_in" || entry.kind === "transfer_out";
  const party = partyOf(app, entry);
  return (
    <dialog ref={dialog} class="detail" aria-labelledby="detail-title" onClose={onClose}>
      <h2 id="detail-title">
        {KIND_LABELS[entry.kind]} {formatSignedMinor(entry.amount, currency)}
      </h2>
      <dl class="facts">
        <dt>When</dt>
        <dd>{formatDate(entry.created_at)}</dd>
        <dt>Balance after</dt>
        <dd>{formatMinor(entry.balance_after, currency)}</dd>
        {entry.memo !== null && entry.memo !== "" ? (
          <>
            <dt>Note</dt>
            <dd>
              <UserText text={entry.memo} block />
            </dd>
          </>
        ) : null}
        {entry.counterparty !== null ? (
          <>
            <dt>{entry.kind === "transfer_in" ? "From" : "To"}</dt>
            <dd class="party" data-testid="entry-party">
              <Avatar party={party} />
              <span>
                <UserText text={party.name} />
                {party.handle !== null && party.name !== `@${party.handle}` ? <span class="muted"> @{party.handle}</span> : null}
              </span>
            </dd>
            <dt>{entry.kind === "transfer_in" ? "From wallet" : "To wallet"}</dt>
            <dd>
              <code>{entry.counterparty}</code>
            </dd>
          </>
        ) : null}
        <dt>Entry number</dt>
        <dd data-testid="entry-seq">{entry.seq}</dd>
        <dt>Verification</dt>
        <dd>
          <Verification seq={entry.seq} />
        </dd>
        <dt>Reference</dt>
        <dd>
          <code>{entry.transfer_id}</code>
        </dd>
        <dt>Hash</dt>
        <dd>
          <code class="hash">{entry.hash}</code>
        </dd>
        <dt>Previous hash</dt>
        <dd>
          <code class="hash">{entry.prev_hash}</code>
        </dd>
      </dl>
      {isTransfer ? (
        <TransferFacts id={entry.transfer_id} currency={currency} received={entry.kind === "transfer_in" && entry.refund_of === null} />
      ) : null}
      <div class="dialog-actions">
        {isTransfer ? <ReceiptDownload transferId={entry.transfer_id} /> : null}
        <button type="button" class="secondary" onClick={() => dialog.current?.close()}>
          Close
        </button>
      </div>
    </dialog>
  );
}
