/**
 * One history entry in a modal dialog. The native <dialog> gives focus trapping, Escape to close and an
 * inert background for free; focus goes back to the entry that opened it. Transfers also show the transfer
 * itself, fetched from GET /transfers/{id}.
 */
import { useEffect, useRef } from "preact/hooks";
import { useSignal } from "@preact/signals";
import { api, seg } from "../api";
import { formatMinor, formatSignedMinor } from "../money";
import type { Entry, Transfer } from "../types";
import { KIND_LABELS, formatDate } from "./format";
import { UserText } from "./UserText";

type TransferState = { state: "loading" } | { state: "error" } | { state: "done"; transfer: Transfer };

function TransferFacts({ id, currency }: { id: string; currency: string }) {
  const info = useSignal<TransferState>({ state: "loading" });
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
  }, [id]);
  const value = info.value;
  if (value.state === "loading") return <p class="muted">Loading the transfer…</p>;
  if (value.state === "error") return <p class="error">The transfer details could not be loaded.</p>;
  const t = value.transfer;
  return (
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
    </dl>
  );
}

export function EntryDetail({ entry, currency, onClose }: { entry: Entry; currency: string; onClose: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    const element = dialog.current;
    if (element !== null && !element.open) element.showModal();
    return () => opener?.focus();
  }, []);
  const isTransfer = entry.kind === "transfer_in" || entry.kind === "transfer_out";
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
            <dt>{entry.kind === "transfer_in" ? "From wallet" : "To wallet"}</dt>
            <dd>
              <code>{entry.counterparty}</code>
            </dd>
          </>
        ) : null}
        <dt>Entry number</dt>
        <dd>{entry.seq}</dd>
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
      {isTransfer ? <TransferFacts id={entry.transfer_id} currency={currency} /> : null}
      <button type="button" class="secondary" onClick={() => dialog.current?.close()}>
        Close
      </button>
    </dialog>
  );
}
