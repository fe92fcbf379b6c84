/**
 * Identity routes: register, login, logout and me. Registration writes the user and wallet rows to D1 first
 * (one transaction), then creates the wallet object, then a session: a D1 that is locked or full answers 503
 * with nothing made, and a wallet object that cannot be created takes the rows back, so a retry with the same
 * handle works and no empty wallet object is left behind.
 */
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { deleteCookie, setCookie } from "hono/cookie";
import { configOf, type Config } from "../../config";
import { users, wallets } from "../../db/schema";
import { newUserId } from "../../domain/ids";
import { newWalletId } from "../../db/partitions";
import { displayNameLimits, textIssue } from "../../domain/text";
import type { WalletView } from "../../domain/views";
import { decoyHash, hashPassword, needsRehash, verifyPassword } from "../../auth/password";
import { decryptPhone, encryptPhone, maskPhone, phoneIndex, phoneNeedsReseal } from "../../auth/phone";
import { SESSION_COOKIE, newToken, tokenHash } from "../../auth/sessions";
import type { Profile } from "../../coordinator/rpc";
import type { AppContext, AppEnv } from "../context";
import { ApiError } from "../errors";
import { orUnavailable, unavailable, walletIdsOf } from "../calls";
import { limitBody, requireAuth } from "../middleware";
import { addressShard, clientAddress, enforceClient } from "../rate-limits";
import { withErrors } from "../declared-errors";
import { LoginBody, RegisterBody, User, Wallet, jsonContent } from "../schemas";
import type { LoginPolicy } from "../../auth/login-guard";
import { sha256Hex } from "../../domain/hash-chain";
import { errorText, log } from "../../observability/log";
import type { RateLimiter } from "../../rate-limiter";
import type { InitResult } from "../../wallet/rpc";

type UserRow = typeof users.$inferSelect;

/** The contract's user shape: never the phone, the hash or the role. */
export function userJson(u: Pick<UserRow, "id" | "handle" | "display_name" | "created_at">): z.infer<typeof User> {
  return { id: u.id, handle: u.handle, display_name: u.display_name, created_at: u.created_at };
}

function setSessionCookie(c: AppContext, token: string, ttl_ms: number): void {
  setCookie(c, SESSION_COOKIE, token, {
    httpOnly: true,
    secure: true,
    sameSite: "Strict",
    path: "/",
    maxAge: Math.floor(ttl_ms / 1_000),
  });
}

/** Opens a session in the user's coordinator and returns its token (given to the client once). */
async function openSession(c: AppContext, profile: Profile): Promise<string> {
  const token = await newToken(c.env, profile.user_id);
  await c.env.COORDINATOR.getByName(profile.user_id).openSession({ profile, token_hash: await tokenHash(token) });
  return token;
}

/** Which unique index a D1 insert tripped, if any. */
function uniqueViolation(error: unknown): "handle" | "phone" | null {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : "";
  const text = error instanceof Error ? `${error.message} ${cause}` : String(error);
  if (!text.includes("UNIQUE")) return null;
  if (text.includes("users.handle")) return "handle";
  if (text.includes("users.phone_index")) return "phone";
  return null;
}

/** The new user's row: the password hashed and the phone sealed, nothing stored yet. */
async function newUser(c: AppContext, body: z.infer<typeof RegisterBody>, config: Config): Promise<UserRow> {
  const display_name = body.display_name ?? body.handle;
  const nameIssue = textIssue(display_name, displayNameLimits(config));
  if (nameIssue !== null) throw new ApiError("validation_error", [{ field: "display_name", issue: nameIssue }]);
  const user: UserRow = {
    id: newUserId(),
    handle: body.handle,
    display_name,
    password_hash: await hashPassword(body.password, config.password_cost),
    role: "user",
    phone_cipher: null,
    phone_key_id: null,
    phone_index: null,
    created_at: new Date().toISOString(),
  };
  if (body.phone !== undefined) {
    const sealed = await encryptPhone(c.env, body.phone);
    Object.assign(user, { phone_cipher: sealed.cipher, phone_key_id: sealed.key_id, phone_index: await phoneIndex(c.env, body.phone) });
  }
  return user;
}

