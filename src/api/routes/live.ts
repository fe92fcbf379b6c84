/**
 * The live feed's upgrade: `GET /wallets/{id}/live` with `Upgrade: websocket`. The session (bearer header or
 * cookie) and ownership are checked here, before the upgrade, so another user, a revoked token or no token
 * gets an HTTP error and no socket. The request then goes to the wallet object, which accepts the socket.
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import { LIVE_USER_HEADER } from "../../wallet/live";
import type { AppEnv } from "../context";
import { ApiError, type ErrorCode } from "../errors";
import { requireAuth } from "../middleware";
import { WalletIdParam, errorResponses } from "../schemas";
import { assertOwnWallet } from "./wallets";

/** What the wallet object's non-101 answers mean in the contract. */
const UPGRADE_REFUSALS: Record<number, ErrorCode> = { 400: "validation_error", 403: "forbidden", 404: "not_found", 429: "rate_limited" };

/** The live sub-app, mounted under /api/v1. */
export const liveRoutes = new OpenAPIHono<AppEnv>();

liveRoutes.openAPIRegistry.registerPath({
  method: "get",
  path: "/wallets/{wallet_id}/live",
  summary: "The wallet's live feed (WebSocket upgrade): snapshot, then balance and entry events; send resume to replay",
  request: { params: WalletIdParam },
  responses: { 101: { description: "Switching protocols" }, ...errorResponses(400, 401, 403, 404, 429) },
});

liveRoutes.get("/wallets/:wallet_id/live", requireAuth, async (c) => {
  const walletId = c.req.param("wallet_id");
  await assertOwnWallet(c, walletId);
  if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
    throw new ApiError("validation_error", [{ field: "Upgrade", issue: "this route only accepts a WebSocket upgrade" }]);
  }
  const headers = new Headers(c.req.raw.headers);
  headers.set(LIVE_USER_HEADER, c.get("caller").user_id);
  const response = await c.env.WALLET.getByName(walletId).fetch(new Request(c.req.url, { headers }));
  // A fresh Response, because the one from the object has immutable headers and the middleware adds some.
  if (response.status === 101 && response.webSocket !== null) return new Response(null, { status: 101, webSocket: response.webSocket });
  const code = UPGRADE_REFUSALS[response.status] ?? "internal";
  throw new ApiError(code, undefined, code === "rate_limited" ? { "Retry-After": "5" } : undefined);
});
