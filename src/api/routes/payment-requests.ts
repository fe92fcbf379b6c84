/**
 * Payment requests and splits (contract v1.1): ask someone for money, split a bill among several people, and
 * for the payer: an inbox, pay, decline. Each request lives in its requester's coordinator (its id names it,
 * `prq_<requester>_<random>`), which decides every change of its status; paying is a transfer made by the
 * payer's coordinator under an Idempotency-Key, which claims the request before any money is reserved.
 * Payers are resolved here at the edge (handle, phone or wallet id, registered users only); a phone number is
 * sealed before it reaches any object, as at registration.
 */
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { encryptPhone, phoneIndex } from "../../auth/phone";
import { openPhonesInJson, sealPhonesInJson } from "../../auth/phone-text";
import { configOf } from "../../config";
import type { MovementOutcome } from "../../coordinator/rpc";
import type { CreateRequestsResult, NewShare, RequestChangeResult, StoredPayer } from "../../coordinator/request-views";
import { users, wallets } from "../../db/schema";
import { canonicalJson } from "../../domain/canonical";
import { requestOwner } from "../../domain/ids";
import { requestHash } from "../../domain/idempotency";
import type { TransferCoordinator } from "../../transfer-coordinator";
import { checkedMemo, orUnavailable, ownerCoordinator, unavailable, withCoordinator } from "../calls";
import type { AppContext, AppEnv } from "../context";
import { ApiError } from "../errors";
import { decodeTimeCursor, encodeTimeCursor, pageLimit } from "../paging";
import { keyedReply, optionalIdempotencyKey, type ReplySealing } from "../keyed";
import { limitBody, readSession, requireAuth, requireIdempotencyKey } from "../middleware";
import { movementErrors, withErrors } from "../declared-errors";
import {
  IdempotencyHeaders,
  OptionalIdempotencyHeaders,
  PayBody,
  PaymentRequest,
  PaymentRequestBody,
  RequestIdParam,
  RequestListQuery,
  Split,
  SplitBody,
  Transfer,
  jsonContent,
} from "../schemas";

type RecipientInput = z.infer<typeof PaymentRequestBody>["payer"];

/**
 * What creating requests (one, or a split's) can refuse beyond the body's checks: a payer nobody registered
 * (404), the requester coordinator's answers (`createdOrThrow`), and 503 when D1 or that coordinator's storage
 * cannot be reached.
 */
const REQUEST_CREATION_ERRORS = ["not_found", "forbidden", "same_wallet", "limit_exceeded", "unauthenticated", "unavailable"] as const;

/** The default time a request stays open: a week. */
const DEFAULT_EXPIRES_IN_S = 604_800;

const createRoute_ = createRoute(
  withErrors(
    {
      method: "post",
      path: "/payment-requests",
      summary: "Ask someone (a handle, phone or wallet id) for money",
      middleware: [limitBody, requireAuth, optionalIdempotencyKey] as const,
      request: {
        headers: OptionalIdempotencyHeaders,
        body: { required: true, content: { "application/json": { schema: PaymentRequestBody } } },
      },
      responses: {
        201: jsonContent(z.object({ payment_request: PaymentRequest }), "Created (or replayed)"),
      },
    },
    REQUEST_CREATION_ERRORS,
  ),
);

const splitRoute = createRoute(
  withErrors(
    {
      method: "post",
      path: "/splits",
      summary: "Split a bill: one request per share, all created or none",
      middleware: [limitBody, requireAuth, optionalIdempotencyKey] as const,
      request: { headers: OptionalIdempotencyHeaders, body: { required: true, content: { "application/json": { schema: SplitBody } } } },
      responses: {
        201: jsonContent(z.object({ split: Split }), "Created (or replayed)"),
      },
    },
    REQUEST_CREATION_ERRORS,
  ),
);

const listRoute = createRoute(
  withErrors(
    {
      method: "get",
      path: "/payment-requests",
      summary: "Your requests: incoming (to pay) or outgoing (you asked), newest first",
      middleware: [requireAuth] as const,
      request: { query: RequestListQuery },
      responses: {
        200: jsonContent(z.object({ items: z.array(PaymentRequest), next_cursor: z.string().nullable() }), "A page"),
      },
    },
    ["validation_error"],
  ),
);

const getRoute = createRoute(
  withErrors(
    {
      method: "get",
      path: "/payment-requests/{request_id}",
      summary: "A request, for its requester or payer",
      middleware: [requireAuth] as const,
      request: { params: RequestIdParam },
      responses: { 200: jsonContent(z.object({ payment_request: PaymentRequest }), "The request") },
    },
    ["not_found", "unavailable"],
  ),
);

const payRoute = createRoute(
  withErrors(
    {
      method: "post",
      path: "/payment-requests/{request_id}/pay",
      summary: "Pay a request from one of your wallets (a transfer with payment_request_id)",
      middleware: [limitBody, readSession, requireIdempotencyKey] as const,
      request: {
        params: RequestIdParam,
        headers: IdempotencyHeaders,
        body: { required: true, content: { "application/json": { schema: PayBody } } },
      },
      responses: {
        201: jsonContent(z.object({ transfer: Transfer }), "Paid (or replayed)"),
      },
    },
    movementErrors("payment"),
  ),
);

