/**
 * Audit routes (auditor role only): the append-only audit log from D1's partitions, newest first, by cursor,
 * optionally filtered by wallet, kind, status and time (src/audit/log-pages.ts); and the verifier (see
 * src/audit/verify.ts).
 */
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import { configOf, type Config } from "../../config";
import { auditPage, decodeAuditCursor } from "../../audit/log-pages";
import { partitionDbs } from "../../db/partitions";
import type { AppEnv } from "../context";
import { ApiError } from "../errors";
import { requireAuditor, requireAuth } from "../middleware";
import { orUnavailable } from "../calls";
import { withErrors } from "../declared-errors";
import { AuditRow, jsonContent } from "../schemas";
import { OWED_LOOKUPS_MAX, verify } from "../../audit/verify";
import { selfAuditStatus } from "../../audit/self-audit";
import { logVerifyOptions } from "../../audit/log-verify";
import { addPartials, bucketWidthMs, totalsPartial, type TotalsWindow } from "../../audit/totals";
import { isCurrencyCode } from "../../domain/currency";

const AuditQuery = z.object({
  limit: z
    .string()
    .regex(/^\d{1,4}$/)
    .optional(),
  cursor: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,400}$/)
    .optional()
    .openapi({ description: "next_cursor of the previous page (opaque)" }),
  wallet_id: z.string().max(128).optional(),
  kind: z.enum(["transfer", "deposit", "withdrawal"]).optional(),
  status: z.enum(["succeeded", "failed"]).optional(),
  from: z.iso.datetime().optional().openapi({ description: "created at or after (ISO 8601)" }),
  to: z.iso.datetime().optional().openapi({ description: "created before (ISO 8601)" }),
});

const VerifyQuery = z.object({
  limit: z
    .string()
    .regex(/^\d{1,4}$/)
    .optional()
    .openapi({ description: "wallets per page" }),
  // The cursor is the last wallet id of the previous page: anything else is not a cursor this route returned
  // (a garbage cursor was answered as an empty page with ok false, which a paging client cannot tell from the end).
  cursor: z
    .string()
    .max(128)
    .regex(/^wal_[0-9a-z_]{1,120}$/)
    .optional()
    .openapi({ description: "next_cursor of the previous page" }),
});

const Problem = z.object({
  wallet_id: z.string().nullable(),
  seq: z.number().int().nullable(),
  transfer_id: z.string().optional(),
  kind: z.string(),
  detail: z.string(),
});

const verifyRoute = createRoute(
  withErrors(
    {
      method: "get",
      path: "/audit/verify",
      summary: "Recompute every wallet's chain from D1, compare with the wallet objects, check conservation (auditor role)",
      middleware: [requireAuth, requireAuditor] as const,
      request: { query: VerifyQuery },
      responses: {
        200: jsonContent(
          z.object({
            ok: z.boolean().openapi({ description: "true only when `complete` and no problem was found; never for a part of the ledger" }),
            complete: z
              .boolean()
              .openapi({ description: "whether this answer covers every wallet (live, or through the self-audit's marks)" }),
            wallets_checked: z.number().int(),
            entries_checked: z.number().int(),
            pending: z.number().int(),
            problems: z.array(Problem),
            problems_omitted: z.number().int().openapi({ description: "problems beyond the first 1,000, counted but not listed" }),
            verified_by_self_audit: z
              .number()
              .int()
              .openapi({ description: "wallets past the live budget that the self-audit has checked through their D1 head" }),
            unverified_wallets: z
              .number()
              .int()
              .openapi({ description: "wallets past the live budget that nobody has checked through their D1 head yet" }),
            next_cursor: z.string().nullable(),
            progress: z.object({ wallets_done: z.number().int(), wallets_total: z.number().int() }),
            log: z
              .object({ tree_size: z.number().int(), leaves_checked: z.number().int(), uncovered: z.number().int() })
              .optional()
              .openapi({
                description: "first page: the transparency log checked against D1 (leaves compared, entries in no checkpoint yet)",
              }),
          }),
          "With no cursor and no limit, the whole ledger; otherwise one page of wallets",
        ),
      },
    },
    ["validation_error", "unavailable"],
  ),
);

