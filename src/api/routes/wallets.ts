/**
 * Wallet routes: read a wallet, page through its history, deposit and withdraw. Only the owner may use them;
 * another user's wallet is 403, a wallet that does not exist is 404. Deposits and withdrawals go through the
 * user's coordinator, which checks the Idempotency-Key before anything else.
 */
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import { configOf } from "../../config";
import type { SingleWalletRequest } from "../../coordinator/rpc";
import { assertOwnWallet, orUnavailable, withCoordinator } from "../calls";
import type { AppContext, AppEnv } from "../context";
import { ApiError } from "../errors";
import { pageLimit } from "../paging";
import { requestHash } from "../../domain/idempotency";
import { limitBody, readSession, requireAuth, requireIdempotencyKey } from "../middleware";
import { decodeHistoryCursor, encodeHistoryCursor, parseInstant, walletIdsOfHandle, type HistoryFilterSpec } from "../find-params";
import type { HistoryFilter } from "../../wallet/history-queries";
import type { EntryKind } from "../../domain/views";
import { movementErrors, withErrors } from "../declared-errors";
import { AmountBody, Entry, HistoryFilterQuery, IdempotencyHeaders, Movement, Wallet, WalletIdParam, jsonContent } from "../schemas";

function singleWalletRequest(c: AppContext, route: string, walletId: string, body: { amount: number }): SingleWalletRequest {
  return {
    ...c.get("credential"),
    idempotency_key: c.get("idempotency_key"),
    request_hash: requestHash(`${route} ${walletId}`, body),
    request_id: c.get("request_id"),
    wallet_id: walletId,
    amount: body.amount,
  };
}

const getWalletRoute = createRoute(
  withErrors(
    {
      method: "get",
      path: "/wallets/{wallet_id}",
      summary: "A wallet's balances",
      middleware: [requireAuth] as const,
      request: { params: WalletIdParam },
      responses: { 200: jsonContent(Wallet, "The wallet") },
    },
    ["forbidden", "not_found", "unavailable"],
  ),
);

const historyRoute = createRoute(
  withErrors(
    {
      method: "get",
      path: "/wallets/{wallet_id}/history",
      summary: "A wallet's entries, newest first, by cursor, optionally filtered by kind, time range and counterparty",
      middleware: [requireAuth] as const,
      request: { params: WalletIdParam, query: HistoryFilterQuery },
      responses: {
        200: jsonContent(z.object({ items: z.array(Entry), next_cursor: z.string().nullable() }), "A page of history"),
      },
    },
    ["validation_error", "forbidden", "not_found", "unavailable"],
  ),
);

function movementRoute(path: string, summary: string, key: "deposit" | "withdrawal") {
  return createRoute(
    withErrors(
      {
        method: "post",
        path,
        summary,
        middleware: [limitBody, readSession, requireIdempotencyKey] as const,
        request: {
          params: WalletIdParam,
          headers: IdempotencyHeaders,
          body: { required: true, content: { "application/json": { schema: AmountBody } } },
        },
        responses: {
          201: jsonContent(z.object({ [key]: Movement }), "Done (or replayed, with Idempotent-Replayed: true)"),
        },
      },
      movementErrors(key),
    ),
  );
}

const depositRoute = movementRoute("/wallets/{wallet_id}/deposits", "Top up a wallet from outside the system", "deposit");
const withdrawalRoute = movementRoute("/wallets/{wallet_id}/withdrawals", "Pay out of a wallet to outside the system", "withdrawal");

/** The wallets sub-app, mounted under /api/v1. */
export const walletRoutes = new OpenAPIHono<AppEnv>();

walletRoutes.openapi(getWalletRoute, async (c) => {
  const { wallet_id } = c.req.valid("param");
  await assertOwnWallet(c, wallet_id);
  const snapshot = await c.env.WALLET.getByName(wallet_id).snapshot();
  if (snapshot.code !== "ok") throw new ApiError("not_found");
  return c.json(snapshot.wallet, 200);
});

walletRoutes.openapi(historyRoute, async (c) => {
  const { wallet_id } = c.req.valid("param");
  const query = c.req.valid("query");
  const config = configOf(c.env);
  const limit = pageLimit(query.limit, config.history_page_default, config.history_page_max);
  const spec = filterSpec(query);
  const before_seq = query.cursor === undefined ? undefined : decodeHistoryCursor(query.cursor, spec);
  await assertOwnWallet(c, wallet_id);
  const stub = c.env.WALLET.getByName(wallet_id);
  const paging = { limit, ...(before_seq === undefined ? {} : { before_seq }) };
  const filtered = Object.keys(spec).length > 0;
  const page = filtered ? await stub.findHistory({ ...paging, filter: await historyFilter(c, spec) }) : await stub.history(paging);
  if (page.code !== "ok") throw new ApiError("not_found");
  const next_cursor = page.next_before_seq === null ? null : encodeHistoryCursor(page.next_before_seq, spec);
  return c.json({ items: page.items, next_cursor }, 200);
});

/**
 * The filters as given, instants normalised (so the same instant written two ways is the same listing for
 * the cursor); every bad value is a 400 before anything is read. `from` after `to` is a 400 too: it is a
 * mistake, not an empty range.
 */
function filterSpec(query: {
  kind?: EntryKind | undefined;
  from?: string | undefined;
  to?: string | undefined;
  counterparty?: string | undefined;
}): HistoryFilterSpec {
  const spec: HistoryFilterSpec = {};
  if (query.kind !== undefined) spec.kind = query.kind;
  if (query.from !== undefined) spec.from = parseInstant("from", query.from);
  if (query.to !== undefined) spec.to = parseInstant("to", query.to);
  if (query.counterparty !== undefined) spec.counterparty = query.counterparty;
  if (spec.from !== undefined && spec.to !== undefined && spec.from > spec.to) {
    throw new ApiError("validation_error", [{ field: "to", issue: "must not be before from" }]);
  }
  return spec;
}

/** The wallet's filter: the counterparty's handle becomes its wallet ids (none for an unknown handle). */
async function historyFilter(c: AppContext, spec: HistoryFilterSpec): Promise<HistoryFilter> {
  const filter: HistoryFilter = {};
  if (spec.kind !== undefined) filter.kind = spec.kind;
  if (spec.from !== undefined) filter.from = spec.from;
  if (spec.to !== undefined) filter.to = spec.to;
  const handle = spec.counterparty;
  if (handle !== undefined) filter.counterparty_ids = await orUnavailable(c, "counterparty", () => walletIdsOfHandle(c.env.DB, handle));
  return filter;
}

walletRoutes.openapi(depositRoute, async (c) => {
  const { wallet_id } = c.req.valid("param");
  const request = singleWalletRequest(c, "deposit", wallet_id, c.req.valid("json"));
  return withCoordinator(c, (coordinator) => coordinator.deposit(request));
});

walletRoutes.openapi(withdrawalRoute, async (c) => {
  const { wallet_id } = c.req.valid("param");
  const request = singleWalletRequest(c, "withdrawal", wallet_id, c.req.valid("json"));
  return withCoordinator(c, (coordinator) => coordinator.withdraw(request));
});
