/**
 * What several route files share when they reach the caller's objects: the ownership check of a wallet in the
 * path, and the call to the caller's coordinator with its outcome rendered. Route files import from here,
 * never from each other.
 */
import { asc, eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import type { MovementOutcome } from "../coordinator/rpc";
import { users, wallets } from "../db/schema";
import { errorText, log } from "../observability/log";
import type { TransferCoordinator } from "../transfer-coordinator";
import type { AppContext } from "./context";
import { ApiError } from "./errors";
import { sessionFirst } from "./middleware";
import { configOf } from "../config";
import { memoLimits, textIssue } from "../domain/text";
import { asTyped, renderOutcome } from "./render";

/** Seconds a client is asked to wait when D1 or an object could not be reached; short, as these pass quickly. */
const RETRY_AFTER_S = 1;

/** 503 `unavailable` with Retry-After: nothing is wrong with the request, and the same request will work later. */
export function unavailable(): ApiError {
  return new ApiError("unavailable", undefined, { "Retry-After": String(RETRY_AFTER_S) });
}

/**
 * Runs a call to a store the edge reaches itself (a D1 read or write, or an object's RPC that is not a money
 * movement); a failure (locked, overloaded, disk full, object reset) is logged and answered with 503
 * `unavailable`, not 500. This is the edge's one mapping of a store failure; a money movement's failure takes
 * the same code through `withCoordinator`. A contract error decided on the way passes as it is.
 */
export async function orUnavailable<T>(c: AppContext, what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof ApiError) throw error;
    log("warn", "store unavailable", { request_id: c.get("request_id"), what, error: errorText(error) });
    throw unavailable();
  }
}

/** Throws 403 for another user's wallet and 404 for one that does not exist; passes the caller's own. */
export async function assertOwnWallet(c: AppContext, walletId: string): Promise<void> {
  if (c.get("caller").wallet_ids.includes(walletId)) return;
  const exists = await orUnavailable(c, "wallet owner", () =>
    drizzle(c.env.DB).select({ id: wallets.id }).from(wallets).where(eq(wallets.id, walletId)).get(),
  );
  throw new ApiError(exists === undefined ? "not_found" : "forbidden");
}

/**
 * The coordinator of user `owner` (the user an id such as `trf_…` or `prq_…` names, null when it names
 * nobody), or 404 before any Durable Object is reached. The id names its owner, which the caller chooses
 * freely, and addressing a coordinator by a name allocates its storage; so another user's coordinator is
 * addressed only when that user is registered (one D1 read by primary key), and a made-up id allocates nothing.
 */
export async function ownerCoordinator(c: AppContext, owner: string | null): Promise<DurableObjectStub<TransferCoordinator>> {
  if (owner === null) throw new ApiError("not_found");
  if (owner !== c.get("caller").user_id) {
    const known = await orUnavailable(c, "owner lookup", () =>
      drizzle(c.env.DB).select({ id: users.id }).from(users).where(eq(users.id, owner)).get(),
    );
    if (known === undefined) throw new ApiError("not_found");
  }
  return c.env.COORDINATOR.getByName(owner);
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
  const rows = await orUnavailable(c, "wallets of a user", () =>
    drizzle(c.env.DB)
      .select({ id: wallets.id })
      .from(wallets)
      .where(eq(wallets.owner_id, user_id))
      .orderBy(asc(wallets.created_at), asc(wallets.id)),
  );
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
