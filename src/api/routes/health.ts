/** Liveness: answers without touching storage, so a load balancer's probe costs nothing. */
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import type { AppEnv } from "../context";
import { withErrors } from "../declared-errors";
import { jsonContent } from "../schemas";

const healthRoute = createRoute(
  withErrors(
    {
      method: "get",
      path: "/health",
      summary: "Liveness",
      responses: { 200: jsonContent(z.object({ ok: z.literal(true) }), "Alive") },
    },
    [],
  ),
);

/** The health sub-app, mounted under /api/v1. */
export const healthRoutes = new OpenAPIHono<AppEnv>();
healthRoutes.openapi(healthRoute, (c) => c.json({ ok: true as const }, 200));