function resolveRoute(path: string, summary: string) {
  return createRoute(
    withErrors(
      {
        method: "post",
        path,
        summary,
        middleware: [limitBody, requireAuth, optionalIdempotencyKey] as const,
        request: { params: RequestIdParam, headers: OptionalIdempotencyHeaders },
        responses: {
          200: jsonContent(z.object({ payment_request: PaymentRequest }), "Done (or replayed)"),
        },
      },
      ["forbidden", "not_found", "request_not_open", "unavailable"],
    ),
  );
}
const declineRoute = resolveRoute("/payment-requests/{request_id}/decline", "Decline a request you were asked to pay");
const cancelRoute = resolveRoute("/payment-requests/{request_id}/cancel", "Cancel a request you made");

/**
 * A keyed answer (a creation, a decline, a cancel) is stored for replays; a payer named by phone is shown in it, so the phone is stored
 * sealed and opened again for the replay, byte for byte (auth/phone-text.ts).
 */
function phoneSealing(c: AppContext): ReplySealing {
  return { store: (body) => sealPhonesInJson(c.env, body), replay: (stored) => openPhonesInJson(c.env, stored) };
}

/** The payment-request sub-app, mounted under /api/v1. */
export const paymentRequestRoutes = new OpenAPIHono<AppEnv>();

paymentRequestRoutes.openapi(createRoute_, async (c) => {
  const body = c.req.valid("json");
  const memo = await checkedMemo(c, body.memo);
  return keyedReply(
    c,
    "payment-request",
    body,
    async () => {
      const made = await createRequests(c, body, memo, [await payerShare(c, body.payer, body.amount)], false);
      return c.json({ payment_request: made.requests[0] }, 201);
    },
    phoneSealing(c),
  ) as never;
});

paymentRequestRoutes.openapi(splitRoute, async (c) => {
  const body = c.req.valid("json");
  const memo = await checkedMemo(c, body.memo);
  await checkShares(c, body.shares);
  return keyedReply(
    c,
    "split",
    body,
    async () => {
      const shares: NewShare[] = [];
      for (const s of body.shares) shares.push(await payerShare(c, s.payer, s.amount));
      const made = await createRequests(c, body, memo, shares, true);
      const amount = body.shares.reduce((sum, s) => sum + s.amount, 0);
      return c.json({ split: { id: made.split_id ?? "", memo, amount, requests: made.requests } }, 201);
    },
    phoneSealing(c),
  ) as never;
});

paymentRequestRoutes.openapi(listRoute, async (c) => {
  const query = c.req.valid("query");
  const config = configOf(c.env);
  const limit = pageLimit(query.limit, config.history_page_default, config.history_page_max);
  const position = query.cursor === undefined ? null : decodeTimeCursor("r1", query.cursor);
  const after = position === null ? null : { created_at_ms: position.at_ms, id: position.id };
  const page = await own(c).listRequests(query.role ?? "incoming", query.status ?? null, after, limit);
  const next_cursor = page.full && page.last !== null ? encodeTimeCursor("r1", { at_ms: page.last.created_at_ms, id: page.last.id }) : null;
  return c.json({ items: page.items, next_cursor }, 200);
});

paymentRequestRoutes.openapi(getRoute, async (c) => {
  const { request_id } = c.req.valid("param");
  const owner = await ownerCoordinator(c, requestOwner(request_id));
  const found = await orUnavailable(c, "read request", async () => await owner.readRequest(request_id, c.get("caller").user_id));
  if (found.code !== "ok") throw new ApiError("not_found");
  return c.json({ payment_request: found.payment_request }, 200);
});

paymentRequestRoutes.openapi(payRoute, async (c) => {
  const { request_id } = c.req.valid("param");
  const body = c.req.valid("json");
  const request = {
    ...c.get("credential"),
    idempotency_key: c.get("idempotency_key"),
    request_hash: requestHash(`pay ${request_id}`, body),
    request_id: c.get("request_id"),
    payment_request_id: request_id,
    from_wallet_id: body.from_wallet_id,
  };
  return withCoordinator(c, async (coordinator) => {
    const outcome = await coordinator.payRequest(request);
    // Not recorded: the request does not exist or is not the caller's to pay, which no retry can change.
    if ((outcome.code === "not_found" || outcome.code === "forbidden") && !("movement" in outcome)) throw new ApiError(outcome.code);
    return outcome as MovementOutcome;
  });
});

paymentRequestRoutes.openapi(declineRoute, async (c) => {
  const { request_id } = c.req.valid("param");
  return keyedReply(
    c,
    `decline ${request_id}`,
    {},
    async () => {
      const owner = await ownerCoordinator(c, requestOwner(request_id));
      const changed = await orUnavailable(
        c,
        "decline request",
        async () => await owner.declineRequest(request_id, c.get("caller").user_id),
      );
      return c.json({ payment_request: changedOrThrow(changed) }, 200);
    },
    phoneSealing(c),
  ) as never;
});

