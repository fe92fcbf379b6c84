/** The Hono environment every route shares: the Worker's bindings and the per-request variables. */
import type { Context } from "hono";

/** The authenticated caller, as the session check found them. */
export interface Caller {
  user_id: string;
  handle: string;
  role: "user" | "auditor";
  /** The wallets this user owns (one today; a list so the contract's `wallets: [wallet]` holds). */
  wallet_ids: string[];
  token_hash: string;
}

export interface AppEnv {
  Bindings: Env;
  Variables: {
    request_id: string;
    caller: Caller;
    idempotency_key: string;
  };
}

export type AppContext = Context<AppEnv>;
