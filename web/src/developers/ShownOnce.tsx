/**
 * A secret shown once (a new API key, a webhook endpoint's signing secret): a read-only field that takes focus
 * with its text selected, a Copy button, and Done, which asks the model to forget it. The test ids keep each
 * section's names, given as a prefix.
 */
import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";

export interface ShownOnceProps {
  /** Ids for the heading and hint, unique on the page. */
  idPrefix: string;
  title: string;
  hint: string;
  value: string;
  label: string;
  testids: { group: string; value: string; copy: string; done: string };
  onDone: () => void;
}

export function ShownOnce({ idPrefix, title, hint, value, label, testids, onDone }: ShownOnceProps) {
  const copied = useSignal(false);
  const field = useRef<HTMLInputElement>(null);
  useEffect(() => {
    copied.value = false;
    field.current?.focus();
    field.current?.select();
  }, [value, copied]);
  return (
    <div class="shown-key" role="group" aria-labelledby={`${idPrefix}-title`} data-testid={testids.group}>
      <h3 id={`${idPrefix}-title`}>{title}</h3>
      <p id={`${idPrefix}-hint`} class="hint">
        {hint}
      </p>
      <input
        ref={field}
        readOnly
        value={value}
        aria-label={label}
        aria-describedby={`${idPrefix}-hint`}
        data-testid={testids.value}
        spellcheck={false}
      />
      <div class="actions">
        <button
          type="button"
          class="primary"
          data-testid={testids.copy}
          onClick={() => {
            void navigator.clipboard?.writeText(value).then(() => {
              copied.value = true;
            });
          }}
        >
          Copy
        </button>
        <button type="button" class="secondary" data-testid={testids.done} onClick={onDone}>
          Done
        </button>
      </div>
      <div aria-live="polite">{copied.value ? <p class="status">Copied.</p> : null}</div>
    </div>
  );
}
