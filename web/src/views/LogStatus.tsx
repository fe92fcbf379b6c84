/**
 * What the browser's own check of the shown history against the transparency log found (models/logcheck.ts):
 * "History verified up to <time>" with a panel saying plainly what was checked and what that rests on, and an
 * alarm that stays (role=alert) until the user dismisses it knowingly.
 */
import { useSignal } from "@preact/signals";
import type { LogAlarm, LogVerified } from "../logverify";
import type { LogCheckModel } from "../models/logcheck";

const exact = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });

/** A timestamp to the second, in the reader's locale; an unparseable one is shown as it came. */
function when(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : exact.format(date);
}

const ALARM_TITLES: Record<LogAlarm["kind"], string> = {
  key_changed: "The log's signing key changed",
  witnesses_changed: "The log's witnesses changed",
  bad_signature: "The log's checkpoint has a bad signature",
  bad_cosignature: "A witness's cosignature is forged",
  rollback: "The log went back in time",
  fork: "The log forked",
  inconsistent: "The log changed entries it had already published",
  chain_broken: "Your history does not add up",
  not_included: "Your history does not match the log",
  missing: "An entry of your history is missing from the log",
  malformed: "The log answered with something malformed",
};

/** The alarm, full width above the dashboard, until the user dismisses it having ticked that they understand. */
export function LogAlarmBanner({ log }: { log: LogCheckModel }) {
  const understood = useSignal(false);
  const alarm = log.alarm.value;
  if (alarm === null) return null;
  return (
    <div class="log-alarm" role="alert" data-testid="log-alarm" data-kind={alarm.kind}>
      <h2>Warning: {ALARM_TITLES[alarm.kind]}</h2>
      <p>{alarm.message}</p>
      {alarm.kind === "witnesses_changed" ? (
        <p>
          Independent witnesses check the service's public log and cosign it; your browser remembers their keys so that the service cannot
          quietly replace them with witnesses of its own. The set changed on {when(alarm.at)}. An operator may honestly add or retire a
          witness, and says so publicly: if you have not seen such an announcement, keep your receipts and statements and contact the
          operator or an independent auditor. Dismissing this warning accepts the new witnesses; until then no cosignature is shown as
          verified.
        </p>
      ) : (
        <p>
          Your browser checks your history against the service's public, append-only log. This check failed on {when(alarm.at)}, which means
          your history as shown may have been changed after it was recorded. Keep your receipts and statements, and contact the operator or
          an independent auditor. This warning stays until you dismiss it; nothing the server answers can remove it.
        </p>
      )}
      <label class="log-alarm-ack">
        <input
          type="checkbox"
          data-testid="log-alarm-understood"
          checked={understood.value}
          onChange={(event) => (understood.value = event.currentTarget.checked)}
        />{" "}
        I have read this warning and understand that this history could not be verified
      </label>
      <button
        type="button"
        data-testid="log-alarm-dismiss"
        disabled={!understood.value}
        onClick={() => {
          understood.value = false;
          log.dismissAlarm();
          // The banner goes away with this button, which would drop focus to the page: the dashboard takes it.
          setTimeout(() => document.getElementById("main")?.focus(), 0);
        }}
      >
        Dismiss the warning
      </button>
    </div>
  );
}

/** The witnessed checkpoint: only cosignatures verified with a pinned witness key are named as cosigned. */
function Witnessed({ witnessed }: { witnessed: LogVerified["witnessed"] }) {
  if (witnessed === null) return <p class="muted">No independent witness has cosigned a checkpoint of this log yet.</p>;
  const missing = witnessed.not_cosigned.length > 0 ? ` Not cosigned by: ${witnessed.not_cosigned.join(", ")}.` : "";
  if (witnessed.cosigners.length === 0)
    return (
      <p class="muted" data-testid="log-witnessed">
        The log's witnessed checkpoint of {witnessed.size} entries carries no cosignature this browser could verify.{missing}
      </p>
    );
  const cosigned = witnessed.cosigners.map((c) => `cosigned by ${c.name} (verified) at ${when(new Date(c.time_s * 1000).toISOString())}`);
  return (
    <p data-testid="log-witnessed">
      Witnessed: the log's checkpoint of {witnessed.size} entries is {cosigned.join("; ")}, and it is consistent with the checkpoint
      checked.{missing}
    </p>
  );
}

/** The verification status and the panel that explains it. */
export function LogStatusCard({ log }: { log: LogCheckModel }) {
  const status = log.status.value;
  const alarmed = log.alarm.value !== null;
  let headline;
  if (alarmed) headline = <p class="log-bad">Not verified: see the warning above.</p>;
  else if (status.state === "verified" && status.verified.entry !== null)
    headline = (
      <p class="log-ok" data-testid="log-verified">
        ✓ History verified up to {when(status.verified.entry.created_at)}
      </p>
    );
  else if (status.state === "verified" && status.verified.chain_checked === 0)
    headline = <p class="muted">No history to verify yet: the log's checkpoint was checked.</p>;
  else if (status.state === "verified")
    headline = <p class="muted">Your newest entries are not in a signed checkpoint yet; checking again shortly.</p>;
  else if (status.state === "unavailable")
    headline = <p class="muted">Could not check your history against the log just now ({status.reason}); trying again shortly.</p>;
  else headline = <p class="muted">Checking your history against the public log…</p>;
  return (
    <section class="card log-status" aria-label="History verification" data-testid="log-status">
      {headline}
      {!alarmed && status.state === "verified" ? <Witnessed witnessed={status.verified.witnessed} /> : null}
      <details>
        <summary>What was checked</summary>
        <ul>
          <li>
            Your browser recomputed the fingerprint (hash) of every entry of your history on this page, and checked that each one includes
            the fingerprint of the entry before it. Changing any past entry would change every fingerprint after it.
          </li>
          <li>
            It asked the service's public log, which holds every entry of every wallet and can only grow, for proof that your newest
            recorded entry is in it with exactly that fingerprint, and checked the proof itself.
          </li>
          <li>
            It checked the log's signed summary (its checkpoint) with the log's key, which this browser remembered the first time it saw it,
            and checked that the log only grew since the last checkpoint this browser saw: nothing was removed or rewritten.
          </li>
          <li>
            Independent witnesses check the same log from outside the service and cosign the checkpoints they found honest; any witness that
            saw the log rewrite itself would refuse and raise its own alarm. Your browser checked each witness's cosignature with that
            witness's key, which it also remembered the first time: a cosignature that does not verify, or a change in who the witnesses
            are, raises a warning. A cosigned checkpoint means the witnesses saw this same log, so the service is not showing you a private
            version of it.
          </li>
        </ul>
        <p class="muted">
          What this rests on: the checking code runs in your browser, but the service itself sent it. It protects you against history being
          rewritten after the fact, not against a service that sends you a dishonest page. The witnesses and the offline tools (npm run
          log:witness, npm run verify-receipt) do not depend on the service's code.
        </p>
        {status.state === "verified" ? (
          <p class="muted">
            Checked {status.verified.chain_checked} entries against the checkpoint of {status.verified.checkpoint.size} log entries
            {status.verified.previous_size > 0 ? `, consistent with the ${status.verified.previous_size} this browser saw before` : ""}.
          </p>
        ) : null}
      </details>
    </section>
  );
}
