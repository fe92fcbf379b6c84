/**
 * Payment requests. The requester's coordinator is each request's one authority: its row leaves `open` exactly
 * once, by a read and a write in one synchronous transaction of that one object, whichever of pay (from any
 * number of the payer's devices and keys), decline, cancel and expiry comes first. A pay claims the request
 * (`claimed_by` = the paying movement) before any money is reserved; while claimed, every other pay, decline
 * and cancel is `request_not_open`; the claim ends as `paid` when the money has moved, or is dropped when the
 * pay was refused (the request is open again, or expired if its time has passed meanwhile). Expiry is never
 * early: a request is expired from `expires_at` on, observed by the next transition, a read, or the alarm.
 *
 * The payer's coordinator keeps an inbox (`incoming_requests`): a row per request it admitted (which is where
 * the per-payer daily limit is counted) with the status last heard from the requester's coordinator, which
 * tells it of every change (`notify_pending` until it has heard).
 */
import { and, asc, count, desc, eq, gte, isNull, lt, lte, min, or, sql } from "drizzle-orm";
import type { DrizzleSqliteDODatabase } from "drizzle-orm/durable-sqlite";
import { lazily, placeholdersFor, setPlaceholdersFor } from "../db/prepared";
import { incomingRequestsTable, paymentRequestsTable, type PaymentRequestRow } from "./schema";

export type RequestStatus = PaymentRequestRow["status"];

/** A page position in a newest-first list: the `created_at_ms` and id of the last row shown. */
export interface ListPosition {
  created_at_ms: number;
  id: string;
}

export type ClaimRequestResult =
  | { code: "claimed" | "exists"; row: PaymentRequestRow }
  | { code: "request_not_open"; row: PaymentRequestRow }
  | { code: "not_found" }
  | { code: "forbidden" };

export type ChangeRequestResult =
  | { code: "changed"; row: PaymentRequestRow }
  | { code: "request_not_open"; row: PaymentRequestRow }
  | { code: "not_found" }
  | { code: "forbidden" };

/** Whether `row` is open and its time has come: it is expired, whatever storage says yet. */
export function isDue(row: PaymentRequestRow, now_ms: number): boolean {
  return row.status === "open" && row.claimed_by === null && now_ms >= row.expires_at_ms;
}

/** The requests this user made (the requester's side). Every method runs inside the caller's transaction. */
export class RequestStore {
  private readonly q: ReturnType<typeof prepareRequestStatements>;

  constructor(db: DrizzleSqliteDODatabase) {
    this.q = prepareRequestStatements(db);
  }

  /** Open requests not yet due: what REQUESTS_MAX_OPEN_PER_USER counts. */
  countOpen(now_ms: number): number {
    return this.q.countOpen.get({ now: now_ms })?.n ?? 0;
  }

  insert(rows: PaymentRequestRow[]): void {
    for (const row of rows) this.q.insert.run(row);
  }

  /** The request, with a due expiry written first, so every reader sees the one status it will keep. */
  get(id: string, now_ms: number): PaymentRequestRow | null {
    const row = this.q.byId.get({ id });
    if (row === undefined) return null;
    return isDue(row, now_ms) ? this.write({ ...row, status: "expired", resolved_at: iso(row.expires_at_ms), notify_pending: 1 }) : row;
  }

  /** The request as stored, without writing anything (for a full disk, where `get` cannot write its expiry). */
  peek(id: string): PaymentRequestRow | null {
    return this.q.byId.get({ id }) ?? null;
  }

  /** A pay by movement `movement_id` of the payer `payer_user_id` claims the request, if it is open and not due. */
  claim(id: string, payer_user_id: string, movement_id: string, now_ms: number): ClaimRequestResult {
    const row = this.get(id, now_ms);
    if (row === null) return { code: "not_found" };
    if (row.payer_user_id !== payer_user_id) return { code: "forbidden" };
    if (row.claimed_by === movement_id || (row.status === "paid" && row.transfer_id === movement_id)) return { code: "exists", row };
    if (row.status !== "open" || row.claimed_by !== null) return { code: "request_not_open", row };
    return { code: "claimed", row: this.write({ ...row, claimed_by: movement_id }) };
  }

