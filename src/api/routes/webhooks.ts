/**
 * Webhook endpoints (contract v1.1): register a URL for some event types (its signing secret is shown once),
 * list, delete, page through an endpoint's deliveries and retry one. The endpoints and deliveries live in the
 * caller's coordinator (coordinator/webhook-store.ts); the attempts run in the queue consumer (src/webhooks).
 * A URL must pass the target rules (webhooks/targets.ts) at registration (400 `validation_error` on `url`) and
 * again before every attempt.
 */
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import { configOf } from "../../config";
import { EVENT_TYPES } from "../../coordinator/events";
import { checkTargetUrl } from "../../webhooks/targets";
import { newSecret, openSecret, sealSecret } from "../../webhooks/secrets";
import type { AppContext, AppEnv } from "../context";
import { withErrors } from "../declared-errors";
import { ApiError, jsonResponse } from "../errors";
import { keyedReply, optionalIdempotencyKey, type ReplySealing } from "../keyed";
import { limitBody, requireAuth } from "../middleware";
import { decodeTimeCursor, encodeTimeCursor, pageLimit } from "../paging";
import { Id, OptionalIdempotencyHeaders, jsonContent } from "../schemas";

const EventTypeEnum = z.enum(EVENT_TYPES);

const WebhookEndpoint = z
  .object({ id: z.string(), url: z.string(), types: z.array(EventTypeEnum), created_at: z.string() })
  .openapi("WebhookEndpoint");

const Delivery = z
  .object({
    id: z.string(),
    event_id: z.string(),
    status: z.enum(["pending", "succeeded", "failed"]),
    attempts: z.number().int(),
    last_status_code: z.number().int().nullable(),
    next_attempt_at: z.string().nullable(),
  })
  .openapi("WebhookDelivery");

const NewEndpointBody = z
  .strictObject({ url: z.string().min(1).max(2_048), types: z.array(EventTypeEnum).min(1).max(EVENT_TYPES.length) })
  .openapi("NewWebhookEndpointBody");

const EndpointParam = z.object({ endpoint_id: Id.openapi({ param: { name: "endpoint_id", in: "path" } }) });
const DeliveryParams = EndpointParam.extend({ delivery_id: Id.openapi({ param: { name: "delivery_id", in: "path" } }) });

const createRouteDef = createRoute(
  withErrors(
    {
      method: "post",
      path: "/webhook-endpoints",
      summary: "Register a webhook endpoint; its signing secret is shown once",
      middleware: [limitBody, requireAuth, optionalIdempotencyKey] as const,
      request: {
        headers: OptionalIdempotencyHeaders,
        body: { required: true, content: { "application/json": { schema: NewEndpointBody } } },
      },
      responses: {
        201: jsonContent(z.object({ webhook_endpoint: WebhookEndpoint, secret: z.string() }), "Registered (the secret is shown this once)"),
      },
    },
    ["limit_exceeded"],
  ),
);

const listRoute = createRoute(
  withErrors(
    {
      method: "get",
      path: "/webhook-endpoints",
      summary: "Your webhook endpoints",
      middleware: [requireAuth] as const,
      responses: { 200: jsonContent(z.object({ items: z.array(WebhookEndpoint), next_cursor: z.string().nullable() }), "Endpoints") },
    },
    [],
  ),
);

const deleteRoute = createRoute(
  withErrors(
    {
      method: "delete",
      path: "/webhook-endpoints/{endpoint_id}",
      summary: "Remove a webhook endpoint (its pending deliveries end)",
      middleware: [requireAuth] as const,
      request: { params: EndpointParam },
      responses: { 204: { description: "Removed" } },
    },
    ["not_found"],
  ),
);

const deliveriesRoute = createRoute(
  withErrors(
    {
      method: "get",
      path: "/webhook-endpoints/{endpoint_id}/deliveries",
      summary: "An endpoint's deliveries, newest first",
      middleware: [requireAuth] as const,
      request: {
        params: EndpointParam,
        query: z.object({ limit: z.string().optional().openapi({ description: "1..200, default 50" }), cursor: z.string().optional() }),
      },
      responses: { 200: jsonContent(z.object({ items: z.array(Delivery), next_cursor: z.string().nullable() }), "Deliveries") },
    },
    ["not_found"],
  ),
);

