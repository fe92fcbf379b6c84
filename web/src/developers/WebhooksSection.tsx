/**
 * The Developers page's webhook endpoints section: register an endpoint (an https URL and at least one event
 * type), copy its signing secret once, see the endpoints and remove one, and for a chosen endpoint see its
 * deliveries page by page and retry one. Built like the API keys section: a labelled form with the types in
 * a fieldset with a legend, errors in live regions, the secret in a read-only field that receives focus.
 */
import { useModel, useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { ShownOnce } from "./ShownOnce";
import { FieldError, SubmitButton, TextField } from "../views/fields";
import { formatDate } from "../views/format";
import { EVENT_TYPE_CHOICES, type EventType } from "./event-types";
import { WEBHOOK_URL_MAX, WebhooksModel, webhookErrorText, type WebhookDelivery, type WebhookEndpoint } from "./webhooks";

/** The section; the page renders it among its others. */
export function WebhooksSection() {
  const model = useModel(WebhooksModel);
  useEffect(() => {
    void model.load();
  }, [model]);
  return (
    <section class="card" aria-labelledby="webhooks-title" data-testid="webhooks">
      <h2 id="webhooks-title">Webhook endpoints</h2>
      <p class="muted">
        An endpoint receives each event of the chosen types as a signed <code>POST</code> (Standard Webhooks headers), retried for at least
        a day until it answers 2xx. Check the signature with the endpoint's secret.
      </p>
      <NewEndpointForm model={model} />
      <ShownSecret model={model} />
      <EndpointList model={model} />
      <Deliveries model={model} />
    </section>
  );
}

function NewEndpointForm({ model }: { model: WebhooksModel }) {
  const url = useSignal("");
  const types = useSignal<EventType[]>(["transfer.succeeded"]);
  const error = model.error.value;
  const toggle = (type: EventType, on: boolean): void => {
    types.value = on ? [...types.value, type] : types.value.filter((t) => t !== type);
  };
  return (
    <form
      aria-labelledby="new-endpoint-title"
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        void model.create(url.value.trim(), types.value).then((made) => {
          if (made) url.value = "";
        });
      }}
    >
      <h3 id="new-endpoint-title">New endpoint</h3>
      <TextField
        id="webhook-url"
        label="URL"
        value={url}
        testid="webhook-url"
        maxLength={WEBHOOK_URL_MAX}
        required
        placeholder="https://example.com/hooks"
        hint="An https URL on port 443 to a public host."
      />
      <fieldset>
        <legend>Event types</legend>
        {EVENT_TYPE_CHOICES.map(({ type, label }) => (
          <label key={type} class="check">
            <input
              type="checkbox"
              name="types"
              value={type}
              data-testid={`webhook-type-${type}`}
              checked={types.value.includes(type)}
              onChange={(event) => toggle(type, event.currentTarget.checked)}
            />{" "}
            <span>
              <code>{type}</code>: {label}
            </span>
          </label>
        ))}
      </fieldset>
      <FieldError id="webhook-error" message={error === null ? undefined : webhookErrorText(error)} />
      <SubmitButton testid="webhook-create" busy={model.busy.value}>
        Add endpoint
      </SubmitButton>
    </form>
  );
}

function ShownSecret({ model }: { model: WebhooksModel }) {
  const shown = model.shown.value;
  if (shown === null) return null;
  return (
    <ShownOnce
      idPrefix="shown-secret"
      title={`The signing secret of ${shown.url}`}
      hint="Copy it now: it is shown only this once."
      value={shown.secret}
      label="The new endpoint's signing secret"
      testids={{ group: "webhook-secret-shown", value: "webhook-secret", copy: "webhook-secret-copy", done: "webhook-secret-done" }}
      onDone={() => model.dismiss()}
    />
  );
}