  /** The pay was refused: the request is open again (expired, if its time has passed). Idempotent. */
  unclaim(id: string, movement_id: string, now_ms: number): PaymentRequestRow | null {
    const row = this.q.byId.get({ id });
    if (row === undefined || row.claimed_by !== movement_id) return row ?? null;
    const open = { ...row, claimed_by: null };
    if (!isDue(open, now_ms)) return this.write({ ...open, notify_pending: 1 });
    return this.write({ ...open, status: "expired", resolved_at: iso(row.expires_at_ms), notify_pending: 1 });
  }

  /** The pay moved the money: the request is `paid` by that transfer. Idempotent. */
  settle(id: string, movement_id: string, now_ms: number): PaymentRequestRow {
    const row = this.q.byId.get({ id });
    if (row?.status === "paid" && row.transfer_id === movement_id) return row;
    if (row === undefined || row.claimed_by !== movement_id)
      throw new Error(`invariant: request ${id} paid by ${movement_id} without its claim`);
    return this.write({ ...row, status: "paid", claimed_by: null, transfer_id: movement_id, resolved_at: iso(now_ms), notify_pending: 1 });
  }

  /** Decline (by the payer) or cancel (by the requester): only an open, unclaimed request that is not due. */
  resolve(id: string, to: "declined" | "cancelled", actor: { payer_user_id?: string }, now_ms: number): ChangeRequestResult {
    const row = this.get(id, now_ms);
    if (row === null) return { code: "not_found" };
    if (actor.payer_user_id !== undefined && row.payer_user_id !== actor.payer_user_id) return { code: "forbidden" };
    if (row.status !== "open" || row.claimed_by !== null) return { code: "request_not_open", row };
    return { code: "changed", row: this.write({ ...row, status: to, resolved_at: iso(now_ms), notify_pending: 1 }) };
  }

  /** Writes `expired` on up to `limit` due requests (the alarm's work); returns them. */
  expireDue(now_ms: number, limit: number): PaymentRequestRow[] {
    return this.q.due.all({ now: now_ms, limit }).map((row) => this.get(row.id, now_ms) ?? row);
  }

  /** When the next open request falls due, or null. */
  nextExpiry(): number | null {
    return this.q.nextExpiry.get()?.at ?? null;
  }

  /** Requests whose payer has not heard of the latest status. */
  unnotified(limit: number): PaymentRequestRow[] {
    return this.q.unnotified.all({ limit });
  }

  markNotified(row: PaymentRequestRow): void {
    // Only the status that was sent: a change made while the notice was on its way stays pending.
    this.q.markNotified.run({ id: row.id, status: row.status });
  }

  /** A page of this user's requests, newest first, optionally of one status. */
  list(status: RequestStatus | null, after: ListPosition | null, limit: number, now_ms: number): PaymentRequestRow[] {
    const rows = this.q.page.all({
      status,
      before_ms: after?.created_at_ms ?? Number.MAX_SAFE_INTEGER,
      before_id: after?.id ?? "\uffff",
      now: now_ms,
      limit,
    });
    return rows.map((row) => (isDue(row, now_ms) ? { ...row, status: "expired" as const, resolved_at: iso(row.expires_at_ms) } : row));
  }

  /**
   * The payers of this user's most recent requests, whether each was named by phone only, and the transfer that
   * paid it (null unless paid): the edge needs it to keep that payment from naming a payer known only by phone.
   */
  recentPayers(limit: number): { user_id: string; at_ms: number; by_phone: boolean; transfer_id: string | null }[] {
    return this.q.recentPayers.all({ limit }).map((r) => ({
      user_id: r.payer_user_id,
      at_ms: r.created_at_ms,
      by_phone: payerByPhone(r.payer),
      transfer_id: r.transfer_id,
    }));
  }

  /** Whether `transfer_id` paid one of this user's requests that named its payer by phone only. */
  paidByPhone(transfer_id: string): boolean {
    const row = this.q.paidBy.get({ transfer_id });
    return row !== undefined && payerByPhone(row.payer);
  }

