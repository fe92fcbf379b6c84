/**
 * The auditor screen: the append-only audit log with server-side filters and paging, and the hash-chain
 * verification. Rendered only for auditors; the server refuses everyone else anyway.
 */
import { useModel, useSignal } from "@preact/signals";
import { formatMinor } from "../money";
import { AuditModel, type AuditFilters } from "../models/audit";
import type { AuditRow } from "../types";
import { Coverage, MoneyInSystem } from "./AuditCoverage";
import { formatDate } from "./format";

function amountOf(row: AuditRow): string {
  return row.currency !== null ? formatMinor(row.amount, row.currency) : `${row.amount} minor units`;
}

function Filters({ audit }: { audit: AuditModel }) {
  const kind = useSignal<AuditFilters["kind"]>(audit.filters.value.kind);
  const status = useSignal<AuditFilters["status"]>(audit.filters.value.status);
  const walletId = useSignal(audit.filters.value.wallet_id);
  return (
    <form
      class="filters"
      aria-label="Audit filters"
      onSubmit={(event) => {
        event.preventDefault();
        audit.applyFilters({ kind: kind.value, status: status.value, wallet_id: walletId.value });
      }}
    >
      <div class="field">
        <label for="audit-kind">Kind</label>
        <select
          id="audit-kind"
          value={kind.value}
          onChange={(event) => {
            const v = event.currentTarget.value;
            if (v === "" || v === "transfer" || v === "deposit" || v === "withdrawal") kind.value = v;
          }}
        >
          <option value="">All</option>
          <option value="transfer">Transfer</option>
          <option value="deposit">Deposit</option>
          <option value="withdrawal">Withdrawal</option>
        </select>
      </div>
      <div class="field">
        <label for="audit-status">Status</label>
        <select
          id="audit-status"
          value={status.value}
          onChange={(event) => {
            const v = event.currentTarget.value;
            if (v === "" || v === "succeeded" || v === "failed") status.value = v;
          }}
        >
          <option value="">All</option>
          <option value="succeeded">Succeeded</option>
          <option value="failed">Failed</option>
        </select>
      </div>
      <div class="field">
        <label for="audit-wallet">Wallet id</label>
        <input
          id="audit-wallet"
          value={walletId.value}
          onInput={(event) => (walletId.value = event.currentTarget.value)}
          autocomplete="off"
          spellcheck={false}
        />
      </div>
      <button type="submit" class="secondary">
        Apply
      </button>
    </form>
  );
}

function Verify({ audit }: { audit: AuditModel }) {
  const v = audit.verifyState.value;
  return (
    <section class="card" aria-labelledby="verify-title">
      <h2 id="verify-title">Hash-chain check</h2>
      <p class="muted">Recomputes every wallet's history hashes on the server and reports any break.</p>
      <button
        type="button"
        class="primary"
        data-testid="audit-verify"
        // While checking it is aria-disabled, not disabled, so the keyboard user's focus stays on it (see SubmitButton);
        // runVerify ignores a press while a check runs.
        onClick={() => void audit.runVerify()}
        aria-disabled={v.state === "loading" ? "true" : undefined}
      >
        {v.state === "loading" ? "Checking…" : "Verify now"}
      </button>
      {v.state === "loading" ? (
        <p>
          <label for="verify-progress">
            Checked {v.wallets_done.toLocaleString()} of {v.wallets_total.toLocaleString()} wallets
          </label>{" "}
          <progress id="verify-progress" data-testid="audit-verify-progress" max={Math.max(1, v.wallets_total)} value={v.wallets_done} />
        </p>
      ) : null}
      <div aria-live="polite" data-testid="audit-verify-result">
        {v.state === "unavailable" ? <p class="muted">Verification is not available yet on this server.</p> : null}
        {v.state === "forbidden" ? <p class="error">Only auditors can run the check.</p> : null}
        {v.state === "error" ? <p class="error">The check could not be finished. Please try again.</p> : null}
        {v.state === "done" ? (
          <div class={v.result.ok ? "verify ok" : "verify bad"}>
            <p>
              <strong>{v.result.ok ? "All chains are intact." : "Problems found."}</strong> Checked{" "}
              {v.result.entries_checked.toLocaleString()} entries in {v.result.wallets_checked.toLocaleString()} wallets
              {v.result.pending > 0 ? `; ${v.result.pending} recent entries were still on their way to the audit store` : ""}.
            </p>
            {v.result.problems.length > 0 ? (
              <ul data-testid="audit-verify-problems">
                {v.result.problems.map((problem, i) => (
                  <li key={i}>
                    <strong>{problem.kind}</strong>
                    {problem.wallet_id !== null ? (
                      <>
                        {" "}
                        in wallet <code>{problem.wallet_id}</code>
                      </>
                    ) : null}
                    {problem.seq !== null ? ` at seq ${problem.seq}` : ""}: {problem.detail}
                  </li>
                ))}
              </ul>
            ) : null}
            {v.result.problems_omitted > 0 ? <p class="muted">…and {v.result.problems_omitted.toLocaleString()} more.</p> : null}
          </div>
        ) : null}
      </div>
    </section>
  );
}

