/**
 * API keys (contract v1.1, "Events, webhooks and API keys"): `POST /api-keys` makes one and shows it once,
 * `GET /api-keys` lists them (never the key), `DELETE /api-keys/{id}` revokes one at once. The key is made
 * here (auth/api-keys.ts) and only its hash reaches the user's coordinator (coordinator/api-keys.ts). These
 * routes take a person's session: an API key gets 403 `insufficient_scope` (api/scopes.ts), so a key can
 * neither mint keys nor keep itself alive.
 */
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import { SCOPES, newApiKey } from "../../auth/api-keys";
import { tokenHash } from "../../auth/sessions";
import { configOf } from "../../config";
import { randomBase32 } from "../../domain/ids";
import { forbiddenCharacter } from "../../domain/text";
import type { AppContext, AppEnv } from "../context";
import { withErrors } from "../declared-errors";
import { ApiError } from "../errors";
import { keyedReply, optionalIdempotencyKey, type ReplySealing } from "../keyed";
import { limitBody, requireAuth } from "../middleware";
import { decodeTimeCursor, encodeTimeCursor, pageLimit } from "../paging";
import { HistoryQuery, OptionalIdempotencyHeaders, jsonContent } from "../schemas";

/** A key's name: what its maker calls it ("accounting export"), shown in the list. */
export const API_KEY_NAME_MAX = 100;

const Scope = z.enum(SCOPES);

const ApiKeyBody = z
  .strictObject({
    name: z
      .string()
      .trim()
      .min(1)
      .max(API_KEY_NAME_MAX)
      .superRefine((text, ctx) => {
        const bad = forbiddenCharacter(text);
        if (bad !== null) ctx.addIssue({ code: "custom", message: `must not contain control or invisible characters (found ${bad})` });
      }),
    scopes: z
      .array(Scope)
      .min(1)
      .max(SCOPES.length)
      .refine((s) => new Set(s).size === s.length, "each scope once"),
  })
  .openapi("ApiKeyBody");

const ApiKey = z
  .object({
    id: z.string(),
    name: z.string(),
    scopes: z.array(Scope),
    created_at: z.string(),
    last_used_at: z.string().nullable().openapi({ description: "to the minute; null before the first use" }),
  })
  .openapi("ApiKey");

const ApiKeyIdParam = z.object({
  api_key_id: z
    .string()
    .min(1)
    .max(128)
    .openapi({ param: { name: "api_key_id", in: "path" } }),
});

const createKeyRoute = createRoute(
  withErrors(
    {
      method: "post",
      path: "/api-keys",
      summary: "Make an API key (shown once; use it as Authorization: Bearer <key>)",
      middleware: [limitBody, requireAuth, optionalIdempotencyKey] as const,
      request: {
        headers: OptionalIdempotencyHeaders,
        body: { required: true, content: { "application/json": { schema: ApiKeyBody } } },
      },
      responses: {
        201: jsonContent(
          z.object({
            api_key: ApiKey,
            key: z.string().nullable().openapi({ description: "the key, shown once: null in a replay (Idempotent-Replayed: true)" }),
          }),
          "Made",
        ),
      },
    },
    ["limit_exceeded"],
  ),
);

const listKeysRoute = createRoute(
  withErrors(
    {
      method: "get",
      path: "/api-keys",
      summary: "Your API keys, newest first (never the keys themselves)",
      middleware: [requireAuth] as const,
      request: { query: HistoryQuery },
      responses: {
        200: jsonContent(z.object({ items: z.array(ApiKey), next_cursor: z.string().nullable() }), "A page"),
      },
    },
    [],
  ),
);

const revokeKeyRoute = createRoute(
  withErrors(
    {
      method: "delete",
      path: "/api-keys/{api_key_id}",
      summary: "Revoke an API key: every request with it gets 401 from now on, and its live feeds close",
      middleware: [requireAuth] as const,
      request: { params: ApiKeyIdParam },
      responses: { 204: { description: "Revoked" } },
    },
    ["not_found"],
  ),
);

/** The API key sub-app, mounted under /api/v1. */
export const apiKeyRoutes = new OpenAPIHono<AppEnv>();

apiKeyRoutes.openapi(createKeyRoute, async (c) => {
  const body = c.req.valid("json");
  // A repeat of the Idempotency-Key replays this answer without the key: the key is shown once and never
  // stored in clear, so what is kept for the replay has `key: null` (the client can see the key was made,
  // and revoke it if the first answer was lost).
  return keyedReply(c, "api-key", body, () => createKey(c, body.name, body.scopes), withoutKey) as never;
});

async function createKey(c: AppContext, name: string, scopes: z.infer<typeof Scope>[]): Promise<Response> {
  const caller = c.get("caller");
  const max = configOf(c.env).api_keys_max_per_user;
  // Scopes in a fixed order, whatever order they were asked in: the key's mask and the stored list agree.
  const ordered = SCOPES.filter((s) => scopes.includes(s));
  const key = await newApiKey(c.env, caller.user_id, ordered);
  const made = await c.env.COORDINATOR.getByName(caller.user_id).createApiKey({
    id: `key_${randomBase32()}`,
    key_hash: await tokenHash(key),
    name,
    scopes: ordered,
    now_ms: Date.now(),
    max_keys: max,
  });
  if (made.code !== "created") throw new ApiError("limit_exceeded", [{ field: "API_KEYS_MAX_PER_USER", issue: `at most ${max}` }]);
  return c.json({ api_key: made.api_key, key }, 201);
}

/** The stored form of a create's answer: the same bytes with the key replaced by null; replayed as stored. */
const withoutKey: ReplySealing = {
  store: (body) => {
    const parsed = JSON.parse(body) as { key?: unknown };
    return Promise.resolve(typeof parsed.key !== "string" ? body : JSON.stringify({ ...parsed, key: null }));
  },
  replay: (stored) => Promise.resolve(stored),
};

apiKeyRoutes.openapi(listKeysRoute, async (c) => {
  const query = c.req.valid("query");
  const limit = pageLimit(query.limit, 50, 200);
  const after = query.cursor === undefined ? null : decodeTimeCursor("k1", query.cursor);
  // At most API_KEYS_MAX_PER_USER (≤ 200) keys exist, so the coordinator returns them all and the page is cut here.
  const all = await c.env.COORDINATOR.getByName(c.get("caller").user_id).listApiKeys();
  const rest = after === null ? all : all.filter((k) => isBefore(Date.parse(k.created_at), k.id, after));
  const items = rest.slice(0, limit);
  const last = items[items.length - 1];
  const next_cursor =
    rest.length > limit && last !== undefined ? encodeTimeCursor("k1", { at_ms: Date.parse(last.created_at), id: last.id }) : null;
  return c.json({ items, next_cursor }, 200);
});

/** Whether (at_ms, id) comes after `p` in newest-first order. */
function isBefore(at_ms: number, id: string, p: { at_ms: number; id: string }): boolean {
  return at_ms < p.at_ms || (at_ms === p.at_ms && id < p.id);
}

apiKeyRoutes.openapi(revokeKeyRoute, async (c) => {
  const { api_key_id } = c.req.valid("param");
  const revoked = await c.env.COORDINATOR.getByName(c.get("caller").user_id).revokeApiKey(api_key_id);
  if (revoked.code !== "revoked") throw new ApiError("not_found");
  return c.body(null, 204);
});
