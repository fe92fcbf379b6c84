/**
 * The RPC bodies of the user's sessions and API keys: a login's session, the check of a token (a live session
 * or an API key), and the revocations, each of which closes the live feed sockets of what it ended on every
 * wallet of the user (coordinator/live-sessions.ts). The rows themselves are kept by sessions.ts and api-keys.ts.
 */
import type { Config } from "../config";
import type { ApiKeyStore, CreateApiKeyResult, NewApiKey } from "./api-keys";
import { closeLiveSockets } from "./live-sessions";
import type { AuthResult, Profile } from "./rpc";
import type { SessionStore } from "./sessions";
import type { RetryPolicy } from "./wallet-calls";

/** What the sessions' RPC bodies need from their coordinator. */
export interface SessionDeskPorts {
  env: Env;
  config: () => Config;
  storage: DurableObjectStorage;
  sessions: SessionStore;
  apiKeys: ApiKeyStore;
  retryPolicy: () => RetryPolicy;
}

/** Opens, checks and ends the user's sessions and API keys, and closes the live feeds of those it ends. */
export class SessionDesk {
  constructor(private readonly ports: SessionDeskPorts) {}

  /** Records the user's profile (as of this login) and a new session for `token_hash`. */
  async open(input: { profile: Profile; token_hash: string }): Promise<{ code: "opened" }> {
    const config = this.ports.config();
    const open = { ...input, now_ms: Date.now(), ttl_ms: config.session_ttl_ms, max_sessions: config.sessions_max_per_user };
    const evicted = this.ports.storage.transactionSync(() => this.ports.sessions.open(open));
    await this.endLiveFeeds(evicted);
    return { code: "opened" };
  }

  /** The caller behind `token_hash`: a live session, or one of the user's API keys (whose use is recorded). */
  authenticate(token_hash: string): AuthResult {
    const { sessions, apiKeys } = this.ports;
    const now_ms = Date.now();
    const session = sessions.authenticate(token_hash, now_ms);
    if (session.code === "ok" || !apiKeys.use(token_hash, now_ms)) return session;
    const profile = sessions.profile();
    if (profile === null) return { code: "unauthenticated" };
    return { code: "ok", caller: { ...profile, token_hash, expires_at_ms: Number.MAX_SAFE_INTEGER } };
  }

  /** Records a new API key of the user (its hash only), within `max_keys`. */
  createApiKey(input: NewApiKey): CreateApiKeyResult {
    return this.ports.storage.transactionSync(() => this.ports.apiKeys.create(input));
  }

  /** Revokes key `id` at once, and closes its live feed sockets. */
  async revokeApiKey(id: string): Promise<{ code: "revoked" | "not_found" }> {
    const key_hash = this.ports.apiKeys.revoke(id);
    if (key_hash === null) return { code: "not_found" };
    await this.endLiveFeeds([key_hash]);
    return { code: "revoked" };
  }

  /** Ends one session, and closes its live feed sockets. */
  async revokeSession(token_hash: string): Promise<{ code: "revoked" }> {
    this.ports.sessions.revoke(token_hash);
    await this.endLiveFeeds([token_hash]);
    return { code: "revoked" };
  }

  /** Ends every session of the user, and closes their live feed sockets. */
  async revokeAllSessions(): Promise<{ code: "revoked" }> {
    await this.endLiveFeeds(this.ports.sessions.revokeAll());
    return { code: "revoked" };
  }

  /** Closes the live feed sockets of ended sessions on every wallet of the user (coordinator/live-sessions.ts). */
  private async endLiveFeeds(token_hashes: string[]): Promise<void> {
    const wallet_ids = this.ports.sessions.profile()?.wallet_ids ?? [];
    await closeLiveSockets(this.ports.env.WALLET, wallet_ids, token_hashes, this.ports.retryPolicy());
  }
}
