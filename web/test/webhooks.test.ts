/**
 * The Developers page's webhook endpoints model (issue 16): it lists the endpoints, registers one under a fresh
 * Idempotency-Key and holds the secret only until dismissed, removes with DELETE (an endpoint already gone is
 * gone from the list too), pages through a chosen endpoint's deliveries, retries one (202), drops a page that
 * answers for an endpoint no longer chosen, and words each refusal. fetch is replaced for these tests only.
 */
import assert from "node:assert/strict";
import { registerHooks } from "node:module";
import { afterEach, beforeEach, describe, test } from "node:test";
import { FakeFetch, settle } from "./fake-fetch.ts";

registerHooks({
  resolve(specifier, context, nextResolve) {
    const relative = specifier.startsWith("./") || specifier.startsWith("../");
    if (!relative || /\.[cm]?[jt]sx?$/.test(specifier)) return nextResolve(specifier, context);
    return nextResolve(`${specifier}.ts`, context);
  },
});
const { WebhooksModel, webhookErrorText } = await import("../src/developers/webhooks.ts");

const SECRET = "whsec_" + "A".repeat(32);
const endpointOf = (id: string) => ({
  id,
  url: `https://example.com/${id}`,
  types: ["transfer.succeeded" as const],
  created_at: "2026-12-01T00:00:00.000Z",
});
const deliveryOf = (id: string, status: "pending" | "succeeded" | "failed" = "failed") => ({
  id,
  event_id: `evt_${id}`,
  status,
  attempts: 3,
  last_status_code: 500,
  next_attempt_at: null,
});

const fake = new FakeFetch({ recordBodies: true });
const ids = (items: readonly { id: string }[]): string[] => items.map((i) => i.id);

void describe("webhook endpoints model", () => {
  beforeEach(() => {
    fake.install();
  });
  afterEach(() => {
    fake.restore();
  });

  void test("loads, registers an endpoint whose secret is shown until dismissed, and removes one", async () => {
    fake.answer = (method) =>
      method === "GET"
        ? { status: 200, body: { items: [endpointOf("whe_old")], next_cursor: null } }
        : method === "POST"
          ? { status: 201, body: { webhook_endpoint: endpointOf("whe_new"), secret: SECRET } }
          : { status: 204, body: null };
    const model = new WebhooksModel();
    await model.load();
    assert.deepEqual(ids(model.endpoints.value), ["whe_old"]);
    assert.equal(await model.create("https://example.com/whe_new", ["transfer.succeeded", "deposit.succeeded"]), true);
    assert.deepEqual(model.shown.value, { url: "https://example.com/whe_new", secret: SECRET });
    assert.deepEqual(ids(model.endpoints.value), ["whe_new", "whe_old"]);
    model.dismiss();
    assert.equal(model.shown.value, null);
    await model.remove("whe_old");
    assert.deepEqual(fake.requests, [
      "GET /webhook-endpoints",
      'POST /webhook-endpoints keyed {"url":"https://example.com/whe_new","types":["transfer.succeeded","deposit.succeeded"]}',
      "DELETE /webhook-endpoints/whe_old",
    ]);
    assert.deepEqual(ids(model.endpoints.value), ["whe_new"]);
    model[Symbol.dispose]();
  });

  void test("pages through a chosen endpoint's deliveries, retries one, and forgets them when it is removed", async () => {
    fake.answer = (method, path) => {
      if (method === "POST")
        return { status: 202, body: { delivery: { ...deliveryOf("whd_2", "pending"), next_attempt_at: "2026-12-01T00:00:01.000Z" } } };
      if (method === "DELETE") return { status: 204, body: null };
      if (path.includes("cursor=c1")) return { status: 200, body: { items: [deliveryOf("whd_1", "succeeded")], next_cursor: null } };
      if (path.includes("/deliveries"))
        return { status: 200, body: { items: [deliveryOf("whd_3"), deliveryOf("whd_2")], next_cursor: "c1" } };
      return { status: 200, body: { items: [endpointOf("whe_a")], next_cursor: null } };
    };
    const model = new WebhooksModel();
    await model.load();
    await model.choose("whe_a");
    assert.deepEqual(ids(model.deliveries.value), ["whd_3", "whd_2"]);
    assert.equal(model.deliveriesCursor.value, "c1");
    await model.loadMoreDeliveries();
    assert.deepEqual(ids(model.deliveries.value), ["whd_3", "whd_2", "whd_1"]);
    assert.equal(model.deliveriesCursor.value, null);
    await model.retry("whd_2");
    assert.deepEqual(
      model.deliveries.value.map((d) => d.status),
      ["failed", "pending", "succeeded"],
    );
    assert.match(model.retried.value, /queued/);
    await model.remove("whe_a");
    assert.equal(model.chosen.value, null);
    assert.deepEqual(model.deliveries.value, []);
    assert.deepEqual(fake.requests, [
      "GET /webhook-endpoints",
      "GET /webhook-endpoints/whe_a/deliveries?limit=20",
      "GET /webhook-endpoints/whe_a/deliveries?limit=20&cursor=c1",
      "POST /webhook-endpoints/whe_a/deliveries/whd_2/retry keyed",
      "DELETE /webhook-endpoints/whe_a",
    ]);
    model[Symbol.dispose]();
  });

  void test("a page answering for an endpoint no longer chosen is dropped", async () => {
    let release: (value: { status: number; body: unknown }) => void = () => undefined;
    fake.answer = (_method, path) =>
      path.includes("whe_slow")
        ? new Promise((resolve) => {
            release = resolve;
          })
        : { status: 200, body: { items: [deliveryOf("whd_b")], next_cursor: null } };
    const model = new WebhooksModel();
    const slow = model.choose("whe_slow");
    await settle();
    await model.choose("whe_b");
    release({ status: 200, body: { items: [deliveryOf("whd_slow")], next_cursor: "late" } });
    await slow;
    assert.equal(model.chosen.value, "whe_b");
    assert.deepEqual(ids(model.deliveries.value), ["whd_b"]);
    assert.equal(model.deliveriesCursor.value, null);
    model[Symbol.dispose]();
  });

  void test("a refused endpoint shows why and keeps nothing; one removed elsewhere leaves the list", async () => {
    fake.answer = (method) =>
      method === "POST"
        ? {
            status: 400,
            body: {
              error: { code: "validation_error", message: "m", request_id: "r", details: [{ field: "url", issue: "must be https" }] },
            },
          }
        : method === "DELETE"
          ? { status: 404, body: { error: { code: "not_found", message: "No such resource.", request_id: "r" } } }
          : { status: 200, body: { items: [endpointOf("whe_a")], next_cursor: null } };
    const model = new WebhooksModel();
    await model.load();
    assert.equal(await model.create("http://localhost/x", ["transfer.succeeded"]), false);
    assert.equal(model.shown.value, null);
    assert.deepEqual(ids(model.endpoints.value), ["whe_a"]);
    assert.match(webhookErrorText(model.error.value ?? { code: "", message: "", request_id: "" }), /https URL on port 443/);
    await model.remove("whe_a");
    assert.deepEqual(model.endpoints.value, []);
    model[Symbol.dispose]();
  });

  void test("words refusals", () => {
    const err = (code: string, field = "") => ({ code, message: "", request_id: "r", details: [{ field, issue: "at most 10" }] });
    assert.match(webhookErrorText(err("validation_error", "types")), /at least one event type/);
    assert.match(webhookErrorText(err("limit_exceeded")), /at most 10.*remove one/);
    assert.match(webhookErrorText(err("insufficient_scope")), /webhooks:write/);
  });
});
