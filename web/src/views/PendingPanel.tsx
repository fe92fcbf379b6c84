/**
 * Requests saved but not yet confirmed (notices about ones that finished in the background are toasts). Showing
 * them keeps the retry machinery honest: the user can see a request is still being tried, and a stale one
 * (older than the server's memory of keys) is handed back to them instead of being resent blindly.
 */
import { useApp } from "./context";

function Pending() {
  const { session, pending } = useApp();
  const userId = session.me.value?.user.id;
  const items = pending.pendingItems.value.filter((item) => item.record.user_id === userId);
  if (items.length === 0) return null;
  return (
    <section class="card pending" aria-labelledby="pending-title" data-testid="pending-list">
      <h2 id="pending-title">Waiting for confirmation</h2>
      <ul>
        {items.map(({ record, sending, stale }) => (
          <li key={record.key}>
            <span>{record.summary}</span>{" "}
            {stale ? (
              <>
                <span class="muted">Never confirmed. Check your history before doing it again.</span>{" "}
                <button type="button" class="link" onClick={() => pending.discardPending(record.key)}>
                  Dismiss
                </button>
              </>
            ) : sending ? (
              <span class="muted">Sending…</span>
            ) : (
              <button type="button" class="link" onClick={() => pending.retryPending(record.key)}>
                Retry now
              </button>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}

/** Requests still waiting for confirmation; the notices about finished ones are toasts now (views/Toasts.tsx). */
export function PendingPanel() {
  return <Pending />;
}
