/**
 * The live feed's upgrade: `GET /wallets/{id}/live` with `Upgrade: websocket`. The session (bearer header or
 * cookie) and ownership are checked here, before the upgrade, so another user, a revoked token or no token
 * gets an HTTP error and no socket. The request then goes to the wallet object, which accepts the socket and
 * tags it with the session's non-secret id and expiry, so that ending the session closes it (wallet/sockets.ts).
 */
import { OpenAPIHono, createRoute } from "@hono/zod-openapi";
import { CLOSE, LIVE_SESSION_EXPIRES_HEADER, LIVE_SESSION_HEADER, LIVE_USER_HEADER, liveSessionId } from "../../wallet/live";
import type { AppEnv } from "../context";
import { ApiError, type ErrorCode } from "../errors";
import { requireAuth } from "../middleware";
import { withErrors } from "../declared-errors";
import { WalletIdParam } from "../schemas";
import { assertOwnWallet } from "../calls";

/** What the wallet object's non-101 answers mean in the contract. */
const UPGRADE_REFUSALS: Record<number, ErrorCode> = {
  400: "validation_error",
  401: "unauthenticated",
  403: "forbidden",
  404: "not_found",
  429: "rate_limited",
};

/** The live sub-app, mounted under /api/v1. */
export const liveRoutes = new OpenAPIHono<AppEnv>();

/**
 * Documented here, served by the plain handler below: a WebSocket upgrade has no body or JSON answer for the
 * typed handler to check. Besides its own checks, it answers what the wallet object's refusals mean.
 */
const liveRoute = createRoute(
  withErrors(
    {
      method: "get",
      path: "/wallets/{wallet_id}/live",
      summary:
        "The wallet's live feed (WebSocket upgrade): snapshot, then balance and entry events; send resume to replay, answer ack_request with ack; closes 4401 when the session ends, 4413 when too much is unread",
      middleware: [requireAuth] as const,
      request: { params: WalletIdParam },
      responses: { 101: { description: "Switching protocols" } },
    },
    ["validation_error", "forbidden", "not_found", "unavailable", ...Object.values(UPGRADE_REFUSALS)],
  ),
);
liveRoutes.openAPIRegistry.registerPath(liveRoute);

liveRoutes.get("/wallets/:wallet_id/live", requireAuth, async (c) => {
  const walletId = c.req.param("wallet_id");
  await assertOwnWallet(c, walletId);
  if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
    throw new ApiError("validation_error", [{ field: "Upgrade", issue: "this route only accepts a WebSocket upgrade" }]);
  }
  const caller = c.get("caller");
  const headers = new Headers(c.req.raw.headers);
  headers.set(LIVE_USER_HEADER, caller.user_id);
  headers.set(LIVE_SESSION_HEADER, await liveSessionId(caller.token_hash));
  headers.set(LIVE_SESSION_EXPIRES_HEADER, String(caller.expires_at_ms));
  const response = await c.env.WALLET.getByName(walletId).fetch(new Request(c.req.url, { headers }));
  if (response.status === 101 && response.webSocket !== null) {
    await assertStillLive(c.env, caller.user_id, caller.token_hash, response.webSocket);
    // A fresh Response, because the one from the object has immutable headers and the middleware adds some.
    return new Response(null, { status: 101, webSocket: response.webSocket });
  }
  const code = UPGRADE_REFUSALS[response.status] ?? "internal";
  throw new ApiError(code, undefined, code === "rate_limited" ? { "Retry-After": "5" } : undefined);
});

/**
 * Checks the session again once the wallet has accepted the socket. A logout that ran between the first check
 * and the accept closed that session's sockets before this one existed; seen here, the socket is closed (4401)
 * and the upgrade answered 401. A logout after this check finds the socket on the wallet and closes it.
 */
async function assertStillLive(env: Env, user_id: string, token_hash: string, socket: WebSocket): Promise<void> {
  const again = await env.COORDINATOR.getByName(user_id).authenticate(token_hash);
  if (again.code === "ok") return;
  socket.accept();
  socket.close(CLOSE.session_ended, "session ended");
  throw new ApiError("unauthenticated");
}
