/**
 * Movement rows: building one when a movement starts, its row once it has ended, the contract's view of it,
 * the outcome it replays, who may read it, and every query the coordinator runs on them.
 */
import { and, asc, count, desc, eq, isNotNull, lt, lte, min, sql } from "drizzle-orm";
import type { DrizzleSqliteDODatabase } from "drizzle-orm/durable-sqlite";
import { lazily, placeholdersFor, setPlaceholdersFor } from "../db/prepared";
import { newMovementId, type MovementKind } from "../domain/ids";
import type { MovementOutcome, MovementRequestBase, MovementView } from "./rpc";
import { movementsTable, type MovementRow } from "./schema";
import type { Decision } from "./steps";
import { jittered } from "../domain/delays";

/** The fields that differ by kind of movement. */
export type MovementFields = Pick<MovementRow, "from_wallet_id" | "to_wallet_id" | "recipient" | "memo"> &
  Partial<Pick<MovementRow, "refund_of" | "payment_request_id">>;

/** A new movement, `started`, with its key: the intent that recovery resumes until it ends. */
export function newMovementRow(
  kind: MovementKind,
  req: MovementRequestBase & { amount: number },
  fields: MovementFields,
  owned_wallet_ids: string[],
  now_ms: number,
  recovery_delay_ms: number,
): MovementRow {
  return {
    id: newMovementId(kind, req.user_id),
    kind,
    user_id: req.user_id,
    state: "started",
    idempotency_key: req.idempotency_key,
    request_hash: req.request_hash,
    request_id: req.request_id,
    ...fields,
    refund_of: fields.refund_of ?? null,
    payment_request_id: fields.payment_request_id ?? null,
    amount: req.amount,
    currency: null,
    failure_code: null,
    owned_wallet_ids: JSON.stringify(owned_wallet_ids),
    entries: null,
    created_at: new Date(now_ms).toISOString(),
    created_at_ms: now_ms,
    completed_at: null,
    attempts: 0,
    next_attempt_at_ms: now_ms + jittered(recovery_delay_ms),
    outbox_pending: 0,
  };
}

/** The row of a movement that ended with `d`; `outbox_pending` says whether D1 is still owed it once written. */
export function finishedRow(m: MovementRow, d: Decision, outbox_pending: 0 | 1): MovementRow {
  return {
    ...m,
    state: d.status,
    failure_code: d.failure_code,
    from_wallet_id: d.from_wallet_id ?? m.from_wallet_id,
    to_wallet_id: d.to_wallet_id ?? m.to_wallet_id,
    currency: d.currency,
    entries: JSON.stringify(d.entries),
    completed_at: d.completed_at ?? new Date().toISOString(),
    outbox_pending,
  };
}

/** Whether the requester sent the movement or owns the wallet it paid. */
export function isParty(m: MovementRow, requester: { user_id: string; wallet_ids: string[] }): boolean {
  return m.user_id === requester.user_id || (m.to_wallet_id !== null && requester.wallet_ids.includes(m.to_wallet_id));
}

/**
 * The recipient's wallet id as the sender may see it. A transfer that did not succeed shows it only when the
 * sender named the wallet id themselves: sent to a handle or a phone number and refused (for lack of funds,
 * say), it would otherwise tell the sender which wallet, and so which user, a phone number belongs to, with no
 * money moved (issue 19). The audit row keeps it for the auditor.
 */
function visibleRecipientWallet(m: MovementRow): string | null {
  if (m.state === "succeeded" || m.to_wallet_id === null || m.kind !== "transfer") return m.to_wallet_id;
  const named = m.recipient === null ? null : (JSON.parse(m.recipient) as { wallet_id?: unknown }).wallet_id;
  return named === m.to_wallet_id ? m.to_wallet_id : null;
}

