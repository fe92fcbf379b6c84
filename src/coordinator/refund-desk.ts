/**
 * The RPC bodies of the refund rooms of this user's transfers, called by the refunder's coordinator (or by this
 * one, for a refund of its own transfer; see peer-ports.ts): claim room before any money moves, settle it once
 * the money has, or release it after a refusal. The rooms themselves are kept by coordinator/refund-rooms.ts.
 */
import type { EventRelay } from "./event-relay";
import type { EventStore } from "./events";
import type { MovementDriver } from "./movement-driver";
import { movementObject } from "./movement-events";
import type { ClaimRefundInput, ClaimRefundResult, RefundRooms, SettledRefund } from "./refund-rooms";
import type { MovementRow } from "./schema";

/** What the refund rooms' RPC bodies need from their coordinator. */
export interface RefundDeskPorts {
  storage: DurableObjectStorage;
  rooms: RefundRooms;
  events: EventStore;
  relay: EventRelay;
  /** Finishes a transfer still running here before its room is decided. */
  driver: MovementDriver;
  /** A movement as the coordinator reads it: in memory if decided there, else in storage (null: none). */
  movement: (id: string) => MovementRow | null;
}

/** Claims, settles and releases refund rooms of this user's transfers, each in one synchronous transaction. */
export class RefundDesk {
  constructor(private readonly ports: RefundDeskPorts) {}

  /** Claims room for a refund of one of this user's transfers. */
  async claim(input: ClaimRefundInput): Promise<ClaimRefundResult> {
    const { movement, driver, storage, rooms } = this.ports;
    let t = movement(input.transfer_id);
    if (t === null) return { code: "not_found" };
    // A transfer still running here (after a restart, before recovery reached it) has no recipient yet: finish
    // it first, then decide. If it cannot finish now, the refund is retried later (it is not refused).
    if (t.state === "started") {
      await driver.drive(t, false);
      t = movement(input.transfer_id);
      if (t === null || t.state === "started") throw new Error(`transfer ${input.transfer_id} is still running; the refund waits`);
    }
    return storage.transactionSync(() => rooms.claim(t, input, Date.now()));
  }

  /**
   * The refund's money has moved; its room counts toward the transfer's `refunded_amount`. The transfer's sender
   * (this user) gets `transfer.refunded` in the same transaction, with the transfer as it stands after this
   * refund; the refund's coordinator gets that body back, for its own user's copy.
   */
  settle(refund_id: string, transfer_id: string): SettledRefund {
    const { movement, storage, rooms, events, relay } = this.ports;
    const t = movement(transfer_id);
    if (t === null) throw new Error(`invariant: settling refund ${refund_id} of unknown transfer ${transfer_id}`);
    const change_key = `${refund_id}:refunded`;
    return storage.transactionSync(() => {
      const result = rooms.settle(refund_id);
      const kept = events.byKey(change_key);
      if (kept !== null) return { ...result, refunded_transfer: kept.object };
      const object = movementObject(t, rooms.refunded(t.id));
      if (result.code === "settled") relay.appendOwn([{ change_key, type: "transfer.refunded", object }], Date.now());
      return { ...result, refunded_transfer: object };
    });
  }

  /** The refund was refused after its claim; its room is given back. */
  release(refund_id: string, reason: string): { code: "released" | "exists" } {
    return this.ports.storage.transactionSync(() => this.ports.rooms.release(refund_id, reason));
  }
}
