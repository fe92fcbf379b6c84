/**
 * Who is logged in. The session itself is the HttpOnly `sid` cookie, which scripts cannot read, so the
 * client learns its state only by asking `GET /me`; the token in login answers is deliberately ignored.
 */
import { computed, createModel, effect, signal } from "@preact/signals";
import { api, onUnauthenticated, type ApiResult } from "../api";
import type { Me, User, Wallet } from "../types";

export type SessionStatus = "loading" | "anon" | "authed";

export interface RegisterInput {
  handle: string;
  password: string;
  display_name?: string;
  phone?: string;
  currency?: string;
}

/** The session of one app instance; it outlives every screen, so the root component creates it. */
export const SessionModel = createModel(() => {
  const status = signal<SessionStatus>("loading");
  const me = signal<Me | null>(null);
  /** The auditor screen is offered only to auditors; the server enforces the role regardless. */
  const isAuditor = computed(() => me.value?.user.role === "auditor");

  function signOutLocally(): void {
    me.value = null;
    status.value = "anon";
  }

  // Any call answered 401 means the cookie expired or was revoked: show the login screen. Disposing the model
  // removes the listener (only this one: a newer model's, registered meanwhile, stays).
  effect(() => onUnauthenticated(signOutLocally));

  /** Loads the current user; a 401 (handled above) or a failure leaves the login screen up. */
  async function loadMe(): Promise<void> {
    const result = await api<Me>("GET", "/me");
    if (result.ok) {
      me.value = result.data;
      status.value = "authed";
    } else if (status.value === "loading") {
      status.value = "anon";
    }
  }

  return {
    status,
    me,
    isAuditor,
    loadMe,
    /** Logs in; on success the cookie is set and `me` is loaded before the promise resolves. */
    async login(handle: string, password: string): Promise<ApiResult<{ user: User }>> {
      const result = await api<{ user: User }>("POST", "/auth/login", { body: { handle, password }, expect401: true });
      if (result.ok) await loadMe();
      return result;
    },
    /** Registers a user with one wallet; the answer sets the session cookie, so this also logs in. */
    async register(input: RegisterInput): Promise<ApiResult<{ user: User; wallet: Wallet }>> {
      const result = await api<{ user: User; wallet: Wallet }>("POST", "/auth/register", { body: input });
      if (result.ok) await loadMe();
      return result;
    },
    /** Revokes the session on the server; the local state is cleared even if that call fails. */
    async logout(): Promise<void> {
      await api<null>("POST", "/auth/logout");
      signOutLocally();
    },
  };
});

export type SessionModel = InstanceType<typeof SessionModel>;
