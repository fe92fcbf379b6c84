/**
 * Form building blocks shared by every form: a labelled input with its error beside it, and the form-wide
 * message. Errors live inside regions that are always rendered with aria-live="polite", because screen
 * readers announce changes only in live regions that already existed before the change.
 */
import type { ComponentChildren } from "preact";
import { useSignal, type Signal } from "@preact/signals";
import type { FieldErrors } from "../errors";

export interface TextFieldProps {
  id: string;
  label: string;
  value: Signal<string>;
  error?: string | undefined;
  hint?: string;
  testid?: string;
  type?: "text" | "password" | "tel";
  autocomplete?: string;
  inputMode?: "text" | "decimal" | "numeric" | "tel";
  maxLength?: number;
  required?: boolean;
  placeholder?: string;
  /** The id of a <datalist> of suggestions (see ContactSuggestions). */
  list?: string;
  /** Extra ids for aria-describedby, such as a row's shared error. */
  describedBy?: string;
}

/** A label, an input bound to a signal, an optional hint and the field's own error. */
export function TextField(props: TextFieldProps) {
  const { id, error, hint } = props;
  // Preact types each input `type` with its own allowed roles, so the type is given as one literal per case.
  const typed =
    props.type === "password" ? { type: "password" as const } : props.type === "tel" ? { type: "tel" as const } : { type: "text" as const };
  const describedBy = [hint !== undefined ? `${id}-hint` : "", error !== undefined ? `${id}-error` : "", props.describedBy ?? ""]
    .filter(Boolean)
    .join(" ");
  return (
    <div class="field">
      <label for={id}>
        {props.label}
        {props.required === false ? <span class="optional"> (optional)</span> : null}
      </label>
      {hint !== undefined ? (
        <p id={`${id}-hint`} class="hint">
          {hint}
        </p>
      ) : null}
      <input
        id={id}
        name={id}
        {...typed}
        data-testid={props.testid}
        value={props.value.value}
        onInput={(event) => {
          props.value.value = event.currentTarget.value;
        }}
        autocomplete={props.autocomplete}
        inputMode={props.inputMode}
        maxLength={props.maxLength}
        placeholder={props.placeholder}
        // Password fields take no suggestions, and Preact's types say so; only text fields are ever given a list.
        {...(props.list === undefined ? {} : { list: props.list })}
        required={props.required === true}
        aria-invalid={error !== undefined ? "true" : undefined}
        aria-describedby={describedBy === "" ? undefined : describedBy}
        spellcheck={false}
      />
      <FieldError id={`${id}-error`} message={error} />
    </div>
  );
}

/** The error of one field (or of the whole form), inside an always-present polite live region. */
export function FieldError({ id, message }: { id: string; message: string | undefined }) {
  return (
    <div aria-live="polite" class="error-slot">
      {message !== undefined ? (
        <p id={id} class="error" data-testid="form-error">
          {message}
        </p>
      ) : null}
    </div>
  );
}

/** A success line, announced politely. */
export function StatusLine({ message }: { message: string }) {
  return (
    <p role="status" class="status">
      {message}
    </p>
  );
}

/**
 * A form's submit button. While busy it is marked aria-disabled rather than disabled: a disabled button drops the
 * keyboard user's focus to the page, and they would have to find their way back after every submit. Its click is
 * cancelled instead, which also cancels the implicit submit of Enter in a field, so a second submit still cannot
 * start while the first is on its way.
 */
export function SubmitButton({ testid, busy, children }: { testid: string; busy: boolean; children: ComponentChildren }) {
  return (
    <button
      type="submit"
      class="primary"
      data-testid={testid}
      aria-disabled={busy ? "true" : undefined}
      aria-busy={busy ? "true" : undefined}
      onClick={(event) => {
        if (busy) event.preventDefault();
      }}
    >
      {children}
    </button>
  );
}

/** The state every form keeps: field errors, a busy flag (the double-submit guard) and a success line. */
export function useFormState() {
  const errors = useSignal<FieldErrors>({});
  const busy = useSignal(false);
  const done = useSignal("");
  return { errors, busy, done };
}

/**
 * Moves focus to the first invalid field after the next render, so keyboard users land on the problem; for
 * a form-wide error, to the first input, since the disabled submit button may have dropped focus.
 */
export function focusFirstInvalid(form: HTMLFormElement | null): void {
  setTimeout(() => {
    const target = form?.querySelector<HTMLElement>('[aria-invalid="true"]') ?? form?.querySelector<HTMLElement>("input");
    target?.focus();
  }, 0);
}

/** The id of the one list of suggested people, for the `list` of every "who" field. */
export const CONTACTS_LIST_ID = "contact-suggestions";

/**
 * People the user dealt with, offered by the browser as they type a handle (a native <datalist>: keyboard and
 * screen-reader support come with it, and a field with no suggestions is a plain text field).
 */
export function ContactSuggestions({ contacts }: { contacts: readonly { handle: string; display_name: string }[] }) {
  return (
    <datalist id={CONTACTS_LIST_ID} data-testid="contact-suggestions">
      {contacts.map((c) => (
        <option key={c.handle} value={c.handle}>
          {c.display_name !== "" && c.display_name !== c.handle ? c.display_name : null}
        </option>
      ))}
    </datalist>
  );
}
