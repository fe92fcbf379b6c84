/**
 * Refund rooms: how much of each transfer this user sent is still refundable. The coordinator that owns a
 * transfer is the one place that decides on its refunds, so "the sum of refunds never passes the amount" is
 * a read and a write in one synchronous transaction of one object, whatever number of refunds race from however
 * many of the recipient's devices. A refund claims its room before any money moves; the claim becomes
 * `succeeded` when the refund's money has moved, or `released` (giving the room back) when it was refused, for
 * lack of funds say. Claims are kept by refund id, so a refund re-run after a crash finds its own claim: the
 * same room, or the same refusal.
 */
import { and, eq, inArray, sql, sum } from "drizzle-orm";
import type { DrizzleSqliteDODatabase } from "drizzle-orm/durable-sqlite";
import { lazily } from "../db/prepared";
import { assertAmount } from "../domain/money";
import type { MovementRow } from "./schema";
import { refundRoomsTable, type RefundRoomRow } from "./schema";

/** Who asks for a refund: the user and the wallets they own. */
export interface Requester {
  user_id: string;
  wallet_ids: string[];
}

export interface ClaimRefundInput {
  transfer_id: string;
  refund_id: string;
  amount: number;
  requester: Requester;
}

/** A claim's answer: the room and where the refund's money goes, or why there is none. */
export type ClaimRefundResult =
  | { code: "claimed" | "exists"; from_wallet_id: string; to_wallet_id: string; currency: string }
  | { code: "released"; reason: string }
  | { code: "not_found" }
  | { code: "forbidden" }
  | { code: "transfer_not_refundable" }
  | { code: "refund_exceeds_transfer" };

export type SettleRefundResult = { code: "settled" | "exists" };
/** A settlement as the refund's coordinator hears it: with the refunded transfer as its event shows it (JSON). */
export type SettledRefund = SettleRefundResult & { refunded_transfer: string };
export type ReleaseRefundResult = { code: "released" | "exists" };

/** The refund rooms of one coordinator's transfers. Every method runs inside the caller's transaction. */
export class RefundRooms {
  private readonly q: ReturnType<typeof prepareStatements>;

  constructor(db: DrizzleSqliteDODatabase) {
    this.q = prepareStatements(db);
  }

  /**
   * Claims `amount` of transfer `t` for refund `refund_id`, if the requester is the transfer's recipient, the
   * transfer succeeded and is not itself a refund, and the claimed and succeeded refunds leave room.
   */
  claim(t: MovementRow | null, input: ClaimRefundInput, now_ms: number): ClaimRefundResult {
    assertAmount(input.amount);
    if (t === null || t.kind !== "transfer") return { code: "not_found" };
    const own = this.q.byId.get({ refund_id: input.refund_id });
    if (own !== undefined) return this.replay(t, own, input);
    if (t.user_id === input.requester.user_id) return { code: "forbidden" };
    if (t.to_wallet_id === null || !input.requester.wallet_ids.includes(t.to_wallet_id)) return { code: "not_found" };
    if (t.state !== "succeeded" || t.refund_of !== null || t.from_wallet_id === null || t.currency === null)
      return { code: "transfer_not_refundable" };
    if (this.taken(t.id) + input.amount > t.amount) return { code: "refund_exceeds_transfer" };
    this.q.insert.run({ refund_id: input.refund_id, transfer_id: t.id, amount: input.amount, state: "claimed", created_at_ms: now_ms });
    return { code: "claimed", from_wallet_id: t.to_wallet_id, to_wallet_id: t.from_wallet_id, currency: t.currency };
  }

  /** The refund's money has moved: its claim counts toward `refunded_amount`. */
  settle(refund_id: string): SettleRefundResult {
    const row = this.q.byId.get({ refund_id });
    if (row === undefined || row.state === "released") throw new Error(`invariant: refund ${refund_id} settled without a live claim`);
    if (row.state === "succeeded") return { code: "exists" };
    this.q.setState.run({ refund_id, state: "succeeded", reason: null });
    return { code: "settled" };
  }

  /** The refund was refused after its claim: the room is given back, and the refusal is kept for re-runs. */
  release(refund_id: string, reason: string): ReleaseRefundResult {
    const row = this.q.byId.get({ refund_id });
    if (row === undefined) throw new Error(`invariant: refund ${refund_id} released without a claim`);
    if (row.state === "succeeded") throw new Error(`invariant: refund ${refund_id} released after it succeeded`);
    if (row.state === "released") return { code: "exists" };
    this.q.setState.run({ refund_id, state: "released", reason });
    return { code: "released" };
  }

  /** The sum of the succeeded refunds of transfer `transfer_id`: its `refunded_amount`. */
  refunded(transfer_id: string): number {
    return Number(this.q.sumOf.get({ transfer_id, states: JSON.stringify(["succeeded"]) })?.total ?? 0);
  }

  private taken(transfer_id: string): number {
    return Number(this.q.sumOf.get({ transfer_id, states: JSON.stringify(["claimed", "succeeded"]) })?.total ?? 0);
  }

  private replay(t: MovementRow, own: RefundRoomRow, input: ClaimRefundInput): ClaimRefundResult {
    if (own.transfer_id !== t.id || own.amount !== input.amount)
      throw new Error(`invariant: refund ${own.refund_id} was claimed for ${own.transfer_id} ${own.amount}`);
    if (own.state === "released") return { code: "released", reason: own.release_reason ?? "released" };
    if (t.to_wallet_id === null || t.from_wallet_id === null || t.currency === null)
      throw new Error(`invariant: refunded transfer ${t.id} has no wallets`);
    return { code: "exists", from_wallet_id: t.to_wallet_id, to_wallet_id: t.from_wallet_id, currency: t.currency };
  }
}

function prepareStatements(db: DrizzleSqliteDODatabase) {
  const p = sql.placeholder;
  const r = refundRoomsTable;
  return lazily({
    byId: () =>
      db
        .select()
        .from(r)
        .where(eq(r.refund_id, p("refund_id")))
        .prepare(),
    insert: () =>
      db
        .insert(r)
        .values({
          refund_id: p("refund_id"),
          transfer_id: p("transfer_id"),
          amount: p("amount"),
          state: p("state"),
          release_reason: null,
          created_at_ms: p("created_at_ms"),
        })
        .prepare(),
    setState: () =>
      db
        .update(r)
        .set({ state: sql`${p("state")}`, release_reason: sql`${p("reason")}` })
        .where(eq(r.refund_id, p("refund_id")))
        .prepare(),
    sumOf: () =>
      db
        .select({ total: sum(r.amount) })
        .from(r)
        .where(and(eq(r.transfer_id, p("transfer_id")), inArray(r.state, sql`(SELECT value FROM json_each(${p("states")}))`)))
        .prepare(),
  });
}
