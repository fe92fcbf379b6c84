/**
 * Every route that reads or writes D1 at the edge, while D1 fails: each answers 503 `unavailable` with
 * Retry-After (the one mapping, src/api/calls.ts `orUnavailable`), never 500, and what it would have created is
 * not half made (a keyed request can be sent again once D1 is back). The Worker's app runs with a copy of the
 * environment whose DB binding fails every statement and batch as a locked D1 does; the objects keep their own,
 * working D1, as the money path does not depend on the edge's.
 *
 * A last test lists every route of the OpenAPI document and checks that each is either tested here or named as
 * reading nothing from D1 at the edge, so a new route has to take a side.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/api/app";
import { api, deposit, grantAuditor, register, transfer, type ApiResponse, type TestUser } from "./helpers";

const app = createApp();

/** A D1 binding whose every statement and batch fails as a locked D1 does. */
function lockedD1(): D1Database {
  const fail = (): never => {
    throw new Error("D1_ERROR: database is locked (test fault)");
  };
  return new Proxy(env.DB, {
    get(target, prop) {
      if (prop === "batch" || prop === "prepare" || prop === "exec") return fail;
      const value = Reflect.get(target, prop) as unknown;
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

interface Call {
  method: "GET" | "POST";
  path: string;
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

/** One request to the app with D1 failing (or, with `d1_up`, working). */
async function call(c: Call, d1_up = false): Promise<ApiResponse> {
  const ctx = createExecutionContext();
  const headers: Record<string, string> = { "cf-connecting-ip": "198.51.100.7", ...(c.headers ?? {}) };
  if (c.token !== undefined) headers.authorization = `Bearer ${c.token}`;
  if (c.body !== undefined) headers["content-type"] = "application/json";
  const request = new Request(`https://wallet.test/api/v1${c.path}`, {
    method: c.method,
    headers,
    body: c.body === undefined ? null : JSON.stringify(c.body),
  });
  const response = await app.fetch(request, d1_up ? env : { ...env, DB: lockedD1() }, ctx);
  await waitOnExecutionContext(ctx);
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    text,
    json: (text === "" ? null : JSON.parse(text)) as Record<string, unknown>,
  };
}

function expectUnavailable(res: ApiResponse, what: string): void {
  expect([res.status, (res.json as { error?: { code: string } } | null)?.error?.code], `${what}: ${res.text}`).toEqual([
    503,
    "unavailable",
  ]);
  expect(Number(res.headers.get("retry-after")), what).toBeGreaterThan(0);
}

let a: TestUser;
let b: TestUser;
let auditor: TestUser;
let transferId: string;
let requestId: string;

beforeAll(async () => {
  [a, b, auditor] = [await register(), await register(), await register()];
  await grantAuditor(auditor);
  await deposit(b, 10_000);
  // B paid A, so A has a contact to name and a transfer whose owner (B) the edge looks up in D1.
  const sent = await transfer(b, { handle: a.handle }, 700);
  expect(sent.status, sent.text).toBe(201);
  transferId = (sent.json as { transfer: { id: string } }).transfer.id;
  const asked = await api<{ payment_request: { id: string } }>("/payment-requests", {
    token: a.token,
    body: { wallet_id: a.wallet_id, payer: { handle: b.handle }, amount: 300 },
  });
  expect(asked.status, asked.text).toBe(201);
  requestId = asked.json.payment_request.id;
});

/** Every edge route that reads D1, called so that it must (another user's id, a counterparty by handle...). */
function d1Calls(): [string, Call][] {
  const day = new Date().toISOString().slice(0, 10);
  return [
    ["POST /auth/login", { method: "POST", path: "/auth/login", body: { handle: a.handle, password: "correct horse battery" } }],
    ["GET /me", { method: "GET", path: "/me", token: a.token }],
    ["POST /wallets", { method: "POST", path: "/wallets", token: a.token, body: { currency: "EUR" } }],
    ["GET /wallets/{wallet_id}", { method: "GET", path: `/wallets/${b.wallet_id}`, token: a.token }],
    [
      "GET /wallets/{wallet_id}/history",
      { method: "GET", path: `/wallets/${a.wallet_id}/history?counterparty=${b.handle}`, token: a.token },
    ],
    [
      "GET /wallets/{wallet_id}/balance",
      { method: "GET", path: `/wallets/${b.wallet_id}/balance?at=${new Date().toISOString()}`, token: a.token },
    ],
    [
      "GET /wallets/{wallet_id}/statement",
      { method: "GET", path: `/wallets/${b.wallet_id}/statement?from=${day}&to=${day}`, token: a.token },
    ],
    [
      "GET /wallets/{wallet_id}/live",
      { method: "GET", path: `/wallets/${b.wallet_id}/live`, token: a.token, headers: { upgrade: "websocket" } },
    ],
    ["GET /transfers", { method: "GET", path: `/transfers?counterparty=${b.handle}`, token: a.token }],
    ["GET /transfers/{transfer_id}", { method: "GET", path: `/transfers/${transferId}`, token: a.token }],
    ["GET /transfers/{transfer_id}/receipt", { method: "GET", path: `/transfers/${transferId}/receipt`, token: a.token }],
    [
      "POST /payment-requests",
      {
        method: "POST",
        path: "/payment-requests",
        token: a.token,
        body: { wallet_id: a.wallet_id, payer: { handle: b.handle }, amount: 5 },
      },
    ],
    [
      "POST /splits",
      {
        method: "POST",
        path: "/splits",
        token: a.token,
        body: {
          wallet_id: a.wallet_id,
          shares: [
            { payer: { wallet_id: b.wallet_id }, amount: 5 },
            { payer: { handle: auditor.handle }, amount: 6 },
          ],
        },
      },
    ],
    ["GET /payment-requests/{request_id}", { method: "GET", path: `/payment-requests/${requestId}`, token: b.token }],
    ["POST /payment-requests/{request_id}/decline", { method: "POST", path: `/payment-requests/${requestId}/decline`, token: b.token }],
    ["POST /payment-requests/{request_id}/cancel", { method: "POST", path: `/payment-requests/${requestId}/cancel`, token: b.token }],
    ["GET /log/proof", { method: "GET", path: `/log/proof?wallet_id=${b.wallet_id}&seq=1`, token: a.token }],
    ["GET /me/contacts", { method: "GET", path: "/me/contacts", token: a.token }],
    ["GET /audit", { method: "GET", path: "/audit", token: auditor.token }],
    ["GET /audit/verify", { method: "GET", path: "/audit/verify", token: auditor.token }],
    ["GET /audit/self-audit", { method: "GET", path: "/audit/self-audit", token: auditor.token }],
    [
      "POST /admin/auditors",
      {
        method: "POST",
        path: "/admin/auditors",
        body: { handle: a.handle },
        headers: { "x-admin-token": "test-admin-token-0123456789abcdefghijklmnop" },
      },
    ],
  ];
}

/**
 * Routes that read nothing from D1 at the edge: movements (the coordinator reads its directory with its own
 * binding and answers 503 itself), lists kept in objects, and the static ones. Registration has its own fault
 * tests (auth-register-faults.test.ts).
 */
const NO_EDGE_D1 = new Set([
  "GET /health",
  "POST /auth/register",
  "POST /auth/logout",
  "POST /auth/logout-all",
  "POST /wallets/{wallet_id}/deposits",
  "POST /wallets/{wallet_id}/withdrawals",
  "POST /transfers",
  "POST /transfers/{transfer_id}/refunds",
  "GET /payment-requests",
  "POST /payment-requests/{request_id}/pay",
  "GET /receipts/public-key",
  // API keys live in the user's coordinator.
  "POST /api-keys",
  "GET /api-keys",
  "DELETE /api-keys/{api_key_id}",
  // Events and webhook endpoints live in the user's coordinator.
  "GET /events",
  "POST /webhook-endpoints",
  "GET /webhook-endpoints",
  "DELETE /webhook-endpoints/{endpoint_id}",
  "GET /webhook-endpoints/{endpoint_id}/deliveries",
  "POST /webhook-endpoints/{endpoint_id}/deliveries/{delivery_id}/retry",
  // The transparency log's public routes are answered by the log object alone.
  "GET /log/checkpoint",
  "GET /log/key",
  "GET /log/consistency",
  "GET /log/checkpoints",
  "POST /log/cosignatures",
]);

describe("D1 down at the edge", () => {
  it("every route that reads D1 answers 503 unavailable with Retry-After", async () => {
    const wrong: string[] = [];
    for (const [name, c] of d1Calls()) {
      const res = await call(c);
      const code = (res.json as { error?: { code: string } } | null)?.error?.code;
      if (res.status !== 503 || code !== "unavailable" || !(Number(res.headers.get("retry-after")) > 0))
        wrong.push(`${name}: ${res.status} ${code}`);
    }
    // Listed all at once, so a failure names every route that still answers otherwise.
    expect(wrong).toEqual([]);
  });

  it("a request or split refused so can be sent again with its key once D1 is back, and nothing else was made", async () => {
    const key = crypto.randomUUID();
    const ask: Call = {
      method: "POST",
      path: "/payment-requests",
      token: a.token,
      body: { wallet_id: a.wallet_id, payer: { handle: b.handle }, amount: 40 },
      headers: { "idempotency-key": key },
    };
    expectUnavailable(await call(ask), "keyed request");
    const split: Call = {
      ...ask,
      path: "/splits",
      body: {
        wallet_id: a.wallet_id,
        shares: [
          { payer: { handle: b.handle }, amount: 41 },
          { payer: { handle: auditor.handle }, amount: 42 },
        ],
      },
    };
    split.headers = { "idempotency-key": crypto.randomUUID() };
    expectUnavailable(await call(split), "keyed split");
    const outgoing = await api<{ items: { id: string }[] }>("/payment-requests?role=outgoing", { token: a.token });
    expect(outgoing.json.items.map((r) => r.id)).toEqual([requestId]);
    const again = await call(ask, true);
    expect(again.status, again.text).toBe(201);
    expect(again.headers.get("idempotent-replayed")).toBeNull();
    expect((await call(split, true)).status).toBe(201);
    // The refused decline and cancel changed nothing either: the first request is still open.
    const first = await api<{ payment_request: { status: string } }>(`/payment-requests/${requestId}`, { token: b.token });
    expect(first.json.payment_request.status).toBe("open");
  });

  it("every route of the API is either tested above or reads nothing from D1 at the edge", async () => {
    const doc = await api<{ paths: Record<string, Record<string, unknown>> }>("/openapi.json");
    const routes = Object.entries(doc.json.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`),
    );
    const tested = new Set(d1Calls().map(([name]) => name));
    const undecided = routes.filter((r) => !tested.has(r) && !NO_EDGE_D1.has(r));
    expect(undecided).toEqual([]);
  });
});
