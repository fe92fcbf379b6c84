/** The Hono environment every route shares: the Worker's bindings and the per-request variables. */
import type { JsonTextProblem } from "../domain/json-numbers";
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
    /**
     * What the JSON body's text writes that JSON.parse hides (a float such as `1.0` or `1e2`, a member name given
     * twice), set by `limitBody`; absent if none (domain/json-numbers.ts).
     */
    json_text_problem: JsonTextProblem;
  };
}

export type AppContext = Context<AppEnv>;
