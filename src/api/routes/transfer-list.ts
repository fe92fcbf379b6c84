/**
 * `GET /transfers` (contract v1.1): the caller's transfers, sent or received, newest first, filtered by the
 * server. Sent transfers are rows of the caller's coordinator (a walk of the index that matches the filters,
 * in time order, refusals and pending ones included: coordinator/sent-queries.ts); received ones are the
 * `transfer_in` entries of the caller's wallets (the wallet's filtered history, one index walk each), each
 * shown as its sender's coordinator has the transfer.
 * The two are merged by time: a sent transfer by when it was made, a received one by when its money arrived.
 * A page costs one read per source and one call per received transfer on it, whatever the caller's history.
 */
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import { configOf } from "../../config";
import type { MovementView } from "../../coordinator/rpc";
import { movementOwner } from "../../domain/ids";
import type { EntryView } from "../../domain/views";
import { assertOwnWallet, orUnavailable } from "../calls";
import type { AppContext, AppEnv } from "../context";
import { ApiError } from "../errors";
import { decodeTimeCursor, encodeTimeCursor, pageLimit, type TimePosition as Position } from "../paging";
import { parseInstant, walletIdsOfHandle } from "../find-params";
import { requireAuth } from "../middleware";
import { transferJson } from "../render";
import { withErrors } from "../declared-errors";
import { Transfer, jsonContent } from "../schemas";

const TransferListQuery = z.object({
  wallet_id: z.string().optional(),
  direction: z.enum(["in", "out"]).optional(),
  status: z.enum(["succeeded", "failed", "pending"]).optional(),
  counterparty: z.string().optional().openapi({ description: "a handle" }),
  from: z.string().optional().openapi({ description: "ISO 8601 instant, inclusive" }),
  to: z.string().optional().openapi({ description: "ISO 8601 instant, exclusive" }),
  limit: z.string().optional(),
  cursor: z.string().optional(),
});

const listRoute = createRoute(
  withErrors(
    {
      method: "get",
      path: "/transfers",
      summary: "Your transfers, sent and received, newest first, filtered by the server",
      middleware: [requireAuth] as const,
      request: { query: TransferListQuery },
      responses: {
        200: jsonContent(z.object({ items: z.array(Transfer), next_cursor: z.string().nullable() }), "A page"),
      },
    },
    ["validation_error", "forbidden", "not_found", "unavailable"],
  ),
);

interface Item {
  at_ms: number;
  view: MovementView;
}

/** The transfer-list sub-app, mounted under /api/v1. */
export const transferListRoutes = new OpenAPIHono<AppEnv>();

transferListRoutes.openapi(listRoute, async (c) => {
  const q = c.req.valid("query");
  const config = configOf(c.env);
  const limit = pageLimit(q.limit, config.history_page_default, config.history_page_max);
  const caller = c.get("caller");
  if (q.wallet_id !== undefined) await assertOwnWallet(c, q.wallet_id);
  const wallets = q.wallet_id === undefined ? caller.wallet_ids : [q.wallet_id];
  const from = q.from === undefined ? null : Date.parse(parseInstant("from", q.from));
  const toMs = q.to === undefined ? null : Date.parse(parseInstant("to", q.to));
  if (from !== null && toMs !== null && from > toMs)
    throw new ApiError("validation_error", [{ field: "from", issue: "must not be after to" }]);
  const cursor = q.cursor === undefined ? null : decodeTimeCursor("t1", q.cursor);
  // The page ends before the cursor, and before `to`: whichever is earlier.
  const before = earlier(cursor, toMs === null ? null : { at_ms: toMs, id: "" });
  const handle = q.counterparty;
  const counterparty = handle === undefined ? null : await orUnavailable(c, "counterparty", () => walletIdsOfHandle(c.env.DB, handle));
  // Without a wallet_id, every transfer the caller sent is theirs to see, whichever wallet it named: a refund
  // refused before it had a wallet, an attempt from a wallet that is not theirs. No wallet filter then means
  // one walk of the time index instead of one per wallet.
  const sent_from = q.wallet_id === undefined ? null : [q.wallet_id];
  const query = { wallets, sent_from, from_ms: from, before, status: q.status ?? null, counterparty, limit };
  const [sent, received] = await Promise.all([
    q.direction === "in" ? [] : sentPage(c, query),
    q.direction === "out" ? [] : receivedPage(c, query),
  ]);
  const merged = [...sent, ...received].sort((x, y) => y.at_ms - x.at_ms || (y.view.id < x.view.id ? -1 : 1)).slice(0, limit);
  const last = merged[merged.length - 1];
  const full = sent.length + received.length > merged.length || merged.length === limit;
  const next_cursor = full && last !== undefined ? encodeTimeCursor("t1", { at_ms: last.at_ms, id: last.view.id }) : null;
  return c.json({ items: merged.map((i) => transferJson(i.view) as z.infer<typeof Transfer>), next_cursor }, 200);
});

