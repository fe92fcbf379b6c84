/**
 * `GET /events` (contract v1.1): the caller's events, oldest first after `after`, so an integration can follow
 * them. The caller's coordinator keeps them (coordinator/events.ts); a page is one walk of its primary key (or one
 * per type asked for), O(page) however many events are kept. `next_cursor` is the `after` of the next page: the
 * last seq on a full page, null once the log is read to its end (a follower then polls with the last seq it saw).
 * An `after` older than what is kept simply starts at the oldest event kept.
 */
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import { openPhonesInJson } from "../../auth/phone-text";
import { configOf } from "../../config";
import { eventJson, EVENT_TYPES, isEventType, type EventType } from "../../coordinator/events";
import type { AppEnv } from "../context";
import { withErrors } from "../declared-errors";
import { ApiError, jsonResponse } from "../errors";
import { requireAuth } from "../middleware";
import { afterParam, pageLimit } from "../paging";
import { asTyped } from "../render";
import { jsonContent } from "../schemas";

/** An event as the contract shows it; `data.object` is the transfer, payment request, deposit or withdrawal. */
export const Event = z
  .object({
    id: z.string(),
    seq: z.number().int(),
    type: z.enum(EVENT_TYPES),
    created_at: z.string(),
    data: z.object({ object: z.record(z.string(), z.unknown()) }),
  })
  .openapi("Event");

const eventsRoute = createRoute(
  withErrors(
    {
      method: "get",
      path: "/events",
      summary: "Your events, oldest first after `after` (follow them with next_cursor as the next `after`)",
      middleware: [requireAuth] as const,
      request: {
        query: z.object({
          after: z.string().optional().openapi({ description: "a seq (default 0): the events after it" }),
          cursor: z
            .string()
            .optional()
            .openapi({ description: "the same as `after` (a page's next_cursor), for clients that follow every list by `cursor`" }),
          types: z
            .string()
            .optional()
            .openapi({ description: `a comma list of: ${EVENT_TYPES.join(", ")}` }),
          limit: z.string().optional().openapi({ description: "1..200, default 50" }),
        }),
      },
      responses: { 200: jsonContent(z.object({ items: z.array(Event), next_cursor: z.string().nullable() }), "A page of events") },
    },
    ["validation_error"],
  ),
);

/** The events sub-app, mounted under /api/v1. */
export const eventRoutes = new OpenAPIHono<AppEnv>();

eventRoutes.openapi(eventsRoute, async (c) => {
  const query = c.req.valid("query");
  const config = configOf(c.env);
  const limit = pageLimit(query.limit, config.history_page_default, config.history_page_max);
  const after = afterSeq(afterParam(query.after, query.cursor));
  const types = typeList(query.types);
  const rows = await c.env.COORDINATOR.getByName(c.get("caller").user_id).listEvents(after, types, limit);
  const last = rows[rows.length - 1];
  const next = rows.length === limit && last !== undefined ? JSON.stringify(String(last.seq)) : "null";
  // The bodies are rendered from stored fields, byte for byte as each delivery of the event carries them.
  // A payer's phone rests sealed in an event's body (auth/phone-text.ts) and is opened for its requester here.
  const items = await openPhonesInJson(c.env, rows.map(eventJson).join(","));
  return asTyped(jsonResponse(c, 200, `{"items":[${items}],"next_cursor":${next}}`));
});

function afterSeq(raw: string | undefined): number {
  if (raw === undefined) return 0;
  const after = Number(raw);
  if (!/^\d{1,16}$/.test(raw) || !Number.isSafeInteger(after))
    throw new ApiError("validation_error", [{ field: "after", issue: "a whole number of 0 or more" }]);
  return after;
}

function typeList(raw: string | undefined): EventType[] | null {
  if (raw === undefined || raw === "") return null;
  const names = [...new Set(raw.split(",").map((t) => t.trim()))];
  const unknown = names.find((t) => !isEventType(t));
  if (unknown !== undefined)
    throw new ApiError("validation_error", [{ field: "types", issue: `unknown event type ${JSON.stringify(unknown).slice(0, 80)}` }]);
  return names.filter(isEventType);
}
