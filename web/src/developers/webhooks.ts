/**
 * The webhook endpoints section's model: the user's endpoints (GET /webhook-endpoints), registering one (its
 * signing secret is held here only until the user dismisses it: it is shown once and never fetched again),
 * removing one, and for one chosen endpoint its deliveries, page by page, with a retry of any of them. Created
 * by its view with `useModel`, so it lives only while the Developers page is shown.
 */
import { batch, createModel, signal } from "@preact/signals";
import { api, seg } from "../api";
import type { components } from "../generated/api";
import type { ApiErrorBody } from "../types";
import type { EventType } from "./event-types";

export type WebhookEndpoint = components["schemas"]["WebhookEndpoint"];
export type WebhookDelivery = components["schemas"]["WebhookDelivery"];

/** The longest URL the server accepts. */
export const WEBHOOK_URL_MAX = 2_048;

/** A page of deliveries; the server allows up to 200. */
export const DELIVERIES_PAGE = 20;

/** What to tell the user about a refused request, in words. */
export function webhookErrorText(error: ApiErrorBody): string {
  if (error.code === "limit_exceeded")
    return `You have as many webhook endpoints as allowed (${error.details?.[0]?.issue ?? "the limit"}); remove one first.`;
  if (error.code === "validation_error") {
    const field = error.details?.[0]?.field ?? "";
    if (field.startsWith("types")) return "Choose at least one event type.";
    if (field.startsWith("url")) return "Use an https URL on port 443 to a public host, such as https://example.com/hooks.";
  }
  if (error.code === "insufficient_scope") return "This needs the webhooks:write scope.";
  if (error.code === "network_error") return "The request did not reach the server; try again.";
  return error.message === "" ? "Something went wrong; try again." : error.message;
}

interface Made {
  webhook_endpoint: WebhookEndpoint;
  secret: string;
}

interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

/** The endpoints of the logged-in user, the secret just made, and the chosen endpoint's deliveries. */
export const WebhooksModel = createModel(() => {
  const endpoints = signal<WebhookEndpoint[]>([]);
  const loaded = signal(false);
  /** The secret of the endpoint just registered, shown once; null once dismissed. */
  const shown = signal<{ url: string; secret: string } | null>(null);
  const error = signal<ApiErrorBody | null>(null);
  const busy = signal(false);

  /** The endpoint whose deliveries are shown, or null. */
  const chosen = signal<string | null>(null);
  const deliveries = signal<WebhookDelivery[]>([]);
  const deliveriesCursor = signal<string | null>(null);
  const deliveriesStatus = signal<"idle" | "loading" | "error">("idle");
  /** What the last retry did, in words, for a status line; its error goes to `deliveriesError`. */
  const retried = signal("");
  const deliveriesError = signal<ApiErrorBody | null>(null);
  // Each choice of endpoint bumps this, so a page that arrives for an endpoint no longer chosen is dropped.
  let generation = 0;

  async function load(): Promise<void> {
    const result = await api<Page<WebhookEndpoint>>("GET", "/webhook-endpoints");
    batch(() => {
      if (result.ok) endpoints.value = result.data.items;
      else error.value = result.error;
      loaded.value = true;
    });
  }

  async function loadDeliveries(first: boolean): Promise<void> {
    const id = chosen.value;
    if (id === null) return;
    const mine = generation;
    const cursor = first ? null : deliveriesCursor.value;
    deliveriesStatus.value = "loading";
    const query = `limit=${DELIVERIES_PAGE}${cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`}`;
    const result = await api<Page<WebhookDelivery>>("GET", `/webhook-endpoints/${seg(id)}/deliveries?${query}`);
    if (mine !== generation) return;
    batch(() => {
      if (result.ok) {
        deliveries.value = first ? result.data.items : [...deliveries.value, ...result.data.items];
        deliveriesCursor.value = result.data.next_cursor;
        deliveriesStatus.value = "idle";
      } else {
        deliveriesError.value = result.error;
        deliveriesStatus.value = "error";
      }
    });
  }

  function forgetDeliveries(): void {
    generation++;
    batch(() => {
      chosen.value = null;
      deliveries.value = [];
      deliveriesCursor.value = null;
      deliveriesStatus.value = "idle";
      deliveriesError.value = null;
      retried.value = "";
    });
  }

  return {
    endpoints,
    loaded,
    shown,
    error,
    busy,
    chosen,
    deliveries,
    deliveriesCursor,
    deliveriesStatus,
    deliveriesError,
    retried,
    load,
    /** Registers an endpoint; true when it was registered (the form then clears). */
    async create(url: string, types: EventType[]): Promise<boolean> {
      busy.value = true;
      error.value = null;
      const result = await api<Made>("POST", "/webhook-endpoints", { body: { url, types }, idempotencyKey: crypto.randomUUID() });
      busy.value = false;
      if (!result.ok) {
        error.value = result.error;
        return false;
      }
      const { webhook_endpoint, secret } = result.data;
      batch(() => {
        endpoints.value = [webhook_endpoint, ...endpoints.value.filter((e) => e.id !== webhook_endpoint.id)];
        shown.value = { url: webhook_endpoint.url, secret };
      });
      return true;
    },
    /** Removes an endpoint; it disappears from the list (and its deliveries from view) once the server has removed it. */
    async remove(id: string): Promise<void> {
      busy.value = true;
      error.value = null;
      const result = await api<null>("DELETE", `/webhook-endpoints/${seg(id)}`);
      busy.value = false;
      // 404: already removed (another tab): it is gone either way.
      if (!result.ok && result.status !== 404) {
        error.value = result.error;
        return;
      }
      endpoints.value = endpoints.value.filter((e) => e.id !== id);
      if (chosen.value === id) forgetDeliveries();
    },
    /** Shows the deliveries of one endpoint (newest first), or none with null. */
    async choose(id: string | null): Promise<void> {
      forgetDeliveries();
      if (id === null) return;
      chosen.value = id;
      await loadDeliveries(true);
    },
    /** The next page of the chosen endpoint's deliveries. */
    async loadMoreDeliveries(): Promise<void> {
      if (deliveriesCursor.value === null || deliveriesStatus.value === "loading") return;
      await loadDeliveries(false);
    },
    /** Queues a delivery again now; the row shows the server's answer (pending) once it is queued. */
    async retry(deliveryId: string): Promise<void> {
      const id = chosen.value;
      if (id === null) return;
      const mine = generation;
      batch(() => {
        retried.value = "";
        deliveriesError.value = null;
      });
      const path = `/webhook-endpoints/${seg(id)}/deliveries/${seg(deliveryId)}/retry`;
      const result = await api<{ delivery: WebhookDelivery }>("POST", path, { idempotencyKey: crypto.randomUUID() });
      if (mine !== generation) return;
      if (!result.ok) {
        deliveriesError.value = result.error;
        return;
      }
      // The contract promises the delivery in the answer; without it, the row is shown as queued all the same.
      const queued = (result.data as { delivery?: WebhookDelivery } | null)?.delivery;
      batch(() => {
        deliveries.value = deliveries.value.map((d) => (d.id !== deliveryId ? d : (queued ?? { ...d, status: "pending" })));
        retried.value = "The delivery is queued to be sent again.";
      });
    },
    /** Forgets the secret shown once (the user copied it, or chose not to). */
    dismiss(): void {
      shown.value = null;
    },
  };
});

export type WebhooksModel = InstanceType<typeof WebhooksModel>;