interface PageQuery {
  /** The caller's wallets to read received transfers of. */
  wallets: string[];
  /** The wallets sent transfers must come from; null for any. */
  sent_from: string[] | null;
  from_ms: number | null;
  before: Position | null;
  status: "succeeded" | "failed" | "pending" | null;
  counterparty: string[] | null;
  limit: number;
}

async function sentPage(c: AppContext, q: PageQuery): Promise<Item[]> {
  const views = await c.env.COORDINATOR.getByName(c.get("caller").user_id).listSent({
    before: q.before,
    from_ms: q.from_ms,
    status: q.status,
    wallet_ids: q.sent_from,
    to_wallet_ids: q.counterparty,
    limit: q.limit,
  });
  // The counterparty filter matches only what the view shows: a refused transfer to a phone number hides the
  // recipient's wallet from its sender, and a filter by handle must not reveal it either.
  const shown = q.counterparty === null ? views : views.filter((v) => v.to_wallet_id !== null && q.counterparty?.includes(v.to_wallet_id));
  return shown.map((view) => ({ at_ms: Date.parse(view.created_at), view }));
}

/** Received transfers succeeded (a refused one moved nothing into the wallet), so other statuses have none. */
async function receivedPage(c: AppContext, q: PageQuery): Promise<Item[]> {
  if (q.status === "failed" || q.status === "pending") return [];
  const filter = {
    kind: "transfer_in" as const,
    ...(q.from_ms === null ? {} : { from: new Date(q.from_ms).toISOString() }),
    // One millisecond past the position: entries at its very millisecond are then cut by id below.
    ...(q.before === null ? {} : { to: new Date(q.before.at_ms + 1).toISOString() }),
    ...(q.counterparty === null ? {} : { counterparty_ids: q.counterparty }),
  };
  const pages = await Promise.all(q.wallets.map((id) => c.env.WALLET.getByName(id).findHistory({ filter, limit: q.limit + 1 })));
  const entries = pages.flatMap((p) => (p.code === "ok" ? p.items : [])).filter((e) => inPage(e, q.before));
  const caller = c.get("caller");
  const views = await Promise.all(entries.map((e) => readReceived(c, e, caller.user_id, caller.wallet_ids)));
  return views.flatMap((view, i) => (view === null ? [] : [{ at_ms: Date.parse((entries[i] as EntryView).created_at), view }]));
}

function inPage(e: EntryView, before: Position | null): boolean {
  if (before === null) return true;
  const at = Date.parse(e.created_at);
  return at < before.at_ms || (at === before.at_ms && e.transfer_id < before.id);
}

/** A received transfer as its sender's coordinator has it (with refunded_amount), for the recipient. */
async function readReceived(c: AppContext, e: EntryView, user_id: string, wallet_ids: string[]): Promise<MovementView | null> {
  const owner = movementOwner(e.transfer_id);
  if (owner === null) return null;
  const found = await c.env.COORDINATOR.getByName(owner).getMovement(e.transfer_id, { user_id, wallet_ids });
  return found.code === "ok" ? found.movement : null;
}

function earlier(a: Position | null, b: Position | null): Position | null {
  if (a === null) return b;
  if (b === null) return a;
  return a.at_ms < b.at_ms || (a.at_ms === b.at_ms && a.id < b.id) ? a : b;
}
