/**
 * What several route files share when they reach the caller's objects: the ownership check of a wallet in the
 * path, and the call to the caller's coordinator with its outcome rendered. Route files import from here,
 * never from each other.
 */
import { asc, eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import type { MovementOutcome } from "../coordinator/rpc";
import { wallets } from "../db/schema";
import { log } from "../observability/log";
import type { TransferCoordinator } from "../transfer-coordinator";
import type { AppContext } from "./context";
import { ApiError } from "./errors";
import { sessionFirst } from "./middleware";
import { configOf } from "../config";
import { memoLimits, textIssue } from "../domain/text";
import { asTyped, renderOutcome } from "./render";

/** Throws 403 for another user's wallet and 404 for one that does not exist; passes the caller's own. */
export async function assertOwnWallet(c: AppContext, walletId: string): Promise<void> {
  if (c.get("caller").wallet_ids.includes(walletId)) return;
  const exists = await drizzle(c.env.DB).select({ id: wallets.id }).from(wallets).where(eq(wallets.id, walletId)).get();
  throw new ApiError(exists === undefined ? "not_found" : "forbidden");
}

/** Calls the caller's coordinator; a failure of the call itself is 503, retried by the client with its key. */
export async function withCoordinator<T>(
  c: AppContext,
  call: (coordinator: DurableObjectStub<TransferCoordinator>) => Promise<MovementOutcome>,
): Promise<T> {
  let outcome: MovementOutcome;
  try {
    outcome = await call(c.env.COORDINATOR.getByName(c.get("credential").user_id));
  } catch (error) {
    // A contract error decided on the way (not a failed call) is answered as it is.
    if (error instanceof ApiError) throw error;
    log("error", "coordinator call failed", { request_id: c.get("request_id"), error: String(error) });
    outcome = { code: "unavailable" };
  }
  return asTyped<T>(renderOutcome(c, outcome));
}

/** The wallets a user owns, oldest first, as the D1 directory lists them. */
export async function walletIdsOf(c: AppContext, user_id: string): Promise<string[]> {
  const rows = await drizzle(c.env.DB)
    .select({ id: wallets.id })
    .from(wallets)
    .where(eq(wallets.owner_id, user_id))
    .orderBy(asc(wallets.created_at), asc(wallets.id));
  return rows.map((r) => r.id);
}

/** The memo as given (null when absent), after the configured text policy; 400 (after the session) if it fails. */
export async function checkedMemo(c: AppContext, memo: string | null | undefined): Promise<string | null> {
  const issue = memo == null ? null : textIssue(memo, memoLimits(configOf(c.env)));
  if (issue !== null) {
    await sessionFirst(c);
    throw new ApiError("validation_error", [{ field: "memo", issue }]);
  }
  return memo ?? null;
}
