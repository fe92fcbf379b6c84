/**
 * The Developers page's API keys model (issue 16): it lists the keys, makes one under a fresh Idempotency-Key
 * and holds the key only until dismissed, revokes with DELETE (a key already gone is gone from the list too),
 * and words each refusal. fetch is replaced for these tests only, and put back after each.
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
const { ApiKeysModel, keyErrorText } = await import("../src/developers/api-keys.ts");

const KEY = "ewk_3_usr_0000000000000000000000000a_" + "A".repeat(43);
const keyOf = (id: string, name = id) => ({
  id,
  name,
  scopes: ["read" as const],
  created_at: "2026-12-01T00:00:00.000Z",
  last_used_at: null,
});

const fake = new FakeFetch();

void describe("API keys model", () => {
  beforeEach(() => {
    fake.install();
  });
  afterEach(() => {
    fake.restore();
  });

  void test("loads, makes a key shown until dismissed, and revokes", async () => {
    fake.answer = (method) =>
      method === "GET"
        ? { status: 200, body: { items: [keyOf("key_old")], next_cursor: null } }
        : method === "POST"
          ? { status: 201, body: { api_key: keyOf("key_new", "ci"), key: KEY } }
          : { status: 204, body: null };
    const model = new ApiKeysModel();
    await model.load();
    assert.deepEqual(
      model.keys.value.map((k) => k.id),
      ["key_old"],
    );
    assert.equal(await model.create("ci", ["read"]), true);
    assert.deepEqual(model.shown.value, { name: "ci", key: KEY });
    assert.deepEqual(
      model.keys.value.map((k) => k.id),
      ["key_new", "key_old"],
    );
    model.dismiss();
    assert.equal(model.shown.value, null);
    await model.revoke("key_old");
    assert.deepEqual(fake.requests, ["GET /api-keys?limit=200", "POST /api-keys keyed", "DELETE /api-keys/key_old"]);
    assert.deepEqual(
      model.keys.value.map((k) => k.id),
      ["key_new"],
    );
    model[Symbol.dispose]();
  });

  void test("a refused key shows why and keeps nothing; a key revoked elsewhere leaves the list", async () => {
    fake.answer = (method) =>
      method === "POST"
        ? {
            status: 422,
            body: {
              error: {
                code: "limit_exceeded",
                message: "",
                request_id: "r",
                details: [{ field: "API_KEYS_MAX_PER_USER", issue: "at most 20" }],
              },
            },
          }
        : method === "DELETE"
          ? { status: 404, body: { error: { code: "not_found", message: "No such resource.", request_id: "r" } } }
          : { status: 200, body: { items: [keyOf("key_a")], next_cursor: null } };
    const model = new ApiKeysModel();
    await model.load();
    assert.equal(await model.create("x", ["read"]), false);
    assert.equal(model.shown.value, null);
    assert.match(keyErrorText(model.error.value ?? { code: "", message: "", request_id: "" }), /at most 20/);
    await model.revoke("key_a");
    await settle();
    assert.deepEqual(model.keys.value, []);
    model[Symbol.dispose]();
  });

  void test("words validation refusals by field", () => {
    const err = (field: string) => ({ code: "validation_error", message: "m", request_id: "r", details: [{ field, issue: "x" }] });
    assert.match(keyErrorText(err("scopes")), /at least one scope/);
    assert.match(keyErrorText(err("name")), /name of 1 to 100/);
  });
});