const retryRoute = createRoute(
  withErrors(
    {
      method: "post",
      path: "/webhook-endpoints/{endpoint_id}/deliveries/{delivery_id}/retry",
      summary: "Deliver again now (a fresh retry window)",
      middleware: [requireAuth, optionalIdempotencyKey] as const,
      request: { headers: OptionalIdempotencyHeaders, params: DeliveryParams },
      responses: { 202: jsonContent(z.object({ delivery: Delivery }), "Queued") },
    },
    ["not_found"],
  ),
);

/** The webhook endpoints sub-app, mounted under /api/v1. */
export const webhookRoutes = new OpenAPIHono<AppEnv>();

webhookRoutes.openapi(createRouteDef, async (c) => {
  const body = c.req.valid("json");
  return keyedReply(c, "webhook-endpoint", body, () => createEndpoint(c, body.url, body.types), secretSealing(c)) as never;
});

webhookRoutes.openapi(listRoute, async (c) => {
  const items = await coordinator(c).listWebhookEndpoints();
  return c.json({ items, next_cursor: null }, 200);
});

webhookRoutes.openapi(deleteRoute, async (c) => {
  const done = await coordinator(c).deleteWebhookEndpoint(c.req.valid("param").endpoint_id);
  if (done.code !== "deleted") throw new ApiError("not_found");
  return c.body(null, 204);
});

webhookRoutes.openapi(deliveriesRoute, async (c) => {
  const { endpoint_id } = c.req.valid("param");
  const query = c.req.valid("query");
  const config = configOf(c.env);
  const limit = pageLimit(query.limit, config.history_page_default, config.history_page_max);
  const before = query.cursor === undefined ? null : decodeTimeCursor("whd", query.cursor);
  const page = await coordinator(c).listDeliveries(endpoint_id, before, limit);
  if (page.code !== "ok") throw new ApiError("not_found");
  return c.json({ items: page.items, next_cursor: page.last === null ? null : encodeTimeCursor("whd", page.last) }, 200);
});

webhookRoutes.openapi(retryRoute, async (c) => {
  const { endpoint_id, delivery_id } = c.req.valid("param");
  return keyedReply(c, "webhook-retry", { endpoint_id, delivery_id }, async () => {
    const done = await coordinator(c).retryDelivery(endpoint_id, delivery_id);
    if (done.code !== "accepted") throw new ApiError("not_found");
    return c.json({ delivery: done.delivery }, 202);
  }) as never;
});

function coordinator(c: AppContext): DurableObjectStub<import("../../transfer-coordinator").TransferCoordinator> {
  return c.env.COORDINATOR.getByName(c.get("caller").user_id);
}

async function createEndpoint(c: AppContext, url: string, types: (typeof EVENT_TYPES)[number][]): Promise<Response> {
  const target = checkTargetUrl(url, configOf(c.env).webhook_allow_local);
  if (!target.ok) throw new ApiError("validation_error", [{ field: "url", issue: target.issue }]);
  const secret = await newSecret(c.env);
  const created = await coordinator(c).createWebhookEndpoint({
    url: target.url.toString(),
    types: [...new Set(types)],
    secret_cipher: secret.cipher,
    secret_key_id: secret.key_id,
  });
  if (created.code === "limit_exceeded")
    throw new ApiError("limit_exceeded", [{ field: "WEBHOOK_ENDPOINTS_MAX_PER_USER", issue: `at most ${created.max}` }]);
  const body = `{"webhook_endpoint":${JSON.stringify(created.webhook_endpoint)},"secret":${JSON.stringify(secret.secret)}}`;
  return jsonResponse(c, 201, body);
}

/**
 * A replayed registration must show the same secret, but a stored answer must not hold it in clear: the secret
 * is stored sealed (as the endpoint's own copy is) and opened again for the replay.
 */
function secretSealing(c: AppContext): ReplySealing {
  return {
    store: async (body) => {
      const parsed = JSON.parse(body) as { webhook_endpoint: unknown; secret: string };
      const sealed = await sealSecret(c.env, parsed.secret);
      return JSON.stringify({ webhook_endpoint: parsed.webhook_endpoint, sealed_secret: sealed });
    },
    replay: async (stored) => {
      const parsed = JSON.parse(stored) as { webhook_endpoint?: unknown; sealed_secret?: { cipher: string; key_id: string } };
      if (parsed.sealed_secret === undefined) return stored;
      const secret = (await openSecret(c.env, parsed.sealed_secret.cipher, parsed.sealed_secret.key_id)) ?? "";
      return `{"webhook_endpoint":${JSON.stringify(parsed.webhook_endpoint)},"secret":${JSON.stringify(secret)}}`;
    },
  };
}