const listRoute = createRoute(
  withErrors(
    {
      method: "get",
      path: "/audit",
      summary: "Audit rows, newest first (auditor role)",
      middleware: [requireAuth, requireAuditor] as const,
      request: { query: AuditQuery },
      responses: {
        200: jsonContent(z.object({ items: z.array(AuditRow), next_cursor: z.string().nullable() }), "A page of audit rows"),
      },
    },
    ["validation_error", "unavailable"],
  ),
);

const selfAuditRoute = createRoute(
  withErrors(
    {
      method: "get",
      path: "/audit/self-audit",
      summary: "How far the continuous self-audit is behind the audit log (auditor role)",
      middleware: [requireAuth, requireAuditor] as const,
      responses: {
        200: jsonContent(
          z.object({
            audited_through_seq: z.number().int().openapi({ description: "the last audit row whose wallets the self-audit has checked" }),
            newest_seq: z.number().int().openapi({ description: "the newest audit row" }),
            backlog_rows: z.number().int().openapi({ description: "audit rows not yet covered (counted up to 100,000)" }),
            oldest_waiting_at: z.string().nullable().openapi({ description: "when the oldest row not yet covered was created" }),
            lag_ms: z.number().int().openapi({ description: "how long that row has waited (0 when none waits)" }),
            last_run_at: z.string().nullable(),
            findings: z.number().int().openapi({ description: "findings recorded so far" }),
          }),
          "The self-audit's position",
        ),
      },
    },
    ["unavailable"],
  ),
);

const TotalsQuery = z.object({
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/)
    .openapi({ description: "ISO 4217 code; the totals hold per currency", example: "USD" }),
  from: z.iso.datetime().openapi({ description: "start of the first bucket (ISO 8601)" }),
  to: z.iso.datetime().openapi({ description: "end of the last bucket, exclusive (ISO 8601)" }),
  buckets: z
    .string()
    .regex(/^\d{1,4}$/)
    .optional()
    .openapi({ description: "how many equal spans to cut [from, to) into (default 30, at most AUDIT_TOTALS_BUCKETS_MAX)" }),
});

const TotalsBucket = z.object({
  end: z.string().openapi({ description: "the bucket's end (exclusive), ISO 8601; the totals hold just before it" }),
  net: z.number().int().openapi({ description: "deposits minus withdrawals that succeeded before `end`, in minor units" }),
  balances: z.number().int().openapi({ description: "the sum of every wallet's balance just before `end`, in minor units" }),
});

const totalsRoute = createRoute(
  withErrors(
    {
      method: "get",
      path: "/audit/totals",
      summary: "Money put into the system beside the sum of balances, at the end of each time bucket (auditor role)",
      description:
        "Deposits minus withdrawals come from the audit rows, balances from the entries' balance_after: two sources that agree when money is conserved. A bucket where they differ is a finding. Both are running totals since the first movement. 422 limit_exceeded when a total passes 2^53 - 1 minor units.",
      middleware: [requireAuth, requireAuditor] as const,
      request: { query: TotalsQuery },
      responses: {
        200: jsonContent(
          z.object({ currency: z.string(), from: z.string(), to: z.string(), buckets: z.array(TotalsBucket) }),
          "The totals",
        ),
      },
    },
    ["validation_error", "limit_exceeded", "unavailable"],
  ),
);

/** The audit sub-app, mounted under /api/v1. */
export const auditRoutes = new OpenAPIHono<AppEnv>();

auditRoutes.openapi(listRoute, async (c) => {
  const q = c.req.valid("query");
  const config = configOf(c.env);
  const limit = q.limit === undefined ? config.audit_page_default : Number(q.limit);
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > config.audit_page_max) {
    throw new ApiError("validation_error", [{ field: "limit", issue: `a whole number from 1 to ${config.audit_page_max}` }]);
  }
  const cursor = q.cursor === undefined ? null : decodeAuditCursor(q.cursor);
  if (q.cursor !== undefined && cursor === null) {
    throw new ApiError("validation_error", [{ field: "cursor", issue: "not a cursor this listing returned" }]);
  }
  return c.json(await orUnavailable(c, "audit log", () => auditPage(c.env, q, cursor, limit)), 200);
});

auditRoutes.openapi(selfAuditRoute, async (c) =>
  c.json(await orUnavailable(c, "self-audit status", () => selfAuditStatus(c.env, Date.now())), 200),
);

