/**
 * The transparency log's routes (api-contract.md, "The transparency log"): the latest signed checkpoint, the
 * log's verifier key, inclusion and consistency proofs, every checkpoint signed, and witnesses' cosignatures.
 * All but the inclusion proof are public (no credentials) and rate-limited per client address; the proof is
 * for the wallet's owner or an auditor. The log object does the work; these routes check inputs and map its
 * closed results to the contract's codes.
 */
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { configOf } from "../../config";
import { formatVerifierKey } from "../../domain/signed-note";
import type { TransparencyLog } from "../../log-object";
import { LOG_OBJECT_NAME } from "../../log/name";
import { logSigner } from "../../log/keys";
import { assertOwnWallet } from "../calls";
import type { AppEnv } from "../context";
import { declareMiddlewareErrors, withErrors } from "../declared-errors";
import { ApiError } from "../errors";
import { limitBody, requireAuth } from "../middleware";
import { clientAddress, enforceAddress } from "../rate-limits";
import { jsonContent } from "../schemas";
import { afterParam } from "../paging";

/** The one log object. */
export function logObject(env: Env): DurableObjectStub<TransparencyLog> {
  return env.LOG.getByName(LOG_OBJECT_NAME);
}

/** Public log routes: one token per request from the client address's bucket, else 429 with Retry-After. */
const limitLogCalls: MiddlewareHandler<AppEnv> = declareMiddlewareErrors<MiddlewareHandler<AppEnv>>(
  async (c, next) => {
    await enforceAddress(c, "log", clientAddress(c), configOf(c.env).rate_log_per_ip_per_minute);
    await next();
  },
  ["rate_limited"],
);

/** A tree size or seq on the wire: decimal digits, no sign, no leading zeros, a safe integer. */
const Count = z.string().regex(/^(?:0|[1-9][0-9]{0,15})$/);

/** A `Count` query value as a number (null when absent); past 2^53 - 1 is 400. */
function count(field: string, text: string | undefined): number | null {
  if (text === undefined) return null;
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new ApiError("validation_error", [{ field, issue: "a whole number below 2^53" }]);
  return n;
}

const TEXT_NOTE = { "text/plain": { schema: z.string() } };

const checkpointRoute = createRoute(
  withErrors(
    {
      method: "get",
      path: "/log/checkpoint",
      summary: "The latest signed checkpoint (C2SP tlog-checkpoint), with its witnesses' cosignatures (public)",
      middleware: [limitLogCalls] as const,
      request: {
        query: z.object({
          witnessed: z
            .enum(["1"])
            .optional()
            .openapi({ description: "1: the newest checkpoint cosigned by every witness in LOG_WITNESS_KEYS (404 if none)" }),
        }),
      },
      responses: { 200: { description: "The checkpoint note", content: TEXT_NOTE } },
    },
    ["not_found"],
  ),
);

const keyRoute = createRoute(
  withErrors(
    {
      method: "get",
      path: "/log/key",
      summary: "The log's verifier key in C2SP signed-note form, and its witnesses' (public)",
      middleware: [limitLogCalls] as const,
      responses: {
        200: jsonContent(
          z.object({
            origin: z.string(),
            key_name: z.string(),
            vkey: z.string(),
            witnesses: z
              .array(z.object({ name: z.string(), vkey: z.string() }))
              .openapi({ description: "the witnesses of LOG_WITNESS_KEYS: each key name and its cosignature/v1 verifier key (type 0x04)" }),
          }),
          "The log's key and its witnesses' keys",
        ),
      },
    },
    [],
  ),
);

const proofRoute = createRoute(
  withErrors(
    {
      method: "get",
      path: "/log/proof",
      summary: "The RFC 9162 inclusion proof of a history entry (the wallet's owner or an auditor)",
      middleware: [requireAuth] as const,
      request: {
        query: z.object({
          wallet_id: z.string().min(1).max(128),
          seq: Count,
          tree_size: Count.optional().openapi({ description: "default: the latest checkpoint's size; past it: 400" }),
        }),
      },
      responses: {
        200: jsonContent(
          z.object({
            leaf_index: z.number().int(),
            tree_size: z.number().int(),
            leaf: z.string().openapi({ description: "the leaf: JSON.stringify([wallet_id, seq, hash])" }),
            inclusion: z.array(z.string()),
          }),
          "The proof",
        ),
      },
    },
    ["forbidden", "not_found", "unavailable"],
  ),
);

const consistencyRoute = createRoute(
  withErrors(
    {
      method: "get",
      path: "/log/consistency",
      summary: "The RFC 9162 consistency proof between two tree sizes (public)",
      middleware: [limitLogCalls] as const,
      request: { query: z.object({ from: Count, to: Count }) },
      responses: {
        200: jsonContent(z.object({ from: z.number().int(), to: z.number().int(), proof: z.array(z.string()) }), "The proof"),
      },
    },
    [],
  ),
);

