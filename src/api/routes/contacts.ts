/**
 * `GET /me/contacts` (contract v1.1): the people the caller paid, was paid by, or exchanged requests with, most
 * recent first, by handle and display name. Nothing is kept for it: the caller's coordinator names the
 * recipients of their latest transfers and the people of their latest requests, the caller's wallets name who
 * paid them lately, and one D1 read puts names to them. The work is bounded (CONTACT_SCAN_MAX of each source),
 * so the cost does not grow with the caller's history; someone last seen before that window has stopped being
 * recent. A phone number never appears, and someone the caller only ever named by phone is left out: listing
 * them by handle would tell the caller who owns that number. Money that answers such a transfer or request (its
 * payment, or a refund either way) is checked by id in the coordinator, whatever its age, since the transfer or
 * request it answers may lie outside the window while the answer is inside it.
 */
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import { inArray } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { users, wallets } from "../../db/schema";
import type { AppContext, AppEnv } from "../context";
import { pageLimit } from "../paging";
import { requireAuth } from "../middleware";
import { orUnavailable } from "../calls";
import { withErrors } from "../declared-errors";
import { jsonContent } from "../schemas";

/** Transfers, requests and incoming entries looked at per source. */
const CONTACT_SCAN_MAX = 200;

const Contact = z.object({ handle: z.string(), display_name: z.string(), last_at: z.string() }).openapi("Contact");

const contactsRoute = createRoute(
  withErrors(
    {
      method: "get",
      path: "/me/contacts",
      summary: "People you paid, were paid by, or exchanged requests with, most recent first (never a phone number)",
      middleware: [requireAuth] as const,
      request: { query: z.object({ limit: z.string().optional().openapi({ description: "1..50, default 10" }) }) },
      responses: { 200: jsonContent(z.object({ items: z.array(Contact) }), "Contacts") },
    },
    ["validation_error", "unavailable"],
  ),
);

/** The contacts sub-app, mounted under /api/v1. */
export const contactRoutes = new OpenAPIHono<AppEnv>();

contactRoutes.openapi(contactsRoute, async (c) => {
  const limit = contactLimit(c.req.valid("query").limit);
  const caller = c.get("caller");
  const incoming = await incomingEntries(c, caller.wallet_ids);
  // The coordinator checks by id the transfers these entries answer, however old: see ContactSources.phone_only.
  const asked = [...new Set(incoming.flatMap((e) => (e.refund_of === null ? [e.transfer_id] : [e.transfer_id, e.refund_of])))];
  const sources = await c.env.COORDINATOR.getByName(caller.user_id).contactSources(CONTACT_SCAN_MAX, asked);
  const withPhoneOnly: ReadonlySet<string> = new Set(sources.phone_only);
  const payers = incoming.map((e) => ({ wallet_id: e.wallet_id, at_ms: e.at_ms, by_phone: answersPhoneOnly(e, withPhoneOnly) }));
  // A refund the caller sent for a payment from someone they know only by phone goes to that same person.
  const sent = sources.wallets.map((w) => ({ ...w, by_phone: w.by_phone || (w.refund_of !== null && withPhoneOnly.has(w.refund_of)) }));
  const byWallet = [...sent, ...payers];
  const named = await names(
    c,
    byWallet.map((w) => w.wallet_id),
    sources.users.map((u) => u.user_id),
  );
  // Per person: the latest time, and whether they were ever known other than by phone.
  const people = new Map<string, { at_ms: number; by_handle: boolean }>();
  const see = (user_id: string | undefined, at_ms: number, by_phone: boolean): void => {
    if (user_id === undefined || user_id === caller.user_id) return;
    const seen = people.get(user_id) ?? { at_ms: 0, by_handle: false };
    people.set(user_id, { at_ms: Math.max(seen.at_ms, at_ms), by_handle: seen.by_handle || !by_phone });
  };
  for (const w of byWallet) see(named.ownerOf.get(w.wallet_id), w.at_ms, w.by_phone);
  for (const u of sources.users) see(u.user_id, u.at_ms, u.by_phone);
  const items = [...people]
    .filter(([, p]) => p.by_handle)
    .sort((x, y) => y[1].at_ms - x[1].at_ms)
    .slice(0, limit)
    .flatMap(([user_id, p]) => {
      const user = named.users.get(user_id);
      return user === undefined ? [] : [{ handle: user.handle, display_name: user.display_name, last_at: new Date(p.at_ms).toISOString() }];
    });
  return c.json({ items }, 200);
});

function contactLimit(raw: string | undefined): number {
  return pageLimit(raw, 10, 50);
}

/** An incoming transfer of the caller's: who sent it, when, and which transfers it is or refunds. */
interface IncomingEntry {
  wallet_id: string;
  at_ms: number;
  transfer_id: string;
  refund_of: string | null;
}

/** Who paid the caller lately: the senders of the latest incoming transfers of each of their wallets. */
async function incomingEntries(c: AppContext, wallet_ids: string[]): Promise<IncomingEntry[]> {
  const pages = await Promise.all(wallet_ids.map((id) => c.env.WALLET.getByName(id).history({ limit: CONTACT_SCAN_MAX })));
  return pages.flatMap((page) =>
    page.code !== "ok"
      ? []
      : page.items.flatMap((e) =>
          e.kind === "transfer_in" && e.counterparty !== null
            ? [{ wallet_id: e.counterparty, at_ms: Date.parse(e.created_at), transfer_id: e.transfer_id, refund_of: e.refund_of ?? null }]
            : [],
        ),
  );
}

/**
 * Whether an incoming entry paid, or refunds, a transfer with someone the caller knows only by phone (sent to a
 * phone, or paying a request addressed to one). Money that answers such a transfer comes from that same person,
 * so listing them by handle would tell the caller who owns the number, which the transfer itself never does.
 */
function answersPhoneOnly(e: IncomingEntry, phone_only: ReadonlySet<string>): boolean {
  return phone_only.has(e.transfer_id) || (e.refund_of !== null && phone_only.has(e.refund_of));
}

/** The owners of these wallets, and the handle and display name of every user involved, in two D1 reads. */
async function names(
  c: AppContext,
  wallet_ids: string[],
  user_ids: string[],
): Promise<{ ownerOf: Map<string, string>; users: Map<string, { handle: string; display_name: string }> }> {
  const db = drizzle(c.env.DB);
  const ownerOf = new Map<string, string>();
  for (const chunk of chunks([...new Set(wallet_ids)], 90)) {
    const rows = await orUnavailable(c, "contact wallets", async () =>
      db.select({ id: wallets.id, owner_id: wallets.owner_id }).from(wallets).where(inArray(wallets.id, chunk)),
    );
    for (const r of rows) ownerOf.set(r.id, r.owner_id);
  }
  const found = new Map<string, { handle: string; display_name: string }>();
  for (const chunk of chunks([...new Set([...ownerOf.values(), ...user_ids])], 90)) {
    const rows = await orUnavailable(c, "contact names", async () =>
      db.select({ id: users.id, handle: users.handle, display_name: users.display_name }).from(users).where(inArray(users.id, chunk)),
    );
    for (const r of rows) found.set(r.id, { handle: r.handle, display_name: r.display_name });
  }
  return { ownerOf, users: found };
}

/** D1 binds at most 100 parameters per statement. */
function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