function EndpointList({ model }: { model: WebhooksModel }) {
  const endpoints = model.endpoints.value;
  if (!model.loaded.value) return <p class="muted">Loading endpoints…</p>;
  if (endpoints.length === 0)
    return (
      <p class="muted" data-testid="webhooks-empty">
        You have no webhook endpoints.
      </p>
    );
  return (
    <ul class="api-keys" aria-label="Your webhook endpoints" data-testid="webhook-list">
      {endpoints.map((endpoint) => (
        <EndpointRow key={endpoint.id} endpoint={endpoint} model={model} />
      ))}
    </ul>
  );
}

function EndpointRow({ endpoint, model }: { endpoint: WebhookEndpoint; model: WebhooksModel }) {
  const chosen = model.chosen.value === endpoint.id;
  return (
    <li class="api-key webhook" data-testid="webhook-item">
      <strong class="webhook-url">{endpoint.url}</strong>
      <span class="entry-meta">{endpoint.types.join(", ")}</span>
      <span class="entry-meta">added {formatDate(endpoint.created_at)}</span>
      <div class="actions">
        <button
          type="button"
          class="secondary"
          data-testid="webhook-deliveries"
          aria-pressed={chosen ? "true" : "false"}
          aria-label={`Deliveries to ${endpoint.url}`}
          onClick={() => void model.choose(chosen ? null : endpoint.id)}
        >
          Deliveries
        </button>
        <button
          type="button"
          class="secondary"
          data-testid="webhook-remove"
          aria-label={`Remove the endpoint ${endpoint.url}`}
          disabled={model.busy.value}
          onClick={() => void model.remove(endpoint.id)}
        >
          Remove
        </button>
      </div>
    </li>
  );
}

const STATUS_BADGE: Record<WebhookDelivery["status"], string> = { pending: "wait", succeeded: "succeeded", failed: "failed" };

function Deliveries({ model }: { model: WebhooksModel }) {
  const id = model.chosen.value;
  if (id === null) return null;
  const endpoint = model.endpoints.value.find((e) => e.id === id);
  const list = model.deliveries.value;
  const status = model.deliveriesStatus.value;
  const error = model.deliveriesError.value;
  return (
    <div class="deliveries" data-testid="webhook-deliveries-list">
      <h3 id="deliveries-title">Deliveries to {endpoint?.url ?? id}, newest first</h3>
      <div aria-live="polite">{model.retried.value !== "" ? <p class="status">{model.retried.value}</p> : null}</div>
      {error !== null ? (
        <p class="error" role="alert">
          {webhookErrorText(error)}
        </p>
      ) : null}
      {list.length === 0 && status === "idle" ? <p class="muted">No deliveries yet.</p> : null}
      <ul class="api-keys" aria-labelledby="deliveries-title">
        {list.map((delivery) => (
          <DeliveryRow key={delivery.id} delivery={delivery} model={model} />
        ))}
      </ul>
      {model.deliveriesCursor.value !== null || status === "loading" ? (
        <button
          type="button"
          class="secondary"
          data-testid="webhook-deliveries-more"
          disabled={status === "loading"}
          onClick={() => void model.loadMoreDeliveries()}
        >
          {status === "loading" ? "Loading…" : "Load more"}
        </button>
      ) : null}
    </div>
  );
}

function DeliveryRow({ delivery, model }: { delivery: WebhookDelivery; model: WebhooksModel }) {
  return (
    <li class="api-key" data-testid="webhook-delivery">
      <span>
        <span class={`badge ${STATUS_BADGE[delivery.status]}`}>{delivery.status}</span> <code>{delivery.event_id}</code>
      </span>
      <span class="entry-meta">
        {delivery.attempts} {delivery.attempts === 1 ? "attempt" : "attempts"}
        {delivery.last_status_code === null ? "" : ` · last answer HTTP ${delivery.last_status_code}`}
      </span>
      <span class="entry-meta">
        {delivery.next_attempt_at === null ? "no attempt scheduled" : `next attempt ${formatDate(delivery.next_attempt_at)}`}
      </span>
      <button
        type="button"
        class="secondary"
        data-testid="webhook-delivery-retry"
        aria-label={`Retry the delivery of ${delivery.event_id}`}
        onClick={() => void model.retry(delivery.id)}
      >
        Retry
      </button>
    </li>
  );
}
