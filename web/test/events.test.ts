/**
 * The Developers page's event log model (issue 16): it reads GET /events oldest first, follows next_cursor,
 * and once caught up asks again after the last seq seen (listing no event twice); a type filter starts over
 * with `types`, and a page that answers for an older filter is dropped; a refusal is kept for the view to
 * word. eventSummary shows an object's money only as a safe integer, with its currency when it has one.
 */
import assert from "node:assert/strict";
import { registerHooks } from "node:module";
import { afterEach, beforeEach, describe, test } from "node:test";

registerHooks({
  resolve(specifier, context, nextResolve) {
    const relative = specifier.startsWith("./") || specifier.startsWith("../");
    if (!relative || /\.[cm]?[jt]sx?$/.test(specifier)) return nextResolve(specifier, context);
    return nextResolve(`${specifier}.ts`, context);
  },
});
const { EventsModel, eventSummary } = await import("../src/developers/events.ts");

type Object_ = Record<string, unknown>;
const eventOf = (seq: number, object: Object_ = { id: `tr_${seq}`, amount: 1250, currency: "USD", status: "succeeded" }) => ({
  id: `evt_${seq}`,
  seq,
  type: "transfer.succeeded" as const,
  created_at: "2026-12-01T00:00:00.000Z",
  data: { object },
});

type Answer = { status: number; body: unknown } | Promise<{ status: number; body: unknown }>;
let requests: string[] = [];
let answer: (path: string) => Answer = () => ({ status: 200, body: {} });
const realFetch = globalThis.fetch;
const seqs = (items: readonly { seq: number }[]): number[] => items.map((e) => e.seq);

void describe("event log model", () => {
  beforeEach(() => {
    requests = [];
    globalThis.fetch = (async (input: string | URL | Request) => {
      const path = (input instanceof Request ? input.url : input.toString()).replace(/^\/api\/v1/, "");
      requests.push(path);
      const { status, body } = await answer(path);
      return { ok: status >= 200 && status < 300, status, headers: new Headers(), text: async () => JSON.stringify(body) };
    }) as typeof fetch;
  });
  afterEach(() => {
    globalThis.fetch = realFetch;
  });

  void test("follows next_cursor, then asks after the last seq seen, listing no event twice", async () => {
    answer = (path) =>
      path.includes("after=0&")
        ? { status: 200, body: { items: [eventOf(1), eventOf(2)], next_cursor: "2" } }
        : path.includes("after=2&")
          ? { status: 200, body: { items: [eventOf(3)], next_cursor: null } }
          : { status: 200, body: { items: [eventOf(3), eventOf(4)], next_cursor: null } };
    const model = new EventsModel();
    await model.load();
    assert.deepEqual(seqs(model.events.value), [1, 2]);
    await model.more();
    assert.deepEqual(seqs(model.events.value), [1, 2, 3]);
    assert.equal(model.cursor.value, null);
    await model.more();
    assert.deepEqual(seqs(model.events.value), [1, 2, 3, 4]);
    assert.deepEqual(requests, ["/events?after=0&limit=50", "/events?after=2&limit=50", "/events?after=3&limit=50"]);
    model[Symbol.dispose]();
  });

  void test("a type filter starts over with types, and drops a page for the older filter", async () => {
    let release: (value: { status: number; body: unknown }) => void = () => undefined;
    // The first request (the unfiltered load) waits until released; every later one answers at once.
    answer = () =>
      requests.length > 1
        ? { status: 200, body: { items: [eventOf(7)], next_cursor: null } }
        : new Promise((resolve) => {
            release = resolve;
          });
    const model = new EventsModel();
    const slow = model.load();
    await model.filter(["transfer.succeeded", "deposit.succeeded"]);
    release({ status: 200, body: { items: [eventOf(1)], next_cursor: "1" } });
    await slow;
    assert.deepEqual(seqs(model.events.value), [7]);
    assert.equal(model.cursor.value, null);
    assert.deepEqual(requests, ["/events?after=0&limit=50", "/events?after=0&limit=50&types=transfer.succeeded%2Cdeposit.succeeded"]);
    model[Symbol.dispose]();
  });

  void test("a refusal is kept and the events already shown stay", async () => {
    let fail = false;
    answer = () =>
      fail
        ? { status: 500, body: { error: { code: "internal", message: "Internal error.", request_id: "r" } } }
        : { status: 200, body: { items: [eventOf(1)], next_cursor: "1" } };
    const model = new EventsModel();
    await model.load();
    fail = true;
    await model.more();
    assert.equal(model.error.value?.code, "internal");
    assert.deepEqual(seqs(model.events.value), [1]);
    assert.equal(model.cursor.value, "1");
    model[Symbol.dispose]();
  });

  void test("summarises an object's money only as a safe integer, with its currency when present", () => {
    assert.equal(eventSummary(eventOf(1, { id: "tr_1", amount: 1250, currency: "USD", status: "succeeded" })), "$12.50 · succeeded · tr_1");
    assert.equal(eventSummary(eventOf(1, { amount: 500, currency: "EUR", refunded_amount: 200 })), "€5.00 · €2.00 refunded");
    assert.equal(eventSummary(eventOf(1, { id: "dep_1", amount: 300 })), "300 minor units · dep_1");
    assert.equal(eventSummary(eventOf(1, { amount: 1.5, currency: "USD" })), "");
    assert.equal(eventSummary(eventOf(1, { amount: 2 ** 53, currency: "USD", refunded_amount: 0 })), "");
  });
});