/** The contract's view of a movement row. */
export function movementView(m: MovementRow): MovementView {
  return {
    id: m.id,
    kind: m.kind,
    status: m.state === "started" ? "pending" : m.state,
    from_wallet_id: m.from_wallet_id,
    to_wallet_id: visibleRecipientWallet(m),
    amount: m.amount,
    currency: m.currency,
    memo: m.memo,
    failure_code: m.failure_code as MovementView["failure_code"],
    request_id: m.request_id,
    created_at: m.created_at,
    completed_at: m.completed_at,
    refund_of: m.refund_of,
    payment_request_id: m.payment_request_id,
    refunded_amount: 0,
  };
}

/** The stored outcome of a finished movement. */
export function outcomeOf(m: MovementRow, replayed: boolean): MovementOutcome {
  const movement = movementView(m);
  if (m.state === "succeeded") return { code: "created", replayed, movement };
  if (m.state === "failed" && movement.failure_code !== null) return { code: movement.failure_code, replayed, movement };
  return { code: "unavailable" };
}

/** Every query the coordinator runs more than once, each built on its first use and kept (see db/prepared.ts). */
/** The prepared statements of a coordinator's movements, as every module that reads or writes them takes them. */
export type MovementStatements = ReturnType<typeof prepareMovementStatements>;

/** Whether a transfer's stored recipient (JSON) named them by phone (it then carries the phone's index). */
export function sentToPhone(recipient: string | null): boolean {
  return recipient?.includes('"phone_index"') === true;
}

export function prepareMovementStatements(db: DrizzleSqliteDODatabase) {
  const p = sql.placeholder;
  const m = movementsTable;
  return lazily({
    byId: () =>
      db
        .select()
        .from(m)
        .where(eq(m.id, p("id")))
        .prepare(),
    byKey: () =>
      db
        .select()
        .from(m)
        .where(eq(m.idempotency_key, p("key")))
        .prepare(),
    insertMovement: () => db.insert(m).values(placeholdersFor(m)).prepare(),
    updateMovement: () =>
      db
        .update(m)
        .set(setPlaceholdersFor(m))
        .where(eq(m.id, p("id")))
        .prepare(),
    due: () =>
      db
        .select()
        .from(m)
        .where(and(eq(m.state, "started"), lte(m.next_attempt_at_ms, p("now"))))
        .orderBy(asc(m.next_attempt_at_ms))
        .limit(p("limit"))
        .prepare(),
    outbox: () => db.select().from(m).where(eq(m.outbox_pending, 1)).orderBy(asc(m.created_at_ms)).limit(p("limit")).prepare(),
    delivered: () =>
      db
        .update(m)
        .set({ outbox_pending: 0 })
        .where(sql`${m.id} IN (SELECT value FROM json_each(${p("ids")}))`)
        .prepare(),
    forgetKeys: () =>
      db
        .update(m)
        .set({ idempotency_key: null })
        .where(and(isNotNull(m.idempotency_key), lt(m.created_at_ms, p("cutoff"))))
        .prepare(),
    recentSent: () =>
      db
        .select({ id: m.id, to_wallet_id: m.to_wallet_id, recipient: m.recipient, created_at_ms: m.created_at_ms, refund_of: m.refund_of })
        .from(m)
        .where(and(eq(m.kind, "transfer"), eq(m.state, "succeeded")))
        .orderBy(desc(m.created_at_ms))
        .limit(p("limit"))
        .prepare(),
    countStarted: () => db.select({ n: count() }).from(m).where(eq(m.state, "started")).prepare(),
    countOutbox: () => db.select({ n: count() }).from(m).where(eq(m.outbox_pending, 1)).prepare(),
    nextDue: () =>
      db
        .select({ at: min(m.next_attempt_at_ms) })
        .from(m)
        .where(eq(m.state, "started"))
        .prepare(),
    oldestKey: () =>
      db
        .select({ at: min(m.created_at_ms) })
        .from(m)
        .where(isNotNull(m.idempotency_key))
        .prepare(),
  });
}
