/**
 * The auditor screen: the append-only audit log with server-side filters and paging, and the hash-chain
 * verification. Rendered only for auditors; the server refuses everyone else anyway.
 */
import { useModel, useSignal } from "@preact/signals";
import { formatMinor } from "../money";
import { AuditModel, mainCurrency, type AuditFilters } from "../models/audit";
import type { AuditRow, AuditTotals, LogCoverage, VerifySummary } from "../types";
import { conservationSeries, moneyInSystem } from "../insights";
import { Chart } from "./Chart";
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

/** A share of a whole as a whole percentage, for the meters' widths and words (0 when the whole is empty). */
function percent(part: number, whole: number): number {
  return whole <= 0 ? 0 : Math.min(100, Math.max(0, Math.round((part / whole) * 100)));
}

/** One bar of the meter. Its width is set through the CSSOM, which the CSP allows, instead of a style attribute. */
function Bar({ kind, share }: { kind: string; share: number }) {
  return <span class={kind} ref={(el) => el?.style.setProperty("width", `${share}%`)} />;
}

/**
 * Verification coverage as pictures: how much of the audit log the continuous self-audit has checked, and, after
 * a Verify, how many wallets were checked live, through the self-audit's marks, or not at all, and how much of
 * the ledger the transparency log covers.
 */
function Coverage({ audit }: { audit: AuditModel }) {
  const s = audit.selfAudit.value;
  const v = audit.verifyState.value;
  const rowsShare = s === null ? 0 : percent(s.audited_through_seq, s.newest_seq);
  return (
    <section class="card" aria-labelledby="coverage-title" data-testid="coverage">
      <h2 id="coverage-title">Verification coverage</h2>
      <h3>Audit rows checked by the self-audit</h3>
      {s === null ? (
        <div class="skeleton" aria-hidden="true">
          <span />
        </div>
      ) : (
        <>
          <div class="meter" role="img" aria-label={`${rowsShare}% of audit rows checked`} data-testid="coverage-rows">
            <Bar kind="m-self" share={s.newest_seq === 0 ? 100 : rowsShare} />
          </div>
          <p class="muted">
            {s.newest_seq === 0
              ? "No audit rows yet."
              : `Through row ${s.audited_through_seq.toLocaleString()} of ${s.newest_seq.toLocaleString()} (${rowsShare}%).`}
          </p>
        </>
      )}
      <h3>Wallet chains at the last check</h3>
      {v.state === "done" ? (
        <WalletCoverage result={v.result} />
      ) : (
        <p class="muted">Run "Verify now" to see how many wallets' chains are covered.</p>
      )}
      <h3>History entries in the transparency log</h3>
      {v.state === "done" && v.result.log !== null ? (
        <LogCoverageBar log={v.result.log} />
      ) : (
        <p class="muted">Run "Verify now" to see how much of the ledger the public log covers.</p>
      )}
    </section>
  );
}

/**
 * A meter of three parts, each a count drawn as its share of `total`: checked now (m-live), covered otherwise
 * (m-self) and not covered (m-none, the meter's empty rest), with a legend naming each count in words.
 */
function ThreePartMeter(props: { testid: string; label: string; total: number; parts: [string, number][] }) {
  const kinds = ["m-live", "m-self", "m-none"] as const;
  return (
    <>
      <div class="meter" role="img" aria-label={props.label} data-testid={props.testid}>
        {props.parts.slice(0, 2).map(([, count], i) => (
          <Bar key={kinds[i]} kind={kinds[i] ?? "m-none"} share={percent(count, props.total)} />
        ))}
      </div>
      <ul class="legend">
        {props.parts.map(([text, count], i) => (
          <li key={text}>
            <span class={`key ${kinds[i] ?? "m-none"}`} aria-hidden="true" />
            {text}: {count.toLocaleString()}
          </li>
        ))}
      </ul>
    </>
  );
}

function WalletCoverage({ result }: { result: VerifySummary }) {
  const total = Math.max(result.wallets_total, result.wallets_checked + result.verified_by_self_audit + result.unverified_wallets);
  return (
    <ThreePartMeter
      testid="coverage-wallets"
      label={`${result.wallets_checked} wallets checked now, ${result.verified_by_self_audit} covered by the self-audit, ${result.unverified_wallets} not checked, of ${total}`}
      total={total}
      parts={[
        ["Checked now", result.wallets_checked],
        ["By the self-audit", result.verified_by_self_audit],
        ["Not checked", result.unverified_wallets],
      ]}
    />
  );
}

/**
 * The log's share of the ledger at the last Verify: leaves that Verify compared with D1 just now, leaves a signed
 * checkpoint covers (compared by earlier checks in rotation), and entries no checkpoint covers yet.
 */