paymentRequestRoutes.openapi(cancelRoute, async (c) => {
  const { request_id } = c.req.valid("param");
  const caller = c.get("caller").user_id;
  return keyedReply(
    c,
    `cancel ${request_id}`,
    {},
    async () => {
      const owner = await ownerCoordinator(c, requestOwner(request_id));
      if (requestOwner(request_id) !== caller) {
        // Only the requester cancels; the payer learns that it is not theirs to cancel, anyone else nothing.
        const seen = await orUnavailable(c, "read request", async () => await owner.readRequest(request_id, caller));
        throw new ApiError(seen.code === "ok" ? "forbidden" : "not_found");
      }
      const changed = await orUnavailable(c, "cancel request", async () => await owner.cancelRequest(request_id));
      return c.json({ payment_request: changedOrThrow(changed) }, 200);
    },
    phoneSealing(c),
  ) as never;
});

// ---- Helpers --------------------------------------------------------------------------------------------------

function own(c: AppContext): DurableObjectStub<TransferCoordinator> {
  return c.env.COORDINATOR.getByName(c.get("credential").user_id);
}

/** A split's shares: within SPLIT_MAX_SHARES, payers distinct as written, and a total that is a safe integer. */
async function checkShares(c: AppContext, shares: { payer: RecipientInput; amount: number }[]): Promise<void> {
  const max = configOf(c.env).split_max_shares;
  if (shares.length > max) throw new ApiError("limit_exceeded", [{ field: "SPLIT_MAX_SHARES", issue: `at most ${max}` }]);
  const written = new Set(shares.map((s) => canonicalJson(s.payer)));
  if (written.size !== shares.length) throw new ApiError("validation_error", [{ field: "shares", issue: "each payer at most once" }]);
  const total = shares.reduce((sum, s) => sum + s.amount, 0);
  if (!Number.isSafeInteger(total))
    throw new ApiError("validation_error", [{ field: "shares", issue: "the total must be at most 2^53-1" }]);
}

/** The payer's user id and how the requester may see them; 404 for anyone not registered. */
async function payerShare(c: AppContext, payer: RecipientInput, amount: number): Promise<NewShare> {
  const db = drizzle(c.env.DB);
  if ("phone" in payer) {
    const index = await phoneIndex(c.env, payer.phone);
    const row = await orUnavailable(c, "payer by phone", () =>
      db.select({ id: users.id }).from(users).where(eq(users.phone_index, index)).get(),
    );
    if (row === undefined) throw new ApiError("not_found");
    const stored: StoredPayer = { phone: await encryptPhone(c.env, payer.phone) };
    return { payer_user_id: row.id, payer: stored, amount };
  }
  const named = { id: users.id, handle: users.handle, display_name: users.display_name };
  const row = await orUnavailable(c, "payer", () =>
    "handle" in payer
      ? db.select(named).from(users).where(eq(users.handle, payer.handle)).get()
      : db.select(named).from(wallets).innerJoin(users, eq(users.id, wallets.owner_id)).where(eq(wallets.id, payer.wallet_id)).get(),
  );
  if (row === undefined) throw new ApiError("not_found");
  return { payer_user_id: row.id, payer: { handle: row.handle, display_name: row.display_name }, amount };
}

/** Creates the requests of `shares` in the caller's coordinator (a split's all or none); its refusals as errors. */
async function createRequests(
  c: AppContext,
  body: { wallet_id: string; expires_in_s?: number | undefined },
  memo: string | null,
  shares: NewShare[],
  split: boolean,
): Promise<Extract<CreateRequestsResult, { code: "created" }>> {
  const display_name = await displayName(c);
  const input = { display_name, wallet_id: body.wallet_id, memo, expires_in_s: body.expires_in_s ?? DEFAULT_EXPIRES_IN_S, shares, split };
  const created = await orUnavailable(c, "create requests", async () => await own(c).createRequests(c.get("credential").token_hash, input));
  return createdOrThrow(created);
}

async function displayName(c: AppContext): Promise<string> {
  const row = await orUnavailable(c, "display name", () =>
    drizzle(c.env.DB)
      .select({ display_name: users.display_name })
      .from(users)
      .where(eq(users.id, c.get("caller").user_id))
      .get(),
  );
  return row?.display_name ?? c.get("caller").handle;
}

function createdOrThrow(result: CreateRequestsResult | { code: "unauthenticated" }): Extract<CreateRequestsResult, { code: "created" }> {
  if (result.code === "created") return result;
  if (result.code === "limit_exceeded") throw new ApiError("limit_exceeded", [{ field: result.field, issue: `at most ${result.max}` }]);
  if (result.code === "unavailable") throw unavailable();
  throw new ApiError(result.code);
}

function changedOrThrow(result: RequestChangeResult) {
  if (result.code === "ok") return result.payment_request;
  if (result.code === "unavailable") throw unavailable();
  throw new ApiError(result.code);
}