/** The totals query checked against the configured limits; every bad value is a 400 before anything is read. */
function totalsWindow(q: z.infer<typeof TotalsQuery>, config: Config): TotalsWindow {
  const buckets = q.buckets === undefined ? Math.min(30, config.audit_totals_buckets_max) : Number(q.buckets);
  if (!Number.isSafeInteger(buckets) || buckets < 1 || buckets > config.audit_totals_buckets_max) {
    throw new ApiError("validation_error", [{ field: "buckets", issue: `a whole number from 1 to ${config.audit_totals_buckets_max}` }]);
  }
  if (!isCurrencyCode(q.currency)) throw new ApiError("validation_error", [{ field: "currency", issue: "a known ISO 4217 code" }]);
  const from_ms = Date.parse(q.from);
  const to_ms = Date.parse(q.to);
  if (!(to_ms > from_ms)) throw new ApiError("validation_error", [{ field: "to", issue: "must be after from" }]);
  if (to_ms - from_ms > config.audit_totals_window_days_max * 86_400_000) {
    throw new ApiError("validation_error", [{ field: "to", issue: `at most ${config.audit_totals_window_days_max} days after from` }]);
  }
  // Buckets narrower than a millisecond would be empty duplicates of each other.
  if (to_ms - from_ms < buckets) throw new ApiError("validation_error", [{ field: "buckets", issue: "at most one a millisecond" }]);
  return { currency: q.currency, from_ms, to_ms, buckets };
}

auditRoutes.openapi(totalsRoute, async (c) => {
  const window = totalsWindow(c.req.valid("query"), configOf(c.env));
  const parts = await orUnavailable(c, "audit totals", () => Promise.all(partitionDbs(c.env).map((db) => totalsPartial(db, window))));
  const totals = addPartials(parts, window.buckets);
  const width = bucketWidthMs(window);
  const buckets = totals.net.map((net, i) => {
    const balances = totals.balances[i] ?? 0n;
    const end = new Date(Math.min(window.to_ms, window.from_ms + (i + 1) * width)).toISOString();
    return { end, net: safeTotal(net), balances: safeTotal(balances) };
  });
  return c.json(
    { currency: window.currency, from: new Date(window.from_ms).toISOString(), to: new Date(window.to_ms).toISOString(), buckets },
    200,
  );
});

/** A total as a JSON number, exact only below 2^53: past it the answer would round, so it is refused instead. */
function safeTotal(total: bigint): number {
  const n = Number(total);
  if (!Number.isSafeInteger(n) || BigInt(n) !== total) {
    throw new ApiError("limit_exceeded", [
      { field: "currency", issue: "a total passes 2^53 - 1 minor units, which JSON numbers cannot hold exactly" },
    ]);
  }
  return n;
}

auditRoutes.openapi(verifyRoute, async (c) => {
  const q = c.req.valid("query");
  const config = configOf(c.env);
  // A call with neither cursor nor limit is a v1 client's, which knows no paging: it is answered for the whole
  // ledger. A paging client asks for pages and combines them (ok is never true for a part).
  const whole = q.cursor === undefined && q.limit === undefined;
  const limit = whole ? null : q.limit === undefined ? Math.min(50, config.verify_page_max) : Number(q.limit);
  if (limit !== null && (!Number.isSafeInteger(limit) || limit < 1 || limit > config.verify_page_max)) {
    throw new ApiError("validation_error", [{ field: "limit", issue: `a whole number from 1 to ${config.verify_page_max}` }]);
  }
  // The whole report or none: a store that fails part way (D1, a wallet object, the log) is a 503, and the auditor asks again.
  const report = await orUnavailable(c, "verify", async () =>
    verify(partitionDbs(c.env), c.env.WALLET, {
      limit,
      cursor: q.cursor ?? null,
      whole_max_wallets: config.verify_whole_max_wallets,
      coordinators: c.env.COORDINATOR,
      owed_lookups: { left: OWED_LOOKUPS_MAX },
      hold_max_age_ms: config.hold_max_age_ms,
      outbox_grace_ms: config.outbox_grace_ms,
      now_ms: Date.now(),
      log: await logVerifyOptions(c.env, Date.now()),
    }),
  );
  return c.json(report, 200);
});
