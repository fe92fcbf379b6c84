/**
 * Outcomes of money movements, rendered to HTTP. A stored outcome always renders to the same bytes (fixed key
 * order, fixed messages, the original request id), which is what lets a replay be byte-for-byte identical.
 */
import { singleWalletJson, transferJson } from "../coordinator/movement-json";
import type { MovementOutcome, MovementView } from "../coordinator/rpc";

export { singleWalletJson, transferJson };
import type { AppContext } from "./context";
import { errorBody, errorResponse, jsonResponse, ERRORS } from "./errors";

/** The success body of a movement: `{transfer}`, `{deposit}` or `{withdrawal}`. */
export function successBody(m: MovementView): string {
  if (m.kind === "transfer") return JSON.stringify({ transfer: transferJson(m) });
  return JSON.stringify({ [m.kind]: singleWalletJson(m) });
}

/**
 * Hono's typed route handlers expect a TypedResponse built by `c.json()`, but outcomes are rendered to exact
 * bytes (for byte-identical replays), so the raw Response is handed back under the handler's declared type.
 */
export function asTyped<T>(response: Response): T {
  return response as unknown as T;
}

/** The HTTP response for a coordinator outcome. */
export function renderOutcome(c: AppContext, outcome: MovementOutcome): Response {
  switch (outcome.code) {
    case "unauthenticated":
    case "idempotency_key_reused":
    case "idempotency_in_progress":
      return errorResponse(c, outcome.code);
    case "unavailable":
      return errorResponse(c, "unavailable", { headers: { "Retry-After": "1" } });
    case "rate_limited":
      return errorResponse(c, "rate_limited", { headers: { "Retry-After": String(outcome.retry_after_s) } });
    case "created": {
      const headers: Record<string, string> = outcome.replayed ? { "Idempotent-Replayed": "true" } : {};
      return jsonResponse(c, 201, successBody(outcome.movement), headers);
    }
    default: {
      const headers: Record<string, string> = outcome.replayed ? { "Idempotent-Replayed": "true" } : {};
      const body = errorBody(outcome.code, outcome.movement.request_id, { transfer_id: outcome.movement.id });
      return jsonResponse(c, ERRORS[outcome.code].status, body, headers);
    }
  }
}
