/**
 * Audit routes (auditor role only): the append-only audit log from D1, newest first, by cursor, optionally
 * filtered by wallet, kind and status.
 */
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import { and, desc, eq, lt, or, type SQL } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { configOf } from "../../config";
import { auditLog } from "../../db/schema";
import type { AppEnv } from "../context";
import { ApiError } from "../errors";
import { requireAuditor, requireAuth } from "../middleware";
import { AuditRow, errorResponses, jsonContent } from "../schemas";

const AuditQuery = z.object({
  limit: z.string().regex(/^\d{1,4}$/).optional(),
  cursor: z.string().regex(/^\d{1,16}$/).optional().openapi({ description: "next_cursor of the previous page" }),
  wallet_id: z.string().max(128).optional(),
  kind: z.enum(["transfer", "deposit", "withdrawal"]).optional(),
  status: z.enum(["succeeded", "failed"]).optional(),
});

const listRoute = createRoute({
  method: "get",
  path: "/audit",
  summary: "Audit rows, newest first (auditor role)",
  middleware: [requireAuth, requireAuditor] as const,
  request: { query: AuditQuery },
  responses: {
    200: jsonContent(z.object({ items: z.array(AuditRow), next_cursor: z.string().nullable() }), "A page of audit rows"),
    ...errorResponses(400, 401, 403),
  },
});

/** The audit sub-app, mounted under /api/v1. */
export const auditRoutes = new OpenAPIHono<AppEnv>();

auditRoutes.openapi(listRoute, async (c) => {
  const q = c.req.valid("query");
  const config = configOf(c.env);
  const limit = q.limit === undefined ? config.audit_page_default : Number(q.limit);
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > config.audit_page_max) {
    throw new ApiError("validation_error", [{ field: "limit", issue: `a whole number from 1 to ${config.audit_page_max}` }]);
  }
  const filters: (SQL | undefined)[] = [
    q.cursor === undefined ? undefined : lt(auditLog.seq, Number(q.cursor)),
    q.wallet_id === undefined ? undefined : or(eq(auditLog.from_wallet_id, q.wallet_id), eq(auditLog.to_wallet_id, q.wallet_id)),
    q.kind === undefined ? undefined : eq(auditLog.kind, q.kind),
    q.status === undefined ? undefined : eq(auditLog.status, q.status),
  ];
  const rows = await drizzle(c.env.DB)
    .select()
    .from(auditLog)
    .where(and(...filters))
    .orderBy(desc(auditLog.seq))
    .limit(limit + 1)
    .all();
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  const items = page.map(({ seq: _seq, user_id: _user, ...row }) => row);
  return c.json({ items, next_cursor: rows.length > limit && last !== undefined ? String(last.seq) : null }, 200);
});
