/**
 * Who is logged in. The session itself is the HttpOnly `sid` cookie, which scripts cannot read, so the
 * client learns its state only by asking `GET /me`; the token in login answers is deliberately ignored.
 */
import { computed, signal } from "@preact/signals";
import { api, onUnauthenticated, type ApiResult } from "../api";
import type { Me, User, Wallet } from "../types";

export type SessionStatus = "loading" | "anon" | "authed";

export const sessionStatus = signal<SessionStatus>("loading");
export const me = signal<Me | null>(null);
/** The auditor screen is offered only to auditors; the server enforces the role regardless. */
export const isAuditor = computed(() => me.value?.user.role === "auditor");

function signOutLocally(): void {
  me.value = null;
  sessionStatus.value = "anon";
}

// Any call answered 401 means the cookie expired or was revoked: show the login screen.
onUnauthenticated(signOutLocally);

/** Loads the current user; a 401 (handled above) or a failure leaves the login screen up. */
export async function loadMe(): Promise<void> {
  const result = await api<Me>("GET", "/me");
  if (result.ok) {
    me.value = result.data;
    sessionStatus.value = "authed";
  } else if (sessionStatus.value === "loading") {
    sessionStatus.value = "anon";
  }
}

/** Logs in; on success the cookie is set and `me` is loaded before the promise resolves. */
export async function login(handle: string, password: string): Promise<ApiResult<{ user: User }>> {
  const result = await api<{ user: User }>("POST", "/auth/login", { body: { handle, password }, expect401: true });
  if (result.ok) await loadMe();
  return result;
}

export interface RegisterInput {
  handle: string;
  password: string;
  display_name?: string;
  phone?: string;
  currency?: string;
}

/** Registers a user with one wallet; the answer sets the session cookie, so this also logs in. */
export async function register(input: RegisterInput): Promise<ApiResult<{ user: User; wallet: Wallet }>> {
  const result = await api<{ user: User; wallet: Wallet }>("POST", "/auth/register", { body: input });
  if (result.ok) await loadMe();
  return result;
}

/** Revokes the session on the server; the local state is cleared even if that call fails. */
export async function logout(): Promise<void> {
  await api<null>("POST", "/auth/logout");
  signOutLocally();
}
