/**
 * Operator routes, gated by the ADMIN_TOKEN secret (absent: the routes do not exist). The only one grants the
 * auditor role: no request a user can make creates an auditor. `npm start` uses it to seed the demo auditor;
 * in production an operator calls it with the secret set by `wrangler secret put ADMIN_TOKEN`.
 */
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { users } from "../../db/schema";
import { timingSafeEqual } from "../../auth/encoding";
import type { AppEnv } from "../context";
import { ApiError } from "../errors";
import { limitBody } from "../middleware";
import { orUnavailable } from "../calls";
import { withErrors } from "../declared-errors";
import { Handle, jsonContent } from "../schemas";

const grantRoute = createRoute(
  withErrors(
    {
      method: "post",
      path: "/admin/auditors",
      summary: "Grant the auditor role (operator only, X-Admin-Token)",
      middleware: [limitBody] as const,
      request: { body: { required: true, content: { "application/json": { schema: z.strictObject({ handle: Handle }) } } } },
      responses: {
        200: jsonContent(z.object({ handle: z.string(), role: z.literal("auditor") }), "Granted"),
      },
    },
    ["forbidden", "not_found", "unavailable"],
  ),
);

/** The operator sub-app, mounted under /api/v1. */
export const adminRoutes = new OpenAPIHono<AppEnv>();

adminRoutes.openapi(grantRoute, async (c) => {
  const expected = c.env.ADMIN_TOKEN;
  if (expected === undefined || expected.length < 32) throw new ApiError("not_found");
  const given = new TextEncoder().encode(c.req.header("x-admin-token") ?? "");
  if (!timingSafeEqual(given, new TextEncoder().encode(expected))) throw new ApiError("forbidden");
  const { handle } = c.req.valid("json");
  const db = drizzle(c.env.DB);
  const user = await orUnavailable(c, "grant lookup", () => db.select({ id: users.id }).from(users).where(eq(users.handle, handle)).get());
  if (user === undefined) throw new ApiError("not_found");
  await orUnavailable(c, "grant", async () => db.update(users).set({ role: "auditor" }).where(eq(users.id, user.id)));
  // Live sessions see the role at once; a user who never logged in gets it with their first session.
  await c.env.COORDINATOR.getByName(user.id).setRole("auditor");
  return c.json({ handle, role: "auditor" as const }, 200);
});
