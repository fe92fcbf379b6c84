/**
 * Identity routes: register, login, logout and me. Registration creates the user, their wallet object and a
 * session; the wallet object is created first, so a failure later leaves only an unreachable empty wallet,
 * never a user without a wallet.
 */
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import { asc, eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { deleteCookie, setCookie } from "hono/cookie";
import { configOf } from "../../config";
import { users, wallets } from "../../db/schema";
import { newUserId, newWalletId } from "../../domain/ids";
import type { WalletView } from "../../domain/views";
import { decoyHash, hashPassword, needsRehash, verifyPassword } from "../../auth/password";
import { decryptPhone, encryptPhone, maskPhone, phoneIndex, phoneNeedsReseal } from "../../auth/phone";
import { SESSION_COOKIE, newToken, tokenHash } from "../../auth/sessions";
import type { Profile } from "../../coordinator/rpc";
import type { AppContext, AppEnv } from "../context";
import { ApiError } from "../errors";
import { requireAuth } from "../middleware";
import { clientAddress, enforce } from "../rate-limits";
import { LoginBody, RegisterBody, User, Wallet, errorResponses, jsonContent } from "../schemas";

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
  const token = newToken(profile.user_id);
  await c.env.COORDINATOR.getByName(profile.user_id).openSession({ profile, token_hash: await tokenHash(token) });
  return token;
}

/** The wallets a user owns, oldest first. */
async function walletIdsOf(c: AppContext, user_id: string): Promise<string[]> {
  const rows = await drizzle(c.env.DB).select({ id: wallets.id }).from(wallets).where(eq(wallets.owner_id, user_id)).orderBy(asc(wallets.created_at), asc(wallets.id));
  return rows.map((r) => r.id);
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

const registerRoute = createRoute({
  method: "post",
  path: "/auth/register",
  summary: "Create a user with one wallet and a session",
  request: { body: { required: true, content: { "application/json": { schema: RegisterBody } } } },
  responses: {
    201: jsonContent(z.object({ user: User, wallet: Wallet, token: z.string() }), "Registered"),
    ...errorResponses(400, 409, 413, 429),
  },
});

const loginRoute = createRoute({
  method: "post",
  path: "/auth/login",
  summary: "Exchange a handle and password for a session token",
  request: { body: { required: true, content: { "application/json": { schema: LoginBody } } } },
  responses: { 200: jsonContent(z.object({ user: User, token: z.string() }), "Logged in"), ...errorResponses(400, 401, 413, 429) },
});

const logoutRoute = createRoute({
  method: "post",
  path: "/auth/logout",
  summary: "Revoke the current session",
  middleware: [requireAuth] as const,
  responses: { 204: { description: "Logged out" }, ...errorResponses(401) },
});

const logoutAllRoute = createRoute({
  method: "post",
  path: "/auth/logout-all",
  summary: "Revoke every session of the current user (log out everywhere)",
  middleware: [requireAuth] as const,
  responses: { 204: { description: "Logged out everywhere" }, ...errorResponses(401) },
});

const meRoute = createRoute({
  method: "get",
  path: "/me",
  summary: "The current user and their wallets",
  middleware: [requireAuth] as const,
  responses: {
    200: jsonContent(z.object({ user: User.extend({ phone: z.string().nullable(), role: z.string() }), wallets: z.array(Wallet) }), "Me"),
    ...errorResponses(401),
  },
});

/** The auth sub-app, mounted under /api/v1. */
export const authRoutes = new OpenAPIHono<AppEnv>();

authRoutes.openapi(registerRoute, async (c) => {
  const body = c.req.valid("json");
  const config = configOf(c.env);
  await enforce(c, `register-ip:${clientAddress(c)}`, config.rate_register_per_ip_per_minute);
  const display_name = body.display_name ?? body.handle;
  if ([...display_name].length > config.display_name_max_chars) {
    throw new ApiError("validation_error", [{ field: "display_name", issue: `at most ${config.display_name_max_chars} characters` }]);
  }
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
  const currency = body.currency ?? config.default_currency;
  const walletId = newWalletId();
  const created = await c.env.WALLET.getByName(walletId).init({ wallet_id: walletId, owner_id: user.id, currency });
  if (created.code === "conflict") throw new Error("invariant: a new wallet id collided");
  const db = drizzle(c.env.DB);
  try {
    await db.batch([db.insert(users).values(user), db.insert(wallets).values({ id: walletId, owner_id: user.id, currency, created_at: user.created_at })]);
  } catch (error) {
    const which = uniqueViolation(error);
    if (which === "handle") throw new ApiError("handle_taken");
    if (which === "phone") throw new ApiError("phone_taken");
    throw error;
  }
  const token = await openSession(c, { user_id: user.id, handle: user.handle, role: user.role, wallet_ids: [walletId] });
  setSessionCookie(c, token, config.session_ttl_ms);
  return c.json({ user: userJson(user), wallet: created.wallet, token }, 201);
});

authRoutes.openapi(loginRoute, async (c) => {
  const body = c.req.valid("json");
  const config = configOf(c.env);
  // Both buckets are taken before the password is checked, so guessing costs an attempt either way.
  await enforce(c, `login-ip:${clientAddress(c)}`, config.rate_login_per_ip_per_minute);
  await enforce(c, `login-handle:${body.handle}`, config.rate_login_per_handle_per_minute);
  const db = drizzle(c.env.DB);
  const user = await db.select().from(users).where(eq(users.handle, body.handle)).get();
  // An unknown handle is checked against a decoy hash, so it costs the same as a wrong password.
  const ok = await verifyPassword(body.password, user?.password_hash ?? (await decoyHash(config.password_cost)));
  if (user === undefined || !ok) throw new ApiError("unauthenticated");
  const upgrades: Partial<UserRow> = {};
  if (needsRehash(user.password_hash, config.password_cost)) upgrades.password_hash = await hashPassword(body.password, config.password_cost);
  if (user.phone_cipher !== null && user.phone_key_id !== null && (await phoneNeedsReseal(c.env, user.phone_key_id))) {
    const phone = await decryptPhone(c.env, user.phone_cipher, user.phone_key_id);
    if (phone !== null) {
      const sealed = await encryptPhone(c.env, phone);
      Object.assign(upgrades, { phone_cipher: sealed.cipher, phone_key_id: sealed.key_id });
    }
  }
  if (Object.keys(upgrades).length > 0) await db.update(users).set(upgrades).where(eq(users.id, user.id));
  const token = await openSession(c, { user_id: user.id, handle: user.handle, role: user.role, wallet_ids: await walletIdsOf(c, user.id) });
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
  const user = await drizzle(c.env.DB).select().from(users).where(eq(users.id, caller.user_id)).get();
  if (user === undefined) throw new ApiError("unauthenticated");
  const phone =
    user.phone_cipher !== null && user.phone_key_id !== null ? await decryptPhone(c.env, user.phone_cipher, user.phone_key_id) : null;
  const views = await Promise.all(caller.wallet_ids.map((id) => c.env.WALLET.getByName(id).snapshot()));
  const walletsOut: WalletView[] = views.flatMap((v) => (v.code === "ok" ? [v.wallet] : []));
  return c.json({ user: { ...userJson(user), phone: phone === null ? null : maskPhone(phone), role: user.role }, wallets: walletsOut }, 200);
});
