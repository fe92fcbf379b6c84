/**
 * The payment requests of the user: those they are asked to pay (with Pay and Decline) and those they sent
 * (with Cancel). Both lists follow the live feed, so a request paid, declined, cancelled or expired elsewhere
 * changes here at once; a request no longer open shows its status instead of buttons.
 *
 * Paying goes through the pending model with its own Idempotency-Key, from the user's wallet in the request's
 * currency. However many tabs pay at once, the server moves the money once; the others are told plainly that the
 * request is no longer open, and the request is fetched again so it shows why.
 */
import { useSignal } from "@preact/signals";
import { errorsFor, sentenceFor } from "../errors";
import { formatMinor } from "../money";
import { describeMove } from "../models/account";
import type { RequestRole } from "../models/requests";
import type { PaymentRequest } from "../types";
import { useApp } from "./context";
import { REQUEST_STATUS_LABELS, formatDate, partyLabel } from "./format";
import { UserText } from "./UserText";

type RowMessage = { tone: "ok" | "error"; text: string } | null;

const NO_LONGER_OPEN = "This request is no longer open.";

/** Where focus goes once a row's buttons are gone: the row's message, so keyboard users keep their place. */
function focusMessage(id: string): void {
  setTimeout(() => document.getElementById(`request-msg-${id}`)?.focus(), 0);
}

function useRowAction() {
  const busy = useSignal(false);
  const message = useSignal<RowMessage>(null);
  return { busy, message };
}

function RequestFacts({ request, role }: { request: PaymentRequest; role: RequestRole }) {
  const other = role === "incoming" ? partyLabel(request.requester) : partyLabel(request.payer);
  return (
    <div class="request-main">
      <span>
        {role === "incoming" ? `${other} asks you for ` : `You asked ${other} for `}
        <strong data-testid="request-row-amount">{formatMinor(request.amount, request.currency)}</strong>
      </span>
      {request.memo !== null && request.memo !== "" ? (
        <span class="request-memo">
          <UserText text={request.memo} />
        </span>
      ) : null}
      <span class="muted request-when">
        {request.status === "open" ? `Open until ${formatDate(request.expires_at)}` : `Asked ${formatDate(request.created_at)}`}
      </span>
    </div>
  );
}

function StatusBadge({ request }: { request: PaymentRequest }) {
  return (
    <span class={`badge badge-${request.status}`} data-testid="request-status">
      {REQUEST_STATUS_LABELS[request.status]}
    </span>
  );
}

function RowMessageLine({ id, message }: { id: string; message: RowMessage }) {
  return (
    <div aria-live="polite" class="error-slot">
      {message !== null ? (
        <p id={`request-msg-${id}`} tabIndex={-1} class={message.tone === "ok" ? "status" : "error"} data-testid="request-message">
          {message.text}
        </p>
      ) : null}
    </div>
  );
}

