/**
 * The Developers page's API keys section: make a key (a name and at least one scope), copy it once, see the
 * keys with their scopes and last use, and revoke one. The form is a plain labelled form: the scopes are a
 * fieldset of checkboxes with a legend, errors are announced in live regions, and the new key is shown in a
 * read-only field that receives focus, with a copy button and the warning that it will not be shown again.
 */
import { useModel, useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { ShownOnce } from "./ShownOnce";
import { FieldError, SubmitButton, TextField } from "../views/fields";
import { formatDate } from "../views/format";
import { API_KEY_NAME_MAX, ApiKeysModel, SCOPE_CHOICES, keyErrorText, type ApiKey, type Scope } from "./api-keys";

/** The section; the page renders it among its others. */
export function ApiKeysSection() {
  const model = useModel(ApiKeysModel);
  useEffect(() => {
    void model.load();
  }, [model]);
  return (
    <section class="card" aria-labelledby="api-keys-title" data-testid="api-keys">
      <h2 id="api-keys-title">API keys</h2>
      <p class="muted">
        A key lets a program act for you: send it as <code>Authorization: Bearer &lt;key&gt;</code>. It can do only what its scopes allow,
        and never make keys or log out. Revoking a key stops it at once.
      </p>
      <NewKeyForm model={model} />
      <ShownKey model={model} />
      <KeyList model={model} />
    </section>
  );
}

function NewKeyForm({ model }: { model: ApiKeysModel }) {
  const name = useSignal("");
  const scopes = useSignal<Scope[]>(["read"]);
  const error = model.error.value;
  const toggle = (scope: Scope, on: boolean): void => {
    scopes.value = on ? [...scopes.value, scope] : scopes.value.filter((s) => s !== scope);
  };
  return (
    <form
      aria-labelledby="new-key-title"
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        void model.create(name.value.trim(), scopes.value).then((made) => {
          if (made) name.value = "";
        });
      }}
    >
      <h3 id="new-key-title">New key</h3>
      <TextField
        id="api-key-name"
        label="Name"
        value={name}
        testid="api-key-name"
        maxLength={API_KEY_NAME_MAX}
        required
        hint="What uses it, say “accounting export”."
      />
      <fieldset>
        <legend>Scopes</legend>
        {SCOPE_CHOICES.map(({ scope, label }) => (
          <label key={scope} class="check">
            <input
              type="checkbox"
              name="scopes"
              value={scope}
              data-testid={`api-key-scope-${scope}`}
              checked={scopes.value.includes(scope)}
              onChange={(event) => toggle(scope, event.currentTarget.checked)}
            />{" "}
            {label}
          </label>
        ))}
      </fieldset>
      <FieldError id="api-key-error" message={error === null ? undefined : keyErrorText(error)} />
      <SubmitButton testid="api-key-create" busy={model.busy.value}>
        Make key
      </SubmitButton>
    </form>
  );
}

function ShownKey({ model }: { model: ApiKeysModel }) {
  const shown = model.shown.value;
  if (shown === null) return null;
  return (
    <ShownOnce
      idPrefix="shown-key"
      title={`Your new key “${shown.name}”`}
      hint="Copy it now: it is shown only this once. Only a hash of it is kept."
      value={shown.key}
      label="The new API key"
      testids={{ group: "api-key-shown", value: "api-key-value", copy: "api-key-copy", done: "api-key-done" }}
      onDone={() => model.dismiss()}
    />
  );
}

function KeyList({ model }: { model: ApiKeysModel }) {
  const keys = model.keys.value;
  if (!model.loaded.value) return <p class="muted">Loading keys…</p>;
  if (keys.length === 0)
    return (
      <p class="muted" data-testid="api-keys-empty">
        You have no API keys.
      </p>
    );
  return (
    <ul class="api-keys" aria-label="Your API keys, newest first" data-testid="api-key-list">
      {keys.map((key) => (
        <KeyRow key={key.id} apiKey={key} model={model} />
      ))}
    </ul>
  );
}

function KeyRow({ apiKey, model }: { apiKey: ApiKey; model: ApiKeysModel }) {
  return (
    <li class="api-key" data-testid="api-key-item">
      <strong>{apiKey.name}</strong> <span class="entry-meta">{apiKey.scopes.join(", ")}</span>
      <span class="entry-meta">
        made {formatDate(apiKey.created_at)} ·{" "}
        {apiKey.last_used_at === null ? "never used" : `last used ${formatDate(apiKey.last_used_at)}`}
      </span>
      <button
        type="button"
        class="secondary"
        data-testid="api-key-revoke"
        aria-label={`Revoke the key ${apiKey.name}`}
        disabled={model.busy.value}
        onClick={() => void model.revoke(apiKey.id)}
      >
        Revoke
      </button>
    </li>
  );
}
