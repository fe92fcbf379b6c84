/**
 * The notices model's messages as toasts in a corner (issue 18): things that happened outside any form, such
 * as a saved request that finally went through. The region is polite and always rendered, so screen readers
 * announce each new toast. Good news leaves by itself after a while (paused while the pointer or focus is on
 * it); errors stay until dismissed.
 */
import { useEffect } from "preact/hooks";
import { useSignal } from "@preact/signals";
import type { Notice } from "../models/notices";
import { useApp } from "./context";

/** How long a good-news toast stays: long enough to read twice. */
const OK_TOAST_MS = 10_000;

/**
 * Dismisses a toast from its button. The button goes away with the toast, which would drop a keyboard user's focus to
 * the page, so focus moves to the next toast's button, or the previous one's, or else the main region.
 */
function dismissKeepingFocus(button: HTMLButtonElement, onDismiss: () => void): void {
  const hadFocus = document.activeElement === button;
  const toast = button.closest('[data-testid="toast"]');
  const neighbour = (toast?.nextElementSibling ?? toast?.previousElementSibling)?.querySelector("button") ?? null;
  onDismiss();
  if (hadFocus) setTimeout(() => (neighbour ?? document.getElementById("main"))?.focus(), 0);
}

function Toast({ notice, onDismiss }: { notice: Notice; onDismiss: () => void }) {
  const held = useSignal(false);
  useEffect(() => {
    if (notice.tone !== "ok" || held.value) return undefined;
    const timer = setTimeout(onDismiss, OK_TOAST_MS);
    return () => clearTimeout(timer);
  }, [notice.id, held.value]);
  const hold = (): void => {
    held.value = true;
  };
  const release = (): void => {
    held.value = false;
  };
  return (
    <p class={`notice ${notice.tone}`} data-testid="toast" onMouseEnter={hold} onMouseLeave={release} onFocusIn={hold} onFocusOut={release}>
      <span>{notice.text}</span>
      <button
        type="button"
        class="link"
        onClick={(event) => dismissKeepingFocus(event.currentTarget, onDismiss)}
        aria-label="Dismiss message"
      >
        Dismiss
      </button>
    </p>
  );
}

export function Toasts() {
  const { notices } = useApp();
  return (
    <div aria-live="polite" class="toasts" data-testid="toasts">
      {notices.notices.value.map((notice) => (
        <Toast key={notice.id} notice={notice} onDismiss={() => notices.dismissNotice(notice.id)} />
      ))}
    </div>
  );
}