const checkpointsRoute = createRoute(
  withErrors(
    {
      method: "get",
      path: "/log/checkpoints",
      summary: "Every checkpoint signed, oldest first, after a tree size (public)",
      middleware: [limitLogCalls] as const,
      request: {
        query: z.object({
          after: Count.optional().openapi({ description: "a tree size (default 0), or the previous page's next_cursor" }),
          cursor: Count.optional().openapi({
            description: "the same as `after` (a page's next_cursor), for clients that follow every list by `cursor`",
          }),
          limit: z
            .string()
            .regex(/^\d{1,4}$/)
            .optional()
            .openapi({ description: "1..200, default 50" }),
        }),
      },
      responses: {
        200: jsonContent(z.object({ items: z.array(z.string()), next_cursor: z.string().nullable() }), "A page of checkpoints"),
      },
    },
    [],
  ),
);

const cosignRoute = createRoute(
  withErrors(
    {
      method: "post",
      path: "/log/cosignatures",
      summary: "A witness's cosignature: the checkpoint with its tlog-cosignature/v1 line (public; witnesses in LOG_WITNESS_KEYS)",
      middleware: [limitLogCalls, limitBody] as const,
      request: { body: { content: TEXT_NOTE, required: true } },
      responses: { 204: { description: "Stored; the checkpoint routes serve it with its checkpoint" } },
    },
    ["validation_error"],
  ),
);

/** The largest page of GET /log/checkpoints, and its default (the contract's list convention). */
const PAGE_MAX = 200;
const PAGE_DEFAULT = 50;

/** The log sub-app, mounted under /api/v1. */
export const logRoutes = new OpenAPIHono<AppEnv>();

const NOTE_HEADERS = { "cache-control": "no-store" };

logRoutes.openapi(checkpointRoute, async (c) => {
  const note = await logObject(c.env).checkpoint(c.req.valid("query").witnessed === "1");
  if (note === null) throw new ApiError("not_found");
  return c.text(note, 200, NOTE_HEADERS);
});

logRoutes.openapi(keyRoute, async (c) => {
  const origin = configOf(c.env).log_origin;
  const signer = await logSigner(c.env, origin);
  // The witnesses' keys are published beside the log's (an addition to the contract's answer) so that a browser can
  // verify the cosignatures of `?witnessed=1` itself instead of taking the witnesses' names on trust.
  const witnesses = configOf(c.env).log_witness_keys.map((k) => ({ name: k.name, vkey: formatVerifierKey(k.name, k.type, k.publicKey) }));
  return c.json({ origin, key_name: origin, vkey: signer.vkey, witnesses }, 200);
});

logRoutes.openapi(proofRoute, async (c) => {
  const q = c.req.valid("query");
  const seq = count("seq", q.seq) ?? 0;
  const treeSize = count("tree_size", q.tree_size);
  if (seq < 1) throw new ApiError("validation_error", [{ field: "seq", issue: "at least 1" }]);
  if (c.get("caller").role !== "auditor") await assertOwnWallet(c, q.wallet_id);
  const result = await logObject(c.env).proof(q.wallet_id, seq, treeSize);
  if (result.code === "tree_size_too_large") {
    throw new ApiError("validation_error", [{ field: "tree_size", issue: `at most the latest checkpoint's size, ${result.latest}` }]);
  }
  if (result.code !== "ok") throw new ApiError("not_found");
  const { code: _code, ...proof } = result;
  return c.json(proof, 200);
});

logRoutes.openapi(consistencyRoute, async (c) => {
  const q = c.req.valid("query");
  const from = count("from", q.from) ?? 0;
  const to = count("to", q.to) ?? 0;
  const result = await logObject(c.env).consistency(from, to);
  if (result.code !== "ok") {
    throw new ApiError("validation_error", [
      from > to ? { field: "from", issue: "at most to" } : { field: "to", issue: `at most the latest checkpoint's size, ${result.latest}` },
    ]);
  }
  const { code: _code, ...proof } = result;
  return c.json(proof, 200);
});

logRoutes.openapi(checkpointsRoute, async (c) => {
  const q = c.req.valid("query");
  const after = count("after", afterParam(q.after, q.cursor)) ?? 0;
  const limit = q.limit === undefined ? PAGE_DEFAULT : Number(q.limit);
  if (limit < 1 || limit > PAGE_MAX)
    throw new ApiError("validation_error", [{ field: "limit", issue: `a whole number from 1 to ${PAGE_MAX}` }]);
  const page = await logObject(c.env).checkpointsAfter(after, limit);
  return c.json({ items: page.items, next_cursor: page.more && page.last !== null ? String(page.last) : null }, 200);
});

logRoutes.openapi(cosignRoute, async (c) => {
  const type = c.req.header("content-type") ?? "";
  if (!/^text\/plain\b/i.test(type)) throw new ApiError("validation_error", [{ field: "Content-Type", issue: "must be text/plain" }]);
  const text = await c.req.text();
  const result = await logObject(c.env).cosign(text);
  if (result.code !== "ok") throw new ApiError("validation_error", [{ field: "body", issue: result.issue }]);
  return c.body(null, 204);
});
