/**
 * Edge middleware: request ids, body limits, authentication and the Idempotency-Key header. Each one either
 * sets a typed variable for the routes or answers with a contract error.
 */
import type { MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import { matchedRoutes } from "hono/route";
import { configOf } from "../config";
import { SESSION_COOKIE, tokenHash, tokenUser } from "../auth/sessions";
import { apiKeyOf, looksLikeApiKey } from "../auth/api-keys";
import { jsonTextProblem } from "../domain/json-numbers";
import { scopeAllows } from "./scopes";
import type { AppContext, AppEnv, Caller, Credential } from "./context";
import { declareMiddlewareErrors } from "./declared-errors";
import { ApiError } from "./errors";

/** Gives every request an id, echoed in `X-Request-Id`, in error bodies and in log lines. */
export const requestId: MiddlewareHandler<AppEnv> = async (c, next) => {
  c.set("request_id", crypto.randomUUID());
  await next();
  c.header("X-Request-Id", c.get("request_id"));
};

/**
 * Refuses bodies over MAX_BODY_BYTES with 413 before anything parses them. A declared Content-Length over the
 * limit is refused without reading; any other body (chunked, or with no length) is read only up to the limit,
 * then handed on as bytes, so no route can be made to buffer more than the limit whatever its framing. Every
 * route with a body must list this middleware (or receive its body through another route that does).
 *
 * On a route that needs a session, the session is decided first: a missing, forged or revoked token gets 401,
 * never a 413 that would answer for a request the service will not serve anyway.
 */
export const limitBody: MiddlewareHandler<AppEnv> = declareMiddlewareErrors<MiddlewareHandler<AppEnv>>(
  async (c, next) => {
    const max = configOf(c.env).max_body_bytes;
    const declared = Number(c.req.header("content-length") ?? "0");
    if (declared > max) return refuseTooLarge(c);
    const body = c.req.raw.body as ReadableStream<Uint8Array> | null;
    if (body === null) return next();
    const bytes = await readUpTo(body, max);
    if (bytes === null) return refuseTooLarge(c);
    // Refused by the schema hook (api/app.ts) once the session is decided, so that 401 still comes first.
    const json = /json/i.test(c.req.header("content-type") ?? "");
    const problem = json ? jsonTextProblem(new TextDecoder().decode(bytes)) : null;
    if (problem !== null) c.set("json_text_problem", problem);
    c.req.raw = new Request(c.req.raw, { body: bytes });
    await next();
  },
  ["payload_too_large"],
);

/** The whole stream if it holds at most `max` bytes, else null (reading stops, and the stream is cancelled). */
async function readUpTo(stream: ReadableStream<Uint8Array>, max: number): Promise<Uint8Array | null> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      return null;
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

async function refuseTooLarge(c: AppContext): Promise<never> {
  // Set only if `readSession` already ran; before it, the credential is read here.
  const credential = c.get("credential") as Credential | undefined;
  if (routeNeedsSession(c)) await checkSession(c, credential ?? (await readCredential(c)));
  throw new ApiError("payload_too_large");
}

function bearerToken(header: string | undefined): string | null {
  if (header === undefined) return null;
  // The scheme is case-insensitive (RFC 9110 section 11.1), so "bearer" and "BEARER" name it too.
  const match = /^Bearer ([^\s]+)$/i.exec(header);
  return match?.[1] ?? "";
}

/**
 * Reads the session token from `Authorization: Bearer <token>` or, for the web client, the HttpOnly session
 * cookie; a present but malformed Authorization header is refused rather than silently falling back to the
 * cookie. An API key is accepted as a bearer token only. Only the token's shape and MAC are checked here (401
 * if wrong); the token names its user, whose coordinator holds the session or the key.
 *
 * An API key used beyond its scopes (api/scopes.ts, the one table of them) is refused here, before the route
 * or any Idempotency-Key is looked at, so the refusal is never stored under a key: 403 `insufficient_scope`,
 * or 401 first if the key is revoked.
 */
async function readCredential(c: AppContext): Promise<Credential> {
  const bearer = bearerToken(c.req.header("authorization"));
  const token = bearer ?? getCookie(c, SESSION_COOKIE) ?? "";
  const credential = bearer !== null && looksLikeApiKey(token) ? await keyCredential(c, token) : await sessionCredential(c, token);
  if (credential === null) throw new ApiError("unauthenticated");
  if (bearer === null) assertSameOrigin(c);
  c.set("credential", credential);
  if (credential.scopes !== null && !scopeAllows(credential.scopes, c.req.method, c.req.path)) {
    await checkSession(c, credential);
    throw new ApiError("insufficient_scope");
  }
  return credential;
}

async function sessionCredential(c: AppContext, token: string): Promise<Credential | null> {
  const user_id = await tokenUser(c.env, token);
  return user_id === null ? null : { user_id, token_hash: await tokenHash(token), scopes: null };
}

async function keyCredential(c: AppContext, key: string): Promise<Credential | null> {
  const issued = await apiKeyOf(c.env, key);
  return issued === null ? null : { user_id: issued.user_id, token_hash: await tokenHash(key), scopes: issued.scopes };
}

/** Checks the session with its coordinator (one call, no D1 query) and sets the caller; 401 if not live. */
async function checkSession(c: AppContext, credential: Credential): Promise<void> {
  const session = await c.env.COORDINATOR.getByName(credential.user_id).authenticate(credential.token_hash);
  if (session.code !== "ok") throw new ApiError("unauthenticated");
  c.set("caller", session.caller);
}

/**
 * The codes of the session middleware: 401, 403 from the cookie's CSRF check, which also refuses a GET that
 * asks for a WebSocket upgrade, on any route, and 403 `insufficient_scope` for an API key beyond its scopes.
 */
const SESSION_ERRORS = ["unauthenticated", "forbidden", "insufficient_scope"] as const;

/** Authenticates the request before the route runs. */
export const requireAuth: MiddlewareHandler<AppEnv> = declareMiddlewareErrors<MiddlewareHandler<AppEnv>>(async (c, next) => {
  await checkSession(c, await readCredential(c));
  await next();
}, SESSION_ERRORS);

/**
 * For money movements: reads the token but leaves the session check to the coordinator, which makes it in the
 * same call as the movement (one call fewer per movement). Whatever the edge refuses on its own after this
 * (400, 428) first checks the session through `sessionFirst`, so a revoked token still gets 401 first.
 */
export const readSession: MiddlewareHandler<AppEnv> = declareMiddlewareErrors<MiddlewareHandler<AppEnv>>(async (c, next) => {
  await readCredential(c);
  await next();
}, SESSION_ERRORS);

/** The middleware that make a route need a session, wherever they stand in its list. */
const SESSION_MIDDLEWARE: ReadonlySet<unknown> = new Set<unknown>([requireAuth, readSession]);

/**
 * Whether the matched route lists `requireAuth` or `readSession`, before or after the middleware asking, so an
 * early refusal (such as `limitBody`'s 413) can let authentication answer first without depending on the order
 * of a route's middleware.
 */
function routeNeedsSession(c: AppContext): boolean {
  return matchedRoutes(c).some((route) => SESSION_MIDDLEWARE.has(route.handler));
}

/** Before the edge answers an error of its own: 401 instead if the request's session is not live. */
export async function sessionFirst(c: AppContext): Promise<void> {
  const credential = c.get("credential") as Credential | undefined;
  if (credential !== undefined && (c.get("caller") as Caller | undefined) === undefined) await checkSession(c, credential);
}

/**
 * CSRF defence for the cookie: a browser attaches it to cross-site requests (SameSite=Strict already stops
 * most), so a write or a WebSocket upgrade authenticated by the cookie must also carry an Origin header that
 * is this site or an allowed origin. Bearer tokens are never sent by a browser on its own, so they need no
 * such check.
 */
function assertSameOrigin(c: AppContext): void {
  const isWrite = !["GET", "HEAD", "OPTIONS"].includes(c.req.method);
  const isUpgrade = c.req.header("upgrade")?.toLowerCase() === "websocket";
  if (!isWrite && !isUpgrade) return;
  const origin = c.req.header("origin");
  const own = new URL(c.req.url).origin;
  if (origin === undefined || (origin !== own && !configOf(c.env).allowed_origins.includes(origin))) throw new ApiError("forbidden");
}

/** The shape of an Idempotency-Key: 1..255 printable ASCII characters. */
export const KEY_SHAPE = /^[\x20-\x7e]{1,255}$/;

/** Money-moving requests must carry an Idempotency-Key of 1..255 printable ASCII characters. */
export const requireIdempotencyKey: MiddlewareHandler<AppEnv> = declareMiddlewareErrors<MiddlewareHandler<AppEnv>>(
  async (c, next) => {
    const key = c.req.header("idempotency-key");
    if (key === undefined || !KEY_SHAPE.test(key)) await sessionFirst(c);
    if (key === undefined) throw new ApiError("idempotency_key_required");
    if (!KEY_SHAPE.test(key)) {
      throw new ApiError("validation_error", [{ field: "Idempotency-Key", issue: "1..255 printable ASCII characters" }]);
    }
    c.set("idempotency_key", key);
    await next();
  },
  ["idempotency_key_required", "validation_error"],
);

/** Only auditors pass. */
export const requireAuditor: MiddlewareHandler<AppEnv> = declareMiddlewareErrors<MiddlewareHandler<AppEnv>>(
  async (c, next) => {
    if (c.get("caller").role !== "auditor") throw new ApiError("forbidden");
    await next();
  },
  ["forbidden"],
);
