/**
 * Which error codes each route can answer, declared once and used twice: in the OpenAPI document (each route
 * lists exactly its codes, grouped by the status the one table in errors.ts gives them) and, in test mode, by
 * a guard that checks every error answer against its route's list. A route's list is derived, not written out:
 * the codes of the middleware it runs (declared beside each middleware), `validation_error` when it validates
 * a body, a query or path parameters, the codes its handler adds, and `internal`, which any route answers when
 * something breaks. Because the guard turns an undeclared code into a loud 500, the whole test suite, which
 * provokes every refusal, checks that no route answers a code its documentation does not list.
 */
import type { MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import { configOf } from "../config";
import { OPERATION_FAILURES, type Operation } from "../coordinator/rpc";
import { log } from "../observability/log";
import type { AppEnv } from "./context";
import { ERRORS, errorResponse, type ErrorCode } from "./errors";
import { errorResponses } from "./schemas";

/** Any route answers 500 `internal` when something unexpected breaks (app.ts's error handler). */
export const EVERY_ROUTE_ERRORS: readonly ErrorCode[] = ["internal"];

/** What the app answers for a path or method no route serves. */
const NO_ROUTE_ERRORS: ReadonlySet<ErrorCode> = new Set<ErrorCode>(["not_found", ...EVERY_ROUTE_ERRORS]);

/**
 * What a money movement answers through the caller's coordinator (api/calls.ts `withCoordinator`, rendered by
 * render.ts): the outcomes every movement shares, and the refusals of its operation.
 */
export function movementErrors(operation: Operation): readonly ErrorCode[] {
  return [
    "unauthenticated",
    "idempotency_key_reused",
    "idempotency_in_progress",
    "rate_limited",
    "unavailable",
    ...OPERATION_FAILURES[operation],
  ];
}

const byMiddleware = new WeakMap<object, readonly ErrorCode[]>();

/** Records the codes a middleware answers with on its own, so every route that lists it declares them. */
export function declareMiddlewareErrors<M extends object>(middleware: M, codes: readonly ErrorCode[]): M {
  byMiddleware.set(middleware, codes);
  return middleware;
}

/** The parts of a route definition (as `createRoute` takes it) that decide which errors it can answer. */
export interface RouteShape {
  method: string;
  path: string;
  middleware?: unknown;
  request?: { body?: unknown; query?: unknown; params?: unknown; headers?: unknown };
}

/** Every code `route` can answer, in the order of the one table, from its middleware, its request and its handler. */
export function routeErrorCodes(route: RouteShape, handler: readonly ErrorCode[]): ErrorCode[] {
  const middleware: unknown[] =
    route.middleware === undefined ? [] : Array.isArray(route.middleware) ? route.middleware : [route.middleware];
  const codes = new Set<ErrorCode>([...EVERY_ROUTE_ERRORS, ...handler]);
  for (const m of middleware) {
    const declared = typeof m === "function" ? byMiddleware.get(m) : undefined;
    if (declared === undefined) throw new Error(`declared-errors: middleware ${String((m as { name?: string }).name)} declares no errors`);
    for (const code of declared) codes.add(code);
  }
  // The app's validation hook answers 400 for a body, query or path parameter its schema refuses (and for a
  // body that is not JSON); the header schemas accept anything, so they add nothing.
  const request = route.request ?? {};
  if (request.body !== undefined || request.query !== undefined || request.params !== undefined) codes.add("validation_error");
  return (Object.keys(ERRORS) as ErrorCode[]).filter((code) => codes.has(code));
}

/** The declared codes of every route, by `routeKey`. */
const declared = new Map<string, ReadonlySet<ErrorCode>>();

function routeKey(method: string, openapiPath: string): string {
  return `${method.toUpperCase()} ${openapiPath}`;
}

/**
 * A route definition with its error responses: `handler` lists what the handler itself adds to what the
 * route's middleware and request validation answer. Each route is declared once, at module load.
 */
export function withErrors<R extends RouteShape & { responses: object }>(route: R, handler: readonly ErrorCode[]): R {
  const codes = routeErrorCodes(route, handler);
  declared.set(routeKey(route.method, route.path), new Set(codes));
  return { ...route, responses: { ...route.responses, ...errorResponses(codes) } };
}

/** The declared codes of a route, for tests; undefined for a route nobody declared. */
export function declaredErrorsOf(method: string, openapiPath: string): ReadonlySet<ErrorCode> | undefined {
  return declared.get(routeKey(method, openapiPath));
}

/** The OpenAPI method and path of the route Hono matched (its `/api/v1` prefix off), or null when none did. */
function matchedRoute(c: Parameters<MiddlewareHandler<AppEnv>>[0]): string | null {
  const endpoint = matchedRoutes(c).find((r) => r.method !== "ALL");
  if (endpoint === undefined) return null;
  const path = endpoint.path.replace(/^\/api\/v1(?=\/)/, "").replace(/:([A-Za-z0-9_]+)/g, "{$1}");
  return routeKey(endpoint.method, path);
}

/** The `error.code` of an error answer, or null when its body is not the contract's error body. */
async function answeredCode(res: Response): Promise<string | null> {
  try {
    const body: unknown = await res.clone().json();
    const code = (body as { error?: { code?: unknown } } | null)?.error?.code;
    return typeof code === "string" ? code : null;
  } catch {
    return null;
  }
}

/** What is wrong with an error answer for `route`, or null when it is one the route declares. */
function problemOf(route: string | null, status: number, code: string | null): string | null {
  const allowed = route === null ? NO_ROUTE_ERRORS : (declared.get(route) ?? new Set(EVERY_ROUTE_ERRORS));
  if (code === null) return `error answer ${status} without a contract error body`;
  if (!allowed.has(code as ErrorCode)) return `undeclared error code ${code}`;
  if (ERRORS[code as ErrorCode].status !== status)
    return `error code ${code} answered with ${status}, not ${ERRORS[code as ErrorCode].status}`;
  return null;
}

/**
 * Test mode only (CHECK_ERROR_CODES=on, which vitest.config.ts and the HTTP test server set and production never
 * does): every error answer must carry a code its route declares, with the table's status. One that does not is
 * logged as `undeclared error code X on route Y` and replaced by a 500 naming it, so the test that provoked it
 * fails, whatever it expected.
 */
export const checkDeclaredErrors: MiddlewareHandler<AppEnv> = async (c, next) => {
  await next();
  if (!configOf(c.env).check_error_codes || c.res.status < 400) return;
  const route = matchedRoute(c);
  const code = await answeredCode(c.res);
  const problem = problemOf(route, c.res.status, code);
  if (problem === null) return;
  log("error", `${problem} on route ${route ?? "(none)"}`, { request_id: c.get("request_id"), status: c.res.status });
  c.res = undefined;
  c.res = errorResponse(c, "internal", { headers: { "X-Undeclared-Error": `${problem} on route ${route ?? "(none)"}` } });
};