/** A duration in words, coarse enough to read at a glance. */
function ago(ms: number): string {
  const s = Math.round(ms / 1_000);
  if (s < 90) return `${s} s`;
  const m = Math.round(s / 60);
  return m < 90 ? `${m} min` : `${Math.round(m / 60)} h`;
}

/** The continuous self-audit: whether it has checked every change the audit log has received, or how far behind it is. */
function SelfAudit({ audit }: { audit: AuditModel }) {
  const s = audit.selfAudit.value;
  return (
    <section class="card" aria-labelledby="self-audit-title" data-testid="self-audit">
      <h2 id="self-audit-title">Continuous self-audit</h2>
      <p class="muted">Every minute the server re-checks the hash chains of the wallets that changed.</p>
      {s === null ? (
        <p class="muted">Loading…</p>
      ) : (
        <p aria-live="polite">
          {s.backlog_rows === 0 ? (
            <strong>Up to date: every audit row has been checked.</strong>
          ) : (
            <strong>
              {s.backlog_rows.toLocaleString()} audit {s.backlog_rows === 1 ? "row" : "rows"} waiting; the oldest for {ago(s.lag_ms)}.
            </strong>
          )}{" "}
          {s.last_run_at !== null ? `Last run ${formatDate(s.last_run_at)}.` : "No run yet."}{" "}
          {s.findings === 0 ? "No findings." : `${s.findings} findings recorded.`}
        </p>
      )}
    </section>
  );
}

/** The screen; its model (and the model's refresh timer) lives exactly as long as the screen is shown. */
export function AuditView() {
  const audit = useModel(AuditModel);
  const status = audit.status.value;
  const rows = audit.rows.value;
  return (
    <main id="main" tabIndex={-1} class="stack">
      <h1 class="visually-hidden">Audit</h1>
      <div class="audit-top">
        <Verify audit={audit} />
        <Coverage audit={audit} />
        <MoneyInSystem audit={audit} />
        <SelfAudit audit={audit} />
      </div>
      <section class="card" aria-labelledby="audit-title">
        <h2 id="audit-title">Audit log</h2>
        <p class="muted">Newest first. Rows are written in batches, so a payment appears here a few seconds after it is made.</p>
        <Filters audit={audit} />
        {status === "forbidden" ? <p class="error">Only auditors can read the audit log.</p> : null}
        {status === "error" ? (
          <p class="error" role="alert">
            The audit log could not be loaded.
          </p>
        ) : null}
        <ul class="audit-rows" data-testid="audit-list" aria-label="Audit rows, newest first">
          {rows.map((row) => (
            <li key={row.id} class="audit-row" data-testid="audit-item">
              <span class={`badge ${row.status}`}>{row.status}</span> <strong>{row.kind}</strong> {amountOf(row)}
              <span class="entry-meta">
                {formatDate(row.created_at)}
                {row.failure_code !== null ? ` · ${row.failure_code}` : ""}
              </span>
              <span class="entry-meta">
                <code>{row.from_wallet_id ?? "outside"}</code> → <code>{row.to_wallet_id ?? "outside"}</code>
              </span>
            </li>
          ))}
        </ul>
        {audit.ready.value && rows.length === 0 && status === "idle" ? <p class="muted">No audit rows match.</p> : null}
        {audit.cursor.value !== null ? (
          <button type="button" class="secondary" onClick={() => void audit.loadAudit(false)} disabled={status === "loading"}>
            {status === "loading" ? "Loading…" : "Load more"}
          </button>
        ) : null}
      </section>
    </main>
  );
}
