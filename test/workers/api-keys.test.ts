/**
 * API keys (issue 16): made, listed and revoked by a person's session; a key works as a bearer token within its
 * scopes only (403 `insufficient_scope` beyond them, never stored under an Idempotency-Key), cannot manage keys
 * or log out, and fails with 401 at once when revoked, its live feed included.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { apiKeyOf } from "../../src/auth/api-keys";
import { scopeRule } from "../../src/api/scopes";
import { api, grantAuditor, register, type TestUser } from "./helpers";
import { closeOf, openLive } from "./live-client";

interface Made {
  api_key: { id: string; name: string; scopes: string[]; created_at: string; last_used_at: string | null };
  key: string | null;
}

async function makeKey(user: TestUser, scopes: string[], name = "test key"): Promise<{ id: string; key: string }> {
  const res = await api<Made>("/api-keys", { token: user.token, body: { name, scopes } });
  expect(res.status, res.text).toBe(201);
  expect(res.json.key).not.toBeNull();
  return { id: res.json.api_key.id, key: res.json.key ?? "" };
}

const deposit = (user: TestUser, token: string, key = crypto.randomUUID()) =>
  api(`/wallets/${user.wallet_id}/deposits`, { token, key, body: { amount: 100 } });

/** The `error.code` of an error answer. */
const codeOf = (res: { text: string }): unknown => (JSON.parse(res.text) as { error: { code: unknown } }).error.code;

function expectScopeRefused(res: { status: number; text: string }): void {
  expect(res.status, res.text).toBe(403);
  expect(codeOf(res)).toBe("insufficient_scope");
}