/**
 * Writes the user and their wallet's row to D1 in one batch (one transaction), before anything else exists:
 * a taken handle or phone is 409, and a D1 that is locked or full is 503 with nothing made anywhere, so a
 * retry with the same handle starts from a clean slate.
 */
async function insertUser(c: AppContext, user: UserRow, walletId: string, currency: string): Promise<void> {
  const db = drizzle(c.env.DB);
  try {
    await db.batch([
      db.insert(users).values(user),
      db.insert(wallets).values({ id: walletId, owner_id: user.id, currency, created_at: user.created_at }),
    ]);
  } catch (error) {
    const which = uniqueViolation(error);
    if (which === "handle") throw new ApiError("handle_taken");
    if (which === "phone") throw new ApiError("phone_taken");
    log("warn", "store unavailable", { request_id: c.get("request_id"), what: "register", error: errorText(error) });
    throw unavailable();
  }
}

/**
 * Creates the wallet object for the rows just written. If it cannot be created, the rows are taken back so
 * that the handle is free again and no user is left whose wallet does not exist; this is safe because no
 * money can reach a wallet whose object was never created (every credit goes through that object). Only if
 * taking them back fails too is a user left without a wallet object, which is logged for the operator.
 */
async function createWallet(c: AppContext, user: UserRow, walletId: string, currency: string): Promise<WalletView> {
  let created: InitResult;
  try {
    created = await c.env.WALLET.getByName(walletId).init({ wallet_id: walletId, owner_id: user.id, currency });
  } catch (error) {
    log("warn", "wallet object unavailable at registration", { request_id: c.get("request_id"), error: errorText(error) });
    await undoUser(c, user.id, walletId);
    throw unavailable();
  }
  if (created.code === "conflict") throw new Error("invariant: a new wallet id collided");
  return created.wallet;
}

async function undoUser(c: AppContext, user_id: string, walletId: string): Promise<void> {
  const db = drizzle(c.env.DB);
  try {
    await db.batch([db.delete(wallets).where(eq(wallets.id, walletId)), db.delete(users).where(eq(users.id, user_id))]);
  } catch (error) {
    log("error", "registration half made: user without a wallet object", {
      request_id: c.get("request_id"),
      user_id,
      wallet_id: walletId,
      error: errorText(error),
    });
  }
}

/**
 * Opens the session, or answers 503 if the user's coordinator cannot be reached. By then the user and wallet
 * are whole (only the session is missing), so a retry of the registration answers 409 and logging in works.
 */
async function openSessionOrUnavailable(c: AppContext, profile: Profile): Promise<string> {
  try {
    return await openSession(c, profile);
  } catch (error) {
    log("warn", "session could not be opened", { request_id: c.get("request_id"), error: errorText(error) });
    throw unavailable();
  }
}

/** Where a login attempt's failures are counted: an object, the record's key in it, and the limits. */
interface GuardRef {
  stub: DurableObjectStub<RateLimiter>;
  key: string;
  policy: LoginPolicy;
}

/**
 * The guard for one attempt (see auth/login-guard.ts). A real handle has its own RateLimiter object (named by
 * a hash, so no handle names an object), with a record per failing address. An unknown handle is guarded in
 * the address's own object, which its rate limit already uses, with a record per handle: so guessing at
 * random handles creates no object per handle, and a single address sees the same free failures and back-off
 * for an unknown handle as for a real one. (The whole-handle tightening needs failures from many addresses to
 * show, and whether a handle exists is no secret anyway: registering it answers 409.)
 */