function IncomingRow({ request }: { request: PaymentRequest }) {
  const { session, pending, requests, account } = useApp();
  const { busy, message } = useRowAction();
  const me = session.me.value;
  const payFrom = me?.wallets.find((w) => w.currency === request.currency) ?? null;
  const open = request.status === "open";

  async function pay(): Promise<void> {
    if (busy.value || me === null || payFrom === null) return;
    busy.value = true;
    message.value = null;
    const summary = describeMove("pay", request.amount, request.currency, partyLabel(request.requester));
    const outcome = await pending.submitMove({
      kind: "pay",
      route: `/payment-requests/${encodeURIComponent(request.id)}/pay`,
      body: { from_wallet_id: payFrom.id },
      user_id: me.user.id,
      summary,
    });
    busy.value = false;
    account.live.afterOwnAction();
    if (outcome.state === "done") message.value = { tone: "ok", text: `Paid ${formatMinor(request.amount, request.currency)}.` };
    else if (outcome.error.code === "request_not_open") message.value = { tone: "error", text: `${NO_LONGER_OPEN} It was not paid again.` };
    else message.value = { tone: "error", text: sentenceFor(outcome.error, "pay") };
    // Whatever the answer, the request as the server has it now is what the row should show.
    await requests.refreshOne(request.id);
    focusMessage(request.id);
  }

  async function decline(): Promise<void> {
    if (busy.value) return;
    busy.value = true;
    message.value = null;
    const result = await requests.decline(request.id);
    busy.value = false;
    if (result.ok) message.value = { tone: "ok", text: "Declined." };
    else if (result.error.code === "request_not_open") message.value = { tone: "error", text: NO_LONGER_OPEN };
    else message.value = { tone: "error", text: Object.values(errorsFor(result.error, "pay")).join(" ") };
    focusMessage(request.id);
  }

  return (
    <li class="request" data-testid="incoming-request" data-id={request.id} data-status={request.status}>
      <RequestFacts request={request} role="incoming" />
      <div class="request-actions">
        {open ? (
          <>
            {payFrom === null ? (
              <span class="muted">Open a {request.currency} wallet to pay this.</span>
            ) : (
              <button
                type="button"
                class="primary"
                data-testid="request-pay"
                disabled={busy.value}
                aria-busy={busy.value ? "true" : undefined}
                onClick={() => void pay()}
              >
                {busy.value ? "Paying…" : `Pay ${formatMinor(request.amount, request.currency)}`}
              </button>
            )}
            <button type="button" class="secondary" data-testid="request-decline" disabled={busy.value} onClick={() => void decline()}>
              Decline
            </button>
          </>
        ) : (
          <StatusBadge request={request} />
        )}
      </div>
      <RowMessageLine id={request.id} message={message.value} />
    </li>
  );
}

function OutgoingRow({ request }: { request: PaymentRequest }) {
  const { requests } = useApp();
  const { busy, message } = useRowAction();

  async function cancel(): Promise<void> {
    if (busy.value) return;
    busy.value = true;
    message.value = null;
    const result = await requests.cancel(request.id);
    busy.value = false;
    if (result.ok) message.value = { tone: "ok", text: "Cancelled." };
    else if (result.error.code === "request_not_open") message.value = { tone: "error", text: NO_LONGER_OPEN };
    else message.value = { tone: "error", text: Object.values(errorsFor(result.error, "request")).join(" ") };
    focusMessage(request.id);
  }

  return (
    <li class="request" data-testid="outgoing-request" data-id={request.id} data-status={request.status}>
      <RequestFacts request={request} role="outgoing" />
      <div class="request-actions">
        {request.status === "open" ? (
          <button type="button" class="secondary" data-testid="request-cancel" disabled={busy.value} onClick={() => void cancel()}>
            Cancel request
          </button>
        ) : null}
        <StatusBadge request={request} />
      </div>
      <RowMessageLine id={request.id} message={message.value} />
    </li>
  );
}

/** One list, with its title, its loading and empty states. */
function RequestList({ role }: { role: RequestRole }) {
  const { requests } = useApp();
  const list = role === "incoming" ? requests.incoming.value : requests.outgoing.value;
  const title = role === "incoming" ? "Requests to you" : "Your requests";
  const titleId = `${role}-requests-title`;
  return (
    <section class="card requests" aria-labelledby={titleId} data-testid={`${role}-requests`}>
      <h2 id={titleId}>{title}</h2>
      {requests.loadFailed.value ? <p class="error">The requests could not be loaded; retrying shortly.</p> : null}
      {!requests.ready.value && list.length === 0 ? (
        <div class="skeleton" role="status" aria-label="Loading requests">
          <span />
          <span class="short" />
        </div>
      ) : list.length === 0 ? (
        <div class="empty">
          <p class="empty-title">{role === "incoming" ? "Nobody has asked you for money." : "You have not asked anyone for money."}</p>
          <p class="muted">
            {role === "incoming"
              ? "When someone asks, the request appears here at once, with Pay and Decline."
              : "Ask someone with Request money, or split a bill among several people."}
          </p>
        </div>
      ) : (
        <ul class="plain-list">
          {list.map((r) => (role === "incoming" ? <IncomingRow key={r.id} request={r} /> : <OutgoingRow key={r.id} request={r} />))}
        </ul>
      )}
    </section>
  );
}

export function IncomingRequests() {
  return <RequestList role="incoming" />;
}

export function OutgoingRequests() {
  return <RequestList role="outgoing" />;
}
