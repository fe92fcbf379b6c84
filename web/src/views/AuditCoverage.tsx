/**
 * The auditor screen's pictures: verification coverage (how much of the audit log, the wallets' chains and the
 * ledger the checks have covered) and money in the system (deposits minus withdrawals beside the sum of balances).
 * Kept apart from AuditView, which holds the screen's layout, the verify button and the audit log itself.
 */
import { formatMinor } from "../money";
import { mainCurrency, type AuditModel } from "../models/audit";
import type { AuditTotals, LogCoverage, VerifySummary } from "../types";
import { conservationSeries, moneyInSystem } from "../insights";
import { Chart } from "./Chart";
import { formatDate } from "./format";

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
export function Coverage({ audit }: { audit: AuditModel }) {
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
export function MoneyInSystem({ audit }: { audit: AuditModel }) {
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