function loginGuard(c: AppContext, handle: string, address: string, known: boolean): GuardRef {
  const config = configOf(c.env);
  const policy: LoginPolicy = {
    free_failures: config.login_free_failures_per_address,
    failures_per_minute: known ? config.rate_login_failures_per_handle_per_minute : Number.MAX_SAFE_INTEGER,
    backoff_base_ms: config.login_backoff_base_ms,
    backoff_max_ms: config.login_backoff_max_ms,
    max_addresses: config.login_max_addresses_per_handle,
  };
  if (known) return { stub: c.env.RATE_LIMITER.getByName(sha256Hex(`login-handle:${handle}`)), key: address, policy };
  return { stub: addressShard(c, "login-unknown", address), key: `${sha256Hex(address)}:handle:${handle}`, policy };
}

/**
 * After a successful login: re-hashes a password stored at a weaker cost and re-seals a phone under the
 * current key. Best effort: the login does not depend on it, and it is tried again at the next login.
 */
async function upgradeStoredSecrets(c: AppContext, user: UserRow, password: string): Promise<void> {
  const config = configOf(c.env);
  const upgrades: Partial<UserRow> = {};
  if (needsRehash(user.password_hash, config.password_cost)) upgrades.password_hash = await hashPassword(password, config.password_cost);
  if (user.phone_cipher !== null && user.phone_key_id !== null && (await phoneNeedsReseal(c.env, user.phone_key_id))) {
    const phone = await decryptPhone(c.env, user.phone_cipher, user.phone_key_id);
    if (phone !== null) {
      const sealed = await encryptPhone(c.env, phone);
      Object.assign(upgrades, { phone_cipher: sealed.cipher, phone_key_id: sealed.key_id });
    }
  }
  if (Object.keys(upgrades).length === 0) return;
  try {
    await drizzle(c.env.DB).update(users).set(upgrades).where(eq(users.id, user.id));
  } catch (error) {
    log("warn", "stored secrets not upgraded", { request_id: c.get("request_id"), error: errorText(error) });
  }
}

const registerRoute = createRoute(
  withErrors(
    {
      method: "post",
      path: "/auth/register",
      summary: "Create a user with one wallet and a session",
      middleware: [limitBody] as const,
      request: { body: { required: true, content: { "application/json": { schema: RegisterBody } } } },
      responses: {
        201: jsonContent(z.object({ user: User, wallet: Wallet, token: z.string() }), "Registered"),
      },
    },
    ["validation_error", "handle_taken", "phone_taken", "rate_limited", "unavailable"],
  ),
);

const loginRoute = createRoute(
  withErrors(
    {
      method: "post",
      path: "/auth/login",
      summary: "Exchange a handle and password for a session token",
      middleware: [limitBody] as const,
      request: { body: { required: true, content: { "application/json": { schema: LoginBody } } } },
      responses: { 200: jsonContent(z.object({ user: User, token: z.string() }), "Logged in") },
    },
    ["unauthenticated", "rate_limited", "unavailable"],
  ),
);

const logoutRoute = createRoute(
  withErrors(
    {
      method: "post",
      path: "/auth/logout",
      summary: "Revoke the current session",
      middleware: [requireAuth] as const,
      responses: { 204: { description: "Logged out" } },
    },
    [],
  ),
);

const logoutAllRoute = createRoute(
  withErrors(
    {
      method: "post",
      path: "/auth/logout-all",
      summary: "Revoke every session of the current user (log out everywhere)",
      middleware: [requireAuth] as const,
      responses: { 204: { description: "Logged out everywhere" } },
    },
    [],
  ),
);

const meRoute = createRoute(
  withErrors(
    {
      method: "get",
      path: "/me",
      summary: "The current user and their wallets",
      middleware: [requireAuth] as const,
      responses: {
        200: jsonContent(
          z.object({ user: User.extend({ phone: z.string().nullable(), role: z.string() }), wallets: z.array(Wallet) }),
          "Me",
        ),
      },
    },
    ["unauthenticated", "unavailable"],
  ),
);

/** The auth sub-app, mounted under /api/v1. */
export const authRoutes = new OpenAPIHono<AppEnv>();

