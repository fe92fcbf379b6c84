/**
 * Idempotency for POSTs that move no money (contract v1.1): the key is optional, and when sent a repeat replays
 * the first answer, byte for byte, with `Idempotent-Replayed: true`. The caller's coordinator keeps the record
 * (coordinator/replies.ts). Everything the edge refuses before the key is looked at (400, 401, 429) is never
 * stored; a 5xx is not stored either, so the key can be tried again.
 */
import type { MiddlewareHandler } from "hono";
import { requestHash } from "../domain/idempotency";
import type { AppContext, AppEnv } from "./context";
import { declareMiddlewareErrors } from "./declared-errors";
import { ApiError, errorResponse } from "./errors";
import { KEY_SHAPE, sessionFirst } from "./middleware";
import { errorText, log } from "../observability/log";

/**
 * Reads an optional Idempotency-Key; a malformed one is 400 (after the session is checked). Its routes answer
 * through `keyedReply`, so it declares that function's codes too: a key in use (409) or reused (422), and a
 * session that ended before the key was looked at (401).
 */
export const optionalIdempotencyKey: MiddlewareHandler<AppEnv> = declareMiddlewareErrors<MiddlewareHandler<AppEnv>>(
  async (c, next) => {
    const key = c.req.header("idempotency-key");
    if (key !== undefined && !KEY_SHAPE.test(key)) {
      await sessionFirst(c);
      throw new ApiError("validation_error", [{ field: "Idempotency-Key", issue: "1..255 printable ASCII characters" }]);
    }
    if (key !== undefined) c.set("idempotency_key", key);
    await next();
  },
  ["validation_error", "unauthenticated", "idempotency_in_progress", "idempotency_key_reused"],
);

/** Whether an answer with this status is replayed to a repeat of its key. */
function storable(status: number): boolean {
  return status < 500 && status !== 401 && status !== 429 && status !== 400;
}

/** Runs `run`, turning a thrown contract error into its response, so that it can be stored. */
async function answer(c: AppContext, run: () => Promise<Response>): Promise<Response> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof ApiError)
      return errorResponse(c, error.code, {
        ...(error.details === undefined ? {} : { details: error.details }),
        ...(error.headers === undefined ? {} : { headers: error.headers }),
      });
    throw error;
  }
}

/**
 * How a route's answer is kept for replays when it holds something that must not rest in clear (a webhook
 * secret): `store` turns the body into what is stored, `replay` turns that back into the first answer's bytes.
 */
export interface ReplySealing {
  store: (body: string) => Promise<string>;
  replay: (stored: string) => Promise<string>;
}

/**
 * Answers a POST that moves no money under its optional Idempotency-Key. `route` and `body` identify the
 * request (a different body under the same key is 422). `sealing` turns a success's body into what is kept for
 * replays and back, for an answer that holds a secret: a webhook secret is sealed and replayed whole, a new API
 * key (shown once) is kept and replayed without the key.
 */
export async function keyedReply(
  c: AppContext,
  route: string,
  body: unknown,
  run: () => Promise<Response>,
  sealing?: ReplySealing,
): Promise<Response> {
  const key = c.get("idempotency_key") as string | undefined;
  if (key === undefined) return answer(c, run);
  const coordinator = c.env.COORDINATOR.getByName(c.get("credential").user_id);
  const begun = await coordinator.beginReply({
    token_hash: c.get("credential").token_hash,
    key,
    request_hash: requestHash(route, body),
    request_id: c.get("request_id"),
  });
  if (begun.code === "replay") {
    const replayed = sealing === undefined ? begun.reply.body : await sealing.replay(begun.reply.body);
    return c.body(replayed, begun.reply.status as 200, {
      "content-type": "application/json; charset=utf-8",
      "Idempotent-Replayed": "true",
    });
  }
  if (begun.code !== "new") return errorResponse(c, begun.code);
  let response: Response;
  try {
    response = await answer(c, run);
  } catch (error) {
    await coordinator.endReply(key, null).catch((e: unknown) => log("warn", "reply not forgotten", { error: errorText(e) }));
    throw error;
  }
  const text = storable(response.status) ? await response.clone().text() : null;
  const stored = text === null || sealing === undefined || response.status >= 300 ? text : await sealing.store(text);
  const reply = stored === null ? null : { status: response.status, body: stored };
  await coordinator.endReply(key, reply);
  return response;
}
