/**
 * Payment requests the user received (incoming, theirs to pay or decline) and sent (outgoing, theirs to cancel).
 * Both lists are fed from HTTP pages and from the live feed, in any order, so every write is a merge by id in
 * which a request never goes back to `open`: the contract lets a request leave `open` exactly once, so an open
 * copy arriving after a resolved one is older and loses.
 */
import { createModel, effect, signal } from "@preact/signals";
import { api, seg, type ApiResult } from "../api";
import type { Page, PaymentRequest } from "../types";

/** How many requests of each list are shown; older ones are reachable from the history of their transfers. */
export const REQUESTS_PAGE = 50;

export type RequestRole = "incoming" | "outgoing";

/** True for anything shaped like the contract's payment_request, enough to place it in a list. */
export function isPaymentRequest(value: unknown): value is PaymentRequest {
  if (typeof value !== "object" || value === null) return false;
  const r = value as Record<string, unknown>;
  return typeof r.id === "string" && typeof r.status === "string" && typeof r.amount === "number" && typeof r.created_at === "string";
}

/** `list` with `next` put in its place: replaced by id unless that would reopen it, newest first. */
export function mergeRequest(list: readonly PaymentRequest[], next: PaymentRequest): PaymentRequest[] {
  const current = list.find((r) => r.id === next.id);
  if (current !== undefined && current.status !== "open" && next.status === "open") return [...list];
  const rest = list.filter((r) => r.id !== next.id);
  return [...rest, next].sort((a, b) => b.created_at.localeCompare(a.created_at) || b.id.localeCompare(a.id));
}

/** The lists of one logged-in user; `follow(handle)` switches user (null on logout) and loads both lists. */
export const RequestsModel = createModel(() => {
  const incoming = signal<PaymentRequest[]>([]);
  const outgoing = signal<PaymentRequest[]>([]);
  /** False until both lists have loaded once for the user, so the views can say "loading". */
  const ready = signal(false);
  /** Set when the last load failed; the lists keep what they showed. */
  const loadFailed = signal(false);
  let handle: string | null = null;
  /** Bumped on every user change, so an answer for the previous user is dropped. */
  let generation = 0;

  function listOf(role: RequestRole) {
    return role === "incoming" ? incoming : outgoing;
  }

  /** Which list a request belongs to, as seen by the user: they asked for it, or they are asked. */
  function roleOf(request: PaymentRequest): RequestRole {
    return request.requester.handle === handle ? "outgoing" : "incoming";
  }

  function apply(request: PaymentRequest): void {
    if (handle === null) return;
    const list = listOf(roleOf(request));
    list.value = mergeRequest(list.value, request);
  }

  async function loadRole(role: RequestRole, at: number): Promise<boolean> {
    const result = await api<Page<PaymentRequest>>("GET", `/payment-requests?role=${role}&limit=${REQUESTS_PAGE}`);
    if (at !== generation) return result.ok;
    // A proxy or an older server can answer 200 with something else; that is a failed load, not an empty list.
    if (!result.ok || !Array.isArray(result.data?.items)) return false;
    // The page is the server's current state; merging (rather than replacing) keeps a live update that
    // arrived while the page was on its way from being undone by the older page.
    let merged = listOf(role).value.filter((r) => result.data.items.some((item) => item.id === r.id));
    for (const item of result.data.items) if (isPaymentRequest(item)) merged = mergeRequest(merged, item);
    listOf(role).value = merged;
    return true;
  }

  async function reload(): Promise<void> {
    const at = generation;
    if (handle === null) return;
    const [a, b] = await Promise.all([loadRole("incoming", at), loadRole("outgoing", at)]);
    if (at !== generation) return;
    loadFailed.value = !(a && b);
    if (a && b) ready.value = true;
  }

  /** Fetches one request again (after a refusal that says it changed) and puts it in its list. */
  async function refreshOne(id: string): Promise<void> {
    const at = generation;
    const result = await api<{ payment_request: PaymentRequest }>("GET", `/payment-requests/${seg(id)}`);
    if (at === generation && result.ok && isPaymentRequest(result.data.payment_request)) apply(result.data.payment_request);
  }

  /** Declines or cancels; applies the answer, and on any refusal fetches the request again to show why. */
  async function resolve(id: string, action: "decline" | "cancel"): Promise<ApiResult<{ payment_request: PaymentRequest }>> {
    const result = await api<{ payment_request: PaymentRequest }>("POST", `/payment-requests/${seg(id)}/${action}`);
    if (result.ok && isPaymentRequest(result.data.payment_request)) apply(result.data.payment_request);
    else if (!result.ok) void refreshOne(id);
    return result;
  }

  effect(() => () => {
    // A load still on its way when the model goes must not write into it.
    generation += 1;
  });

  return {
    incoming,
    outgoing,
    ready,
    loadFailed,
    /** Follows the user with `userHandle`, or nobody; a change empties both lists and loads them afresh. */
    follow(userHandle: string | null): void {
      if (userHandle === handle) return;
      handle = userHandle;
      generation += 1;
      incoming.value = [];
      outgoing.value = [];
      ready.value = false;
      loadFailed.value = false;
      if (userHandle !== null) void reload();
    },
    reload,
    refreshOne,
    /** A request as the live feed or an answer shows it. */
    applyRequest: apply,
    decline: (id: string) => resolve(id, "decline"),
    cancel: (id: string) => resolve(id, "cancel"),
  };
});

export type RequestsModel = InstanceType<typeof RequestsModel>;