authRoutes.openapi(registerRoute, async (c) => {
  const body = c.req.valid("json");
  const config = configOf(c.env);
  await enforceClient(c, "register", {
    per_address_per_minute: config.rate_register_per_ip_per_minute,
    per_ipv6_48_per_minute: config.rate_register_per_ipv6_48_per_minute,
  });
  const user = await newUser(c, body, config);
  const currency = body.currency ?? config.default_currency;
  const walletId = newWalletId(c.env);
  await insertUser(c, user, walletId, currency);
  const wallet = await createWallet(c, user, walletId, currency);
  const token = await openSessionOrUnavailable(c, { user_id: user.id, handle: user.handle, role: user.role, wallet_ids: [walletId] });
  setSessionCookie(c, token, config.session_ttl_ms);
  return c.json({ user: userJson(user), wallet, token }, 201);
});

authRoutes.openapi(loginRoute, async (c) => {
  const body = c.req.valid("json");
  const config = configOf(c.env);
  const address = clientAddress(c);
  // Every attempt from an address counts against it, whatever the handle (credential stuffing), and against its /48.
  await enforceClient(c, "login", {
    per_address_per_minute: config.rate_login_per_ip_per_minute,
    per_ipv6_48_per_minute: config.rate_login_per_ipv6_48_per_minute,
  });
  const user = await orUnavailable(c, "login lookup", () =>
    drizzle(c.env.DB).select().from(users).where(eq(users.handle, body.handle)).get(),
  );
  const guard = loginGuard(c, body.handle, address, user !== undefined);
  const gate = await guard.stub.loginBegin(guard.key, guard.policy);
  if (!gate.allowed) throw new ApiError("rate_limited", undefined, { "Retry-After": String(gate.retry_after_s) });
  // An unknown handle is checked against a decoy hash, so it costs the same as a wrong password.
  const ok = await verifyPassword(body.password, user?.password_hash ?? (await decoyHash(config.password_cost)));
  if (user === undefined || !ok) throw new ApiError("unauthenticated");
  await guard.stub
    .loginSucceeded(guard.key, guard.policy)
    .catch((error: unknown) => log("warn", "login guard not cleared", { request_id: c.get("request_id"), error: errorText(error) }));
  await upgradeStoredSecrets(c, user, body.password);
  const wallet_ids = await walletIdsOf(c, user.id);
  const token = await openSessionOrUnavailable(c, { user_id: user.id, handle: user.handle, role: user.role, wallet_ids });
  setSessionCookie(c, token, config.session_ttl_ms);
  return c.json({ user: userJson(user), token }, 200);
});

authRoutes.openapi(logoutRoute, async (c) => {
  const caller = c.get("caller");
  await c.env.COORDINATOR.getByName(caller.user_id).revokeSession(caller.token_hash);
  deleteCookie(c, SESSION_COOKIE, { path: "/", secure: true, httpOnly: true, sameSite: "Strict" });
  return c.body(null, 204);
});

authRoutes.openapi(logoutAllRoute, async (c) => {
  await c.env.COORDINATOR.getByName(c.get("caller").user_id).revokeAllSessions();
  deleteCookie(c, SESSION_COOKIE, { path: "/", secure: true, httpOnly: true, sameSite: "Strict" });
  return c.body(null, 204);
});

authRoutes.openapi(meRoute, async (c) => {
  const caller = c.get("caller");
  const user = await orUnavailable(c, "me", () => drizzle(c.env.DB).select().from(users).where(eq(users.id, caller.user_id)).get());
  if (user === undefined) throw new ApiError("unauthenticated");
  const phone =
    user.phone_cipher !== null && user.phone_key_id !== null ? await decryptPhone(c.env, user.phone_cipher, user.phone_key_id) : null;
  const views = await Promise.all(caller.wallet_ids.map((id) => c.env.WALLET.getByName(id).snapshot()));
  const walletsOut: WalletView[] = views.flatMap((v) => (v.code === "ok" ? [v.wallet] : []));
  return c.json(
    { user: { ...userJson(user), phone: phone === null ? null : maskPhone(phone), role: user.role }, wallets: walletsOut },
    200,
  );
});
