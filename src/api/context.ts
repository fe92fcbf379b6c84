/** The Hono environment every route shares: the Worker's bindings and the per-request variables. */
import type { Context } from "hono";
import type { Scope } from "../auth/api-keys";
import type { Caller } from "../coordinator/rpc";

export type { Caller };

/**
 * What a request presents: the user its token (or API key) names and the token's hash, before the session is
 * checked; for an API key, the scopes it carries (null for a session token, which is not scoped).
 */
export interface Credential {
  user_id: string;
  token_hash: string;
  scopes: readonly Scope[] | null;
}

export interface AppEnv {
  Bindings: Env;
  Variables: {
    request_id: string;
    credential: Credential;
    caller: Caller;
    idempotency_key: string;
    /** The member whose number the body writes as a float (`1.0`, `1e2`), set by `limitBody`; absent if none. */
    float_member: string;
  };
}

export type AppContext = Context<AppEnv>;
