/**
 * `POST /wallets` (contract v1.1): another wallet of the caller, in a currency they do not hold yet. D1's unique
 * index on (owner, currency) makes "one per currency" exact, and the insert counts the user's wallets in the same
 * statement, so two requests racing for the last free place cannot both win. The wallet object is created
 * next; if that fails the row is taken back (no money can have reached a wallet whose object never existed),
 * so a retry starts afresh. The caller's coordinator then learns the new list, so the wallet can move money
 * at once, in this session and every other.
 */
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import { and, eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { configOf } from "../../config";
import { wallets } from "../../db/schema";
import { newWalletId } from "../../db/partitions";
import type { WalletView } from "../../domain/views";
import { errorText, log } from "../../observability/log";
import { orUnavailable, unavailable, walletIdsOf } from "../calls";
import type { AppContext, AppEnv } from "../context";
import { ApiError } from "../errors";
import { keyedReply, optionalIdempotencyKey } from "../keyed";
import { limitBody, requireAuth } from "../middleware";
import { withErrors } from "../declared-errors";
import { Currency, OptionalIdempotencyHeaders, Wallet, jsonContent } from "../schemas";

const NewWalletBody = z.strictObject({ currency: Currency }).openapi("NewWalletBody");

const newWalletRoute = createRoute(
  withErrors(
    {
      method: "post",
      path: "/wallets",
      summary: "Open another wallet of yours, in a currency you do not hold yet",
      middleware: [limitBody, requireAuth, optionalIdempotencyKey] as const,
      request: {
        headers: OptionalIdempotencyHeaders,
        body: { required: true, content: { "application/json": { schema: NewWalletBody } } },
      },
      responses: {
        201: jsonContent(z.object({ wallet: Wallet }), "Opened (or replayed, with Idempotent-Replayed: true)"),
      },
    },
    ["wallet_exists", "limit_exceeded", "unavailable"],
  ),
);

/** The new-wallet sub-app, mounted under /api/v1. */
export const newWalletRoutes = new OpenAPIHono<AppEnv>();

newWalletRoutes.openapi(newWalletRoute, async (c) => {
  const body = c.req.valid("json");
  return keyedReply(c, "wallet", body, () => openWallet(c, body.currency)) as never;
});

async function openWallet(c: AppContext, currency: string): Promise<Response> {
  const caller = c.get("caller");
  const max = configOf(c.env).wallets_max_per_user;
  const id = newWalletId(c.env);
  const created_at = new Date().toISOString();
  const inserted = await orUnavailable(c, "new wallet", () =>
    c.env.DB.prepare(
      `INSERT INTO wallets (id, owner_id, currency, created_at)
       SELECT ?1, ?2, ?3, ?4 WHERE (SELECT count(*) FROM wallets WHERE owner_id = ?2) < ?5
       ON CONFLICT (owner_id, currency) DO NOTHING`,
    )
      .bind(id, caller.user_id, currency, created_at, max)
      .run(),
  );
  if (inserted.meta.changes !== 1) throw await refusal(c, currency, max);
  const wallet = await initOrUndo(c, id, currency);
  await c.env.COORDINATOR.getByName(caller.user_id).setWallets(await walletIdsOf(c, caller.user_id));
  return c.json({ wallet }, 201);
}

/** Why the insert wrote nothing: the currency is held already, or the user holds as many wallets as allowed. */
async function refusal(c: AppContext, currency: string, max: number): Promise<ApiError> {
  const owner_id = c.get("caller").user_id;
  const held = await orUnavailable(c, "new wallet", () =>
    drizzle(c.env.DB)
      .select({ id: wallets.id })
      .from(wallets)
      .where(and(eq(wallets.owner_id, owner_id), eq(wallets.currency, currency)))
      .get(),
  );
  if (held !== undefined) return new ApiError("wallet_exists");
  return new ApiError("limit_exceeded", [{ field: "WALLETS_MAX_PER_USER", issue: `at most ${max}` }]);
}

/** Creates the wallet object; if it cannot be reached, takes the row back and answers 503. */
async function initOrUndo(c: AppContext, id: string, currency: string): Promise<WalletView> {
  const owner_id = c.get("caller").user_id;
  try {
    const created = await c.env.WALLET.getByName(id).init({ wallet_id: id, owner_id, currency });
    if (created.code === "conflict") throw new Error("invariant: a new wallet id collided");
    return created.wallet;
  } catch (error) {
    log("warn", "wallet object unavailable", { request_id: c.get("request_id"), error: errorText(error) });
    await c.env.DB.prepare("DELETE FROM wallets WHERE id = ?1")
      .bind(id)
      .run()
      .catch((e: unknown) => log("error", "new wallet row left without its object", { wallet_id: id, error: errorText(e) }));
    throw unavailable();
  }
}