describe("API keys: make, list, revoke", () => {
  it("makes a key shown once, lists it without the key, and revokes it at once", async () => {
    const u = await register();
    const made = await api<Made>("/api-keys", { token: u.token, body: { name: "Accounting export", scopes: ["payments:write", "read"] } });
    expect(made.status, made.text).toBe(201);
    const { api_key, key } = made.json;
    expect(api_key).toEqual({
      id: expect.stringMatching(/^key_[0-9a-z]{26}$/),
      name: "Accounting export",
      scopes: ["read", "payments:write"],
      created_at: expect.any(String),
      last_used_at: null,
    });
    expect(key).toMatch(new RegExp(`^ewk_3_${u.id}_[A-Za-z0-9_-]{43}$`));
    const secret = key ?? "";

    const me = await api<{ user: { id: string } }>("/me", { token: secret });
    expect(me.status, me.text).toBe(200);
    expect(me.json.user.id).toBe(u.id);

    const list = await api<{ items: Made["api_key"][]; next_cursor: string | null }>("/api-keys", { token: u.token });
    expect(list.status).toBe(200);
    expect(list.json.items.map((k) => k.id)).toEqual([api_key.id]);
    expect(list.json.items[0]?.last_used_at).not.toBeNull();
    expect(list.text).not.toContain(secret.slice(-43));
    expect(list.json.next_cursor).toBeNull();

    expect((await api(`/api-keys/${api_key.id}`, { method: "DELETE", token: u.token })).status).toBe(204);
    const after = await api("/me", { token: secret });
    expect(after.status).toBe(401);
    expect((await deposit(u, secret)).status).toBe(401);
    expect((await api(`/api-keys/${api_key.id}`, { method: "DELETE", token: u.token })).status).toBe(404);
    expect((await api<{ items: unknown[] }>("/api-keys", { token: u.token })).json.items).toEqual([]);
  });

  it("another user's key id is 404 and leaves the key working", async () => {
    const a = await register();
    const b = await register();
    const k = await makeKey(a, ["read"]);
    const res = await api(`/api-keys/${k.id}`, { method: "DELETE", token: b.token });
    expect(res.status, res.text).toBe(404);
    expect((await api("/me", { token: k.key })).status).toBe(200);
  });

  it("refuses bad bodies with 400 and makes nothing", async () => {
    const u = await register();
    const bad = [
      { name: "x", scopes: ["admin"] },
      { name: "x", scopes: [] },
      { name: "x", scopes: ["read", "read"] },
      { name: "x".repeat(101), scopes: ["read"] },
      { name: "   ", scopes: ["read"] },
      { name: "bell\u0007", scopes: ["read"] },
      { name: "x", scopes: "read" },
      { scopes: ["read"] },
      { name: "x", scopes: ["read"], extra: 1 },
    ];
    for (const body of bad) {
      const res = await api("/api-keys", { token: u.token, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(codeOf(res)).toBe("validation_error");
    }
    expect((await api<{ items: unknown[] }>("/api-keys", { token: u.token })).json.items).toEqual([]);
  });

  it("stops at API_KEYS_MAX_PER_USER with 422 limit_exceeded; revoking frees a place", async () => {
    const u = await register();
    const made = [];
    for (let i = 0; i < 20; i++) made.push(await makeKey(u, ["read"], `k${i}`));
    const over = await api("/api-keys", { token: u.token, body: { name: "one more", scopes: ["read"] } });
    expect(over.status, over.text).toBe(422);
    expect((JSON.parse(over.text) as { error: unknown }).error).toMatchObject({
      code: "limit_exceeded",
      details: [{ field: "API_KEYS_MAX_PER_USER", issue: "at most 20" }],
    });
    const page = await api<{ items: { id: string }[]; next_cursor: string }>("/api-keys?limit=15", { token: u.token });
    expect(page.json.items).toHaveLength(15);
    const rest = await api<{ items: { id: string }[]; next_cursor: string | null }>(`/api-keys?limit=15&cursor=${page.json.next_cursor}`, {
      token: u.token,
    });
    expect(rest.json.next_cursor).toBeNull();
    expect(new Set([...page.json.items, ...rest.json.items].map((k) => k.id))).toEqual(new Set(made.map((k) => k.id)));
    expect((await api(`/api-keys/${made[0]?.id}`, { method: "DELETE", token: u.token })).status).toBe(204);
    await makeKey(u, ["read"], "in its place");
  });

  it("a repeat of the Idempotency-Key replays the answer with key null: the key is shown once", async () => {
    const u = await register();
    const idem = crypto.randomUUID();
    const first = await api<Made>("/api-keys", { token: u.token, key: idem, body: { name: "ci", scopes: ["read"] } });
    expect(first.status).toBe(201);
    const again = await api<Made>("/api-keys", { token: u.token, key: idem, body: { name: "ci", scopes: ["read"] } });
    expect(again.status).toBe(201);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.json).toEqual({ api_key: first.json.api_key, key: null });
    expect((await api<{ items: unknown[] }>("/api-keys", { token: u.token })).json.items).toHaveLength(1);
  });

  it("a forged key, or one whose scope digit was changed, is 401", async () => {
    const u = await register();
    const k = await makeKey(u, ["read"]);
    const widened = k.key.replace(/^ewk_1_/, "ewk_3_");
    expect((await deposit(u, widened)).status).toBe(401);
    const last = k.key.at(-1) === "A" ? "B" : "A";
    const tampered = `${k.key.slice(0, -1)}${last}`;
    expect((await api("/me", { token: tampered })).status).toBe(401);
    // The edge refuses both on the MAC alone, before any Durable Object is addressed (which would allocate it).
    expect(await apiKeyOf(env, k.key)).toEqual({ user_id: u.id, scopes: ["read"] });
    expect(await apiKeyOf(env, widened)).toBeNull();
    expect(await apiKeyOf(env, tampered)).toBeNull();
  });
});

describe("API keys: scopes", () => {
  it("read reads but cannot pay; the refusal is not stored under the Idempotency-Key", async () => {
    const u = await register();
    const k = await makeKey(u, ["read"]);
    expect((await api(`/wallets/${u.wallet_id}`, { token: k.key })).status).toBe(200);
    expect((await api(`/wallets/${u.wallet_id}/history`, { token: k.key })).status).toBe(200);
    expect((await api("/transfers", { token: k.key })).status).toBe(200);
    const idem = crypto.randomUUID();
    expectScopeRefused(await deposit(u, k.key, idem));
    // Even without a key, the scope is answered before 428.
    expectScopeRefused(await api(`/wallets/${u.wallet_id}/withdrawals`, { token: k.key, body: { amount: 1 } }));
    expectScopeRefused(
      await api("/transfers", { token: k.key, key: idem, body: { from_wallet_id: u.wallet_id, to: { handle: "x" }, amount: 1 } }),
    );
    expectScopeRefused(await api("/wallets", { token: k.key, body: { currency: "EUR" } }));
    expectScopeRefused(
      await api("/payment-requests", { token: k.key, body: { wallet_id: u.wallet_id, payer: { handle: "x" }, amount: 1 } }),
    );
    // The same Idempotency-Key now runs for real: nothing was stored under it by the refusals.
    const real = await deposit(u, u.token, idem);
    expect(real.status, real.text).toBe(201);
    expect(real.headers.get("idempotent-replayed")).toBeNull();
  });

  it("payments:write pays but cannot read", async () => {
    const u = await register();
    const v = await register();
    const k = await makeKey(u, ["payments:write"]);
    expect((await deposit(u, k.key)).status).toBe(201);
    const t = await api("/transfers", {
      token: k.key,
      key: crypto.randomUUID(),
      body: { from_wallet_id: u.wallet_id, to: { handle: v.handle }, amount: 40 },
    });
    expect(t.status, t.text).toBe(201);
    expect((await api("/wallets", { token: k.key, body: { currency: "EUR" } })).status).toBe(201);
    expectScopeRefused(await api("/me", { token: k.key }));
    expectScopeRefused(await api(`/wallets/${u.wallet_id}/history`, { token: k.key }));
  });

  it("webhooks:write alone neither reads nor pays", async () => {
    const u = await register();
    const k = await makeKey(u, ["webhooks:write"]);
    expectScopeRefused(await api("/me", { token: k.key }));
    expectScopeRefused(await deposit(u, k.key));
  });

  it("no key manages keys, logs out or reaches auditor routes, whatever its scopes", async () => {
    const u = await register();
    await grantAuditor(u);
    const k = await makeKey(u, ["read", "payments:write", "webhooks:write"]);
    expectScopeRefused(await api("/api-keys", { token: k.key, body: { name: "child", scopes: ["read"] } }));
    expectScopeRefused(await api("/api-keys", { token: k.key }));
    expectScopeRefused(await api(`/api-keys/${k.id}`, { method: "DELETE", token: k.key }));
    expectScopeRefused(await api("/auth/logout", { method: "POST", token: k.key }));
    expectScopeRefused(await api("/auth/logout-all", { method: "POST", token: k.key }));
    expectScopeRefused(await api("/audit", { token: k.key }));
    expect((await api("/audit", { token: u.token })).status).toBe(200);
    expect((await api("/me", { token: k.key })).status).toBe(200);
  });

  it("a revoked key gets 401, not 403, even beyond its scopes", async () => {
    const u = await register();
    const k = await makeKey(u, ["read"]);
    expect((await api(`/api-keys/${k.id}`, { method: "DELETE", token: u.token })).status).toBe(204);
    expect((await deposit(u, k.key)).status).toBe(401);
    expect((await api("/auth/logout", { method: "POST", token: k.key })).status).toBe(401);
  });

  it("read opens the live feed; revoking the key closes it with 4401", async () => {
    const u = await register();
    const k = await makeKey(u, ["read"]);
    const live = await openLive(u, { token: k.key });
    await live.waitFor((e) => e.length >= 1, "the snapshot");
    expect((await api(`/api-keys/${k.id}`, { method: "DELETE", token: u.token })).status).toBe(204);
    expect((await closeOf(live)).code).toBe(4401);
    const writer = await makeKey(u, ["payments:write"]);
    const refused = await api(`/wallets/${u.wallet_id}/live`, { token: writer.key, headers: { upgrade: "websocket" } });
    expectScopeRefused(refused);
  });

  it("declares the scope of every route in one rule", () => {
    expect(scopeRule("GET", "/api/v1/me")).toEqual({ kind: "any_of", scopes: ["read"] });
    expect(scopeRule("POST", "/api/v1/transfers/trf_x/refunds")).toEqual({ kind: "any_of", scopes: ["payments:write"] });
    expect(scopeRule("POST", "/api/v1/payment-requests/prq_x/decline")).toEqual({ kind: "any_of", scopes: ["payments:write"] });
    expect(scopeRule("GET", "/api/v1/events")).toEqual({ kind: "any_of", scopes: ["read"] });
    expect(scopeRule("POST", "/api/v1/webhook-endpoints")).toEqual({ kind: "any_of", scopes: ["webhooks:write"] });
    expect(scopeRule("DELETE", "/api/v1/webhook-endpoints/we_1")).toEqual({ kind: "any_of", scopes: ["webhooks:write"] });
    expect(scopeRule("POST", "/api/v1/webhook-endpoints/we_1/deliveries/d_1/retry")).toEqual({
      kind: "any_of",
      scopes: ["webhooks:write"],
    });
    expect(scopeRule("GET", "/api/v1/webhook-endpoints/we_1/deliveries")).toEqual({ kind: "any_of", scopes: ["read", "webhooks:write"] });
    for (const [method, path] of [
      ["POST", "/api/v1/api-keys"],
      ["GET", "/api/v1/api-keys"],
      ["DELETE", "/api/v1/api-keys/key_1"],
      ["POST", "/api/v1/auth/logout"],
      ["GET", "/api/v1/audit/verify"],
      ["POST", "/api/v1/admin/auditors"],
    ] as const)
      expect(scopeRule(method, path), path).toEqual({ kind: "session_only" });
  });
});
