/**
 * Error codes declared per route (src/api/declared-errors.ts): the derivation from middleware, request and
 * handler; the OpenAPI document listing exactly those codes for every route; and the test-mode guard that turns
 * an answer with an undeclared code into a loud 500, which is what makes the rest of the suite a proof that no
 * route answers a code it does not document.
 */
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { AppEnv } from "../../src/api/context";
import { parseConfig, type ConfigVars } from "../../src/config";
import { checkDeclaredErrors, declaredErrorsOf, movementErrors, routeErrorCodes, withErrors } from "../../src/api/declared-errors";
import { ApiError, ERRORS, errorResponse, type ErrorCode } from "../../src/api/errors";
import { limitBody, readSession, requestId, requireAuth, requireIdempotencyKey } from "../../src/api/middleware";
import { api } from "./helpers";

/** A tiny app with the real guard and one declared route whose handler answers whatever code it is asked for. */
function guardedApp(): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>();
  app.use("*", requestId);
  app.use("*", checkDeclaredErrors);
  const route = createRoute(
    withErrors(
      {
        method: "get",
        path: "/guard-probe/{code}",
        request: { params: z.object({ code: z.string() }) },
        responses: { 200: { description: "never" } },
      },
      ["not_found", "insufficient_funds"],
    ),
  );
  app.openapi(route, (c) => {
    throw new ApiError(c.req.valid("param").code as ErrorCode);
  });
  // Answers with a declared code but the wrong status, which the one table forbids.
  app.get("/guard-probe-status", (c) => c.json({ error: { code: "not_found", message: "x", request_id: "r" } }, 400));
  app.notFound((c) => errorResponse(c, "not_found"));
  app.onError((error, c) => (error instanceof ApiError ? errorResponse(c, error.code) : errorResponse(c, "internal")));
  return app;
}

describe("the test-mode guard", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("passes a declared code untouched", async () => {
    const res = await guardedApp().request("/guard-probe/insufficient_funds", {}, env);
    expect(res.status).toBe(422);
    expect((await res.json<{ error: { code: string } }>()).error.code).toBe("insufficient_funds");
  });

  it("turns an undeclared code into a 500 and logs the route", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const res = await guardedApp().request("/guard-probe/same_wallet", {}, env);
    expect(res.status).toBe(500);
    expect((await res.json<{ error: { code: string } }>()).error.code).toBe("internal");
    expect(res.headers.get("x-undeclared-error")).toBe("undeclared error code same_wallet on route GET /guard-probe/{code}");
    expect(logged.mock.calls.map((call) => String(call[0])).join("\n")).toContain(
      "undeclared error code same_wallet on route GET /guard-probe/{code}",
    );
  });

  it("refuses a declared code with a status other than the table's", async () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const res = await guardedApp().request("/guard-probe-status", {}, env);
    expect(res.status).toBe(500);
    expect(res.headers.get("x-undeclared-error")).toContain("undeclared error code not_found on route GET /guard-probe-status");
  });

  it("allows only not_found (and internal) where no route matched", async () => {
    const res = await guardedApp().request("/nothing-here", {}, env);
    expect(res.status).toBe(404);
  });

  it("refuses an error answer that is not the contract's error body", async () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const app = guardedApp();
    app.get("/plain", (c) => c.text("nope", 400));
    const res = await app.request("/plain", {}, env);
    expect(res.status).toBe(500);
    expect(res.headers.get("x-undeclared-error")).toBe("error answer 400 without a contract error body on route GET /plain");
  });

  it("does nothing when CHECK_ERROR_CODES is off, as in production", async () => {
    const res = await guardedApp().request("/guard-probe/same_wallet", {}, { ...env, CHECK_ERROR_CODES: "off" });
    expect(res.status).toBe(422);
    expect((await res.json<{ error: { code: string } }>()).error.code).toBe("same_wallet");
  });

  it("is switched only by exactly on or off", () => {
    const vars = env as unknown as ConfigVars;
    expect(parseConfig({ ...vars, CHECK_ERROR_CODES: "off" }).check_error_codes).toBe(false);
    expect(parseConfig({ ...vars, CHECK_ERROR_CODES: "on" }).check_error_codes).toBe(true);
    expect(() => parseConfig({ ...vars, CHECK_ERROR_CODES: "yes" })).toThrow(/CHECK_ERROR_CODES must be "on" or "off"/);
  });

  it("is on for this suite, through the real app", async () => {
    expect(env.CHECK_ERROR_CODES).toBe("on");
    // The real app's 404 for an unknown path passes the guard, so the guard's own answer would be a 500.
    expect((await api("/no-such-route")).status).toBe(404);
  });
});