  private write(row: PaymentRequestRow): PaymentRequestRow {
    this.q.update.run(row);
    return row;
  }
}

/** The payer's inbox of requests. Every method runs inside the caller's transaction. */
export class IncomingStore {
  private readonly q: ReturnType<typeof prepareIncomingStatements>;

  constructor(db: DrizzleSqliteDODatabase) {
    this.q = prepareIncomingStatements(db);
  }

  /**
   * Admits `ids` from requester `requester_id` if today's count stays within `max_per_day`; an id admitted
   * before is not counted twice. False (nothing written) past the limit.
   */
  admit(ids: string[], requester_id: string, max_per_day: number, now_ms: number): boolean {
    const day = iso(now_ms).slice(0, 10);
    const fresh = ids.filter((id) => this.q.byId.get({ id }) === undefined);
    if ((this.q.countDay.get({ day })?.n ?? 0) + fresh.length > max_per_day) return false;
    for (const id of fresh) this.q.insert.run({ id, requester_id, status: "admitted", day, created_at_ms: now_ms });
    return true;
  }

  /** Forgets admitted requests that were never created; a request already heard of stays. */
  drop(ids: string[]): void {
    this.q.dropAdmitted.run({ ids: JSON.stringify(ids) });
  }

  /** Records the status the requester's coordinator reports. */
  heard(id: string, requester_id: string, status: RequestStatus, now_ms: number): void {
    const row = this.q.byId.get({ id });
    if (row === undefined) {
      this.q.insert.run({ id, requester_id, status, day: iso(now_ms).slice(0, 10), created_at_ms: now_ms });
      return;
    }
    this.q.setStatus.run({ id, status });
  }

  /** The requesters of the most recent requests this user received (each knows the payer by handle). */
  recentRequesters(limit: number): { user_id: string; at_ms: number }[] {
    return this.q.recentRequesters.all({ limit }).map((r) => ({ user_id: r.requester_id, at_ms: r.created_at_ms }));
  }

