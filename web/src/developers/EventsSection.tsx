/**
 * The Developers page's event log: the user's events oldest first, as a program following GET /events sees
 * them, with a filter by type (a fieldset of checkboxes with a legend) and a button that loads the next page,
 * or, once caught up, asks for whatever came after the last event seen.
 */
import { useModel, useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { formatDate } from "../views/format";
import { EVENT_TYPE_CHOICES, type EventType } from "./event-types";
import { EventsModel, eventSummary, eventsErrorText } from "./events";

/** The section; the page renders it among its others. */
export function EventsSection() {
  const model = useModel(EventsModel);
  useEffect(() => {
    void model.load();
  }, [model]);
  return (
    <section class="card" aria-labelledby="events-title" data-testid="events">
      <h2 id="events-title">Event log</h2>
      <p class="muted">
        Every change to your money and requests, numbered by <code>seq</code> from 1 without gaps, oldest first. A program follows it with{" "}
        <code>GET /api/v1/events?after=&lt;last seq&gt;</code>.
      </p>
      <TypeFilter model={model} />
      <EventList model={model} />
    </section>
  );
}

function TypeFilter({ model }: { model: EventsModel }) {
  const picked = useSignal<EventType[]>([]);
  const toggle = (type: EventType, on: boolean): void => {
    picked.value = on ? [...picked.value, type] : picked.value.filter((t) => t !== type);
  };
  return (
    <form
      aria-labelledby="events-filter-title"
      onSubmit={(event) => {
        event.preventDefault();
        void model.filter(picked.value);
      }}
    >
      <details class="more">
        <summary id="events-filter-title">Filter by type</summary>
        <fieldset>
          <legend>Show only these types (none: every type)</legend>
          {EVENT_TYPE_CHOICES.map(({ type }) => (
            <label key={type} class="check">
              <input
                type="checkbox"
                name="types"
                value={type}
                data-testid={`events-type-${type}`}
                checked={picked.value.includes(type)}
                onChange={(event) => toggle(type, event.currentTarget.checked)}
              />{" "}
              <code>{type}</code>
            </label>
          ))}
        </fieldset>
        <button type="submit" class="secondary" data-testid="events-filter">
          Apply filter
        </button>
      </details>
    </form>
  );
}

function EventList({ model }: { model: EventsModel }) {
  const events = model.events.value;
  const loading = model.status.value === "loading";
  const error = model.error.value;
  const filtered = model.types.value.length > 0;
  return (
    <div>
      <div aria-live="polite">
        {model.loaded.value && !loading && error === null ? (
          <p class="muted" data-testid="events-count">
            {events.length} {events.length === 1 ? "event" : "events"}
            {filtered ? ` of the types ${model.types.value.join(", ")}` : ""} loaded
            {model.cursor.value === null ? ", up to the latest." : "; more follow."}
          </p>
        ) : null}
      </div>
      {error !== null ? (
        <p class="error" role="alert">
          {eventsErrorText(error)}
        </p>
      ) : null}
      {!model.loaded.value ? <p class="muted">Loading events…</p> : null}
      <ol class="api-keys" aria-label="Your events, oldest first" data-testid="event-list">
        {events.map((event) => (
          <li key={event.id} class="api-key event" data-testid="event-item">
            <span>
              <span class="entry-meta">#{event.seq}</span> <code>{event.type}</code>
            </span>
            <span class="entry-meta">{formatDate(event.created_at)}</span>
            <span>{eventSummary(event)}</span>
          </li>
        ))}
      </ol>
      <button type="button" class="secondary" data-testid="events-more" disabled={loading} onClick={() => void model.more()}>
        {loading ? "Loading…" : model.cursor.value !== null ? "Load more" : "Check for new events"}
      </button>
    </div>
  );
}
