/** The Hono environment every route shares: the Worker's bindings and the per-request variables. */
import type { Context } from "hono";
import type { Caller } from "../coordinator/rpc";

export type { Caller };

export interface AppEnv {
  Bindings: Env;
  Variables: {
    request_id: string;
    caller: Caller;
    idempotency_key: string;
  };
}

export type AppContext = Context<AppEnv>;