  /** A page of the inbox, newest first, without requests still being created. */
  list(
    status: RequestStatus | null,
    after: ListPosition | null,
    limit: number,
  ): { id: string; requester_id: string; created_at_ms: number }[] {
    return this.q.page.all({
      status,
      before_ms: after?.created_at_ms ?? Number.MAX_SAFE_INTEGER,
      before_id: after?.id ?? "\uffff",
      limit,
    });
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** Rows before the position (newest first): an earlier time, or the same time and a smaller id. */
function beforePosition(created: typeof paymentRequestsTable.created_at_ms, id: typeof paymentRequestsTable.id) {
  const p = sql.placeholder;
  return or(lt(created, p("before_ms")), and(eq(created, p("before_ms")), lt(id, p("before_id"))));
}

function prepareRequestStatements(db: DrizzleSqliteDODatabase) {
  const p = sql.placeholder;
  const r = paymentRequestsTable;
  return lazily({
    byId: () =>
      db
        .select()
        .from(r)
        .where(eq(r.id, p("id")))
        .prepare(),
    insert: () => db.insert(r).values(placeholdersFor(r)).prepare(),
    update: () =>
      db
        .update(r)
        .set(setPlaceholdersFor(r))
        .where(eq(r.id, p("id")))
        .prepare(),
    countOpen: () =>
      db
        .select({ n: count() })
        .from(r)
        .where(and(eq(r.status, "open"), or(gte(r.expires_at_ms, p("now")), sql`${r.claimed_by} IS NOT NULL`)))
        .prepare(),
    due: () =>
      db
        .select()
        .from(r)
        .where(and(eq(r.status, "open"), isNull(r.claimed_by), lte(r.expires_at_ms, p("now"))))
        .orderBy(asc(r.expires_at_ms))
        .limit(p("limit"))
        .prepare(),
    nextExpiry: () =>
      db
        .select({ at: min(r.expires_at_ms) })
        .from(r)
        // A claimed request is resolved by its pay, never by the alarm: counting it would wake the alarm at a
        // time already past, again and again, for as long as the pay takes.
        .where(and(eq(r.status, "open"), isNull(r.claimed_by)))
        .prepare(),
    unnotified: () => db.select().from(r).where(eq(r.notify_pending, 1)).limit(p("limit")).prepare(),
    recentPayers: () =>
      db
        .select({ payer_user_id: r.payer_user_id, payer: r.payer, created_at_ms: r.created_at_ms, transfer_id: r.transfer_id })
        .from(r)
        .orderBy(desc(r.created_at_ms))
        .limit(p("limit"))
        .prepare(),
    paidBy: () =>
      db
        .select({ payer: r.payer })
        .from(r)
        .where(eq(r.transfer_id, p("transfer_id")))
        .prepare(),
    markNotified: () =>
      db
        .update(r)
        .set({ notify_pending: 0 })
        .where(and(eq(r.id, p("id")), eq(r.status, sql`${p("status")}`)))
        .prepare(),
    page: () =>
      db
        .select()
        .from(r)
        .where(and(beforePosition(r.created_at_ms, r.id), statusFilter(r.status, r.expires_at_ms, r.claimed_by)))
        .orderBy(desc(r.created_at_ms), desc(r.id))
        .limit(p("limit"))
        .prepare(),
  });
}

/**
 * The status filter of a list, as a reader sees statuses: an open request whose time has come counts as
 * expired before the alarm has written it.
 */
function statusFilter(
  status: typeof paymentRequestsTable.status,
  expires: typeof paymentRequestsTable.expires_at_ms,
  claimed: typeof paymentRequestsTable.claimed_by,
) {
  const p = sql.placeholder;
  return sql`(${p("status")} IS NULL
    OR (${p("status")} = 'open' AND ${status} = 'open' AND (${expires} > ${p("now")} OR ${claimed} IS NOT NULL))
    OR (${p("status")} = 'expired' AND (${status} = 'expired' OR (${status} = 'open' AND ${claimed} IS NULL AND ${expires} <= ${p("now")})))
    OR (${p("status")} NOT IN ('open', 'expired') AND ${status} = ${p("status")}))`;
}

function prepareIncomingStatements(db: DrizzleSqliteDODatabase) {
  const p = sql.placeholder;
  const i = incomingRequestsTable;
  return lazily({
    byId: () =>
      db
        .select()
        .from(i)
        .where(eq(i.id, p("id")))
        .prepare(),
    insert: () => db.insert(i).values(placeholdersFor(i)).prepare(),
    recentRequesters: () =>
      db
        .select({ requester_id: i.requester_id, created_at_ms: i.created_at_ms })
        .from(i)
        .where(sql`${i.status} <> 'admitted'`)
        .orderBy(desc(i.created_at_ms))
        .limit(p("limit"))
        .prepare(),
    dropAdmitted: () =>
      db
        .delete(i)
        .where(and(sql`${i.id} IN (SELECT value FROM json_each(${p("ids")}))`, eq(i.status, "admitted")))
        .prepare(),
    setStatus: () =>
      db
        .update(i)
        .set({ status: sql`${p("status")}` })
        .where(eq(i.id, p("id")))
        .prepare(),
    countDay: () =>
      db
        .select({ n: count() })
        .from(i)
        .where(eq(i.day, p("day")))
        .prepare(),
    page: () =>
      db
        .select({ id: i.id, requester_id: i.requester_id, created_at_ms: i.created_at_ms })
        .from(i)
        .where(
          and(
            or(lt(i.created_at_ms, p("before_ms")), and(eq(i.created_at_ms, p("before_ms")), lt(i.id, p("before_id")))),
            sql`${i.status} <> 'admitted'`,
            sql`(${p("status")} IS NULL OR ${i.status} = ${p("status")} OR (${p("status")} = 'expired' AND ${i.status} = 'open'))`,
          ),
        )
        .orderBy(desc(i.created_at_ms), desc(i.id))
        .limit(p("limit"))
        .prepare(),
  });
}

/** Whether a request's stored payer (JSON) names them by phone only. */
function payerByPhone(payer: string): boolean {
  return payer.startsWith('{"phone"');
}