describe("derived lists", () => {
  it("adds each middleware's codes, validation for a validated request, and internal", () => {
    const codes = routeErrorCodes(
      {
        method: "post",
        path: "/x",
        middleware: [limitBody, readSession, requireIdempotencyKey],
        request: { body: {} },
      },
      movementErrors("deposit"),
    );
    expect(codes).toEqual([
      "validation_error",
      "unauthenticated",
      "forbidden",
      "not_found",
      "idempotency_in_progress",
      "payload_too_large",
      "idempotency_key_reused",
      "balance_limit_exceeded",
      "insufficient_scope",
      "idempotency_key_required",
      "rate_limited",
      "unavailable",
      "internal",
    ]);
    expect(routeErrorCodes({ method: "get", path: "/y", middleware: [requireAuth] }, [])).toEqual([
      "unauthenticated",
      "forbidden",
      "insufficient_scope",
      "internal",
    ]);
  });

  it("refuses a middleware that declares nothing", () => {
    const undeclared = async (): Promise<void> => undefined;
    expect(() => routeErrorCodes({ method: "get", path: "/z", middleware: [undeclared] }, [])).toThrow(/declares no errors/);
  });
});

interface Operation {
  responses: Record<string, { description: string; content?: { "application/json": { schema: { $ref?: string } } } }>;
}

interface Document {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, { properties: { error: { properties: { code: { enum: string[] } } } } }> };
}

describe("the OpenAPI document", () => {
  it("lists, for every route, exactly its declared codes, each under the table's status", async () => {
    const doc = (await api<Document>("/openapi.json")).json;
    let routes = 0;
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const declared = declaredErrorsOf(method, path);
        expect(declared, `${method} ${path} has no declared errors`).toBeDefined();
        const documented: string[] = [];
        for (const [status, response] of Object.entries(operation.responses)) {
          if (Number(status) < 400) continue;
          const ref = response.content?.["application/json"].schema.$ref ?? "";
          const schema = doc.components.schemas[ref.replace("#/components/schemas/", "")];
          const codes = schema?.properties.error.properties.code.enum ?? [];
          for (const code of codes) expect(ERRORS[code as ErrorCode].status, `${method} ${path} ${code}`).toBe(Number(status));
          expect(response.description).toBe(`Error: ${codes.join(", ")}`);
          documented.push(...codes);
        }
        expect(documented.sort(), `${method} ${path}`).toEqual([...(declared ?? [])].sort());
        routes++;
      }
    }
    expect(routes).toBeGreaterThan(30);
  });

  it("documents the money routes' rate limit and exactly their operation's refusals", async () => {
    const doc = (await api<Document>("/openapi.json")).json;
    const deposit = declaredErrorsOf("post", "/wallets/{wallet_id}/deposits");
    expect(deposit?.has("rate_limited")).toBe(true);
    expect(deposit?.has("insufficient_funds")).toBe(false);
    expect(declaredErrorsOf("post", "/transfers")?.has("same_wallet")).toBe(true);
    expect(declaredErrorsOf("get", "/me")).toEqual(
      new Set(["unauthenticated", "forbidden", "insufficient_scope", "unavailable", "internal"]),
    );
    expect(doc.paths["/transfers"]?.post?.responses["429"]?.description).toBe("Error: rate_limited");
  });
});