function LogCoverageBar({ log }: { log: LogCoverage }) {
  return (
    <ThreePartMeter
      testid="coverage-log"
      label={`${log.leaves_checked} leaves compared with D1 now, ${log.tree_size} in signed checkpoints, ${log.uncovered} entries not yet in a checkpoint`}
      total={log.tree_size + log.uncovered}
      parts={[
        ["Compared with D1 now", log.leaves_checked],
        ["Also in a signed checkpoint", log.tree_size - log.leaves_checked],
        ["Not yet in a checkpoint", log.uncovered],
      ]}
    />
  );
}

/** The conservation chart: deposits minus withdrawals and the sum of balances over time, from GET /audit/totals. */
function TotalsChart({ totals }: { totals: AuditTotals }) {
  const s = conservationSeries(totals.buckets);
  const currency = totals.currency;
  const last = s.net.length - 1;
  const label =
    last < 0
      ? "No totals yet."
      : `Deposits minus withdrawals ${formatMinor(s.net[last] ?? 0, currency)} and the sum of balances ${formatMinor(s.balances[last] ?? 0, currency)} at the end; ${
          s.gaps.length === 0 ? "the two lines agree everywhere" : `they differ at ${s.gaps.length} points`
        }.`;
  return (
    <>
      <Chart
        testid="money-chart"
        label={label}
        series={{ x: s.x, ys: [s.net, s.balances], labels: ["Deposits minus withdrawals", "Sum of balances"] }}
        formatY={(minor) => formatMinor(minor, currency)}
        stepped
      />
      <ul class="legend">
        <li>
          <span class="key k-net" aria-hidden="true" />
          Deposits − withdrawals
        </li>
        <li>
          <span class="key k-balances" aria-hidden="true" />
          Sum of balances
        </li>
      </ul>
      <div data-testid="totals-verdict" aria-live="polite">
        {s.gaps.length === 0 ? (
          <p>
            <span class="badge ok">The lines agree: every balance is accounted for by money put in</span>
          </p>
        ) : (
          <>
            <p>
              <span class="badge bad">Finding: the sum of balances differs from the money put in</span>
            </p>
            <ul class="findings" data-testid="totals-gaps">
              {s.gaps.slice(-5).map((gap) => (
                <li key={gap.end}>
                  Before {formatDate(gap.end)}: balances {formatMinor(gap.balances, currency)}, deposits − withdrawals{" "}
                  {formatMinor(gap.net, currency)} (off by {formatMinor(gap.balances - gap.net, currency)})
                </li>
              ))}
            </ul>
          </>
        )}
      </div>
    </>
  );
}

/**
 * Money put into the system (deposits minus withdrawals) beside the sum of every balance, over time, for the
 * main currency of the log; and the conservation verdict of the last Verify, per currency. Until the server's
 * totals arrive (or where it has none), the loaded rows alone give the first line.
 */
function MoneyInSystem({ audit }: { audit: AuditModel }) {
  const rows = audit.rows.value;
  const totals = audit.totals.value;
  const currency = mainCurrency(rows);
  const series = currency === null ? null : moneyInSystem(rows, currency);
  const v = audit.verifyState.value;
  const conservation = v.state === "done" ? v.result.problems.filter((p) => p.kind === "conservation") : null;
  return (
    <section class="card" aria-labelledby="money-title" data-testid="money-in-system">
      <h2 id="money-title">Money in the system</h2>
      <p class="muted">
        Deposits minus withdrawals{currency !== null ? ` in ${currency}` : ""}, beside the sum of every wallet's balance. Payments between
        wallets change neither; a gap between the lines is money that appeared or vanished.
      </p>
      {totals !== null && totals !== "error" ? (
        <TotalsChart totals={totals} />
      ) : series === null || series.x.length < 2 || currency === null ? (
        <p class="chart-empty">The picture appears once the log holds deposits or withdrawals.</p>
      ) : (
        <Chart
          testid="money-chart"
          label={`Net money put in over the loaded rows: ${formatMinor(series.y.at(-1) ?? 0, currency)} at the end.`}
          series={{ x: series.x, ys: [series.y], labels: ["Deposits minus withdrawals"] }}
          formatY={(minor) => formatMinor(minor, currency)}
          stepped
        />
      )}
      <p data-testid="conservation">
        {conservation === null ? (
          <span class="muted">Every Verify also compares the two in every currency.</span>
        ) : conservation.length === 0 ? (
          <span class="badge ok">Sum of balances = deposits − withdrawals, in every currency</span>
        ) : (
          <span class="badge bad">Sum of balances differs: {conservation.map((p) => p.detail).join("; ")}</span>
        )}
      </p>
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
