/**
 * Property test of the payment request state machine (coordinator/payment-requests.ts) in a real Durable
 * Object's SQLite: random interleavings of claims, unclaims and settlements by several pays, declines,
 * cancels and the clock passing the expiry. After every step: a request leaves `open` at most once and never
 * comes back; `paid` names a pay that held the claim; a claim exists only on an open request; nothing is
 * expired before its time, and nothing past its time is paid or claimed afresh.
 */
import { runInDurableObject } from "cloudflare:test";
import { drizzle } from "drizzle-orm/durable-sqlite";
import fc from "fast-check";
import { describe, it } from "vitest";
import { RequestStore } from "../../src/coordinator/payment-requests";
import { COORDINATOR_MIGRATIONS, type PaymentRequestRow } from "../../src/coordinator/schema";
import { migrate } from "../../src/db/do-migrations";
import { newRequestId, newUserId } from "../../src/domain/ids";
import type { TransferCoordinator } from "../../src/transfer-coordinator";
import { coordinatorStub } from "./helpers";

type Op = { op: "claim" | "unclaim" | "settle"; pay: number } | { op: "decline" } | { op: "cancel" } | { op: "tick"; ms: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constantFrom("claim" as const, "unclaim" as const, "settle" as const), pay: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ op: fc.constant("decline" as const) }),
  fc.record({ op: fc.constant("cancel" as const) }),
  fc.record({ op: fc.constant("tick" as const), ms: fc.integer({ min: 0, max: 70_000 }) }),
);

const PAYER = "usr_payer";
const START_MS = 1_800_000_000_000;
const LIFETIME_MS = 60_000;

function newRow(requester: string): PaymentRequestRow {
  return {
    id: newRequestId(requester),
    status: "open",
    requester: JSON.stringify({ handle: "a", display_name: "A" }),
    requester_wallet_id: "wal_a",
    payer_user_id: PAYER,
    payer: JSON.stringify({ handle: "b", display_name: "B" }),
    amount: 100,
    currency: "USD",
    memo: null,
    split_id: null,
    created_at: new Date(START_MS).toISOString(),
    created_at_ms: START_MS,
    expires_at_ms: START_MS + LIFETIME_MS,
    resolved_at: null,
    transfer_id: null,
    claimed_by: null,
    notify_pending: 1,
  };
}

/**
 * Throws at once: `expect` inside `runInDurableObject` does not fail the property (it runs in the object's
 * context), so the property's checks are plain throws.
 */
function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(what);
}

function throwsInvariant(run: () => unknown): boolean {
  try {
    run();
    return false;
  } catch (error) {
    return error instanceof Error && error.message.includes("invariant");
  }
}

describe("payment request state machine", () => {
  it("leaves open at most once, pays only its claimant, and never expires early or pays late", async () => {
    const requester = newUserId();
    await runInDurableObject(coordinatorStub(requester), (_instance: TransferCoordinator, state) => {
      migrate(state.storage, COORDINATOR_MIGRATIONS);
      const store = new RequestStore(drizzle(state.storage));
      fc.assert(
        fc.property(fc.array(opArb, { maxLength: 40 }), (ops) => {
          const row = newRow(requester);
          store.insert([row]);
          let now = START_MS;
          let leftOpen: string | null = null;
          const settled = new Set<string>();
          for (const o of ops) {
            const before = store.get(row.id, now) as PaymentRequestRow;
            const pay = "pay" in o ? `trf_pay_${o.pay}` : "";
            if (o.op === "tick") now += o.ms;
            else if (o.op === "claim") {
              const r = store.claim(row.id, PAYER, pay, now);
              if (r.code === "claimed") {
                check(before.status === "open" && before.claimed_by === null, "claimed only when open and unclaimed");
                check(now < row.expires_at_ms, `claimed ${now - row.expires_at_ms} ms past the end`);
              }
            } else if (o.op === "unclaim") store.unclaim(row.id, pay, now);
            else if (o.op === "settle") {
              if (before.claimed_by === pay || (before.status === "paid" && before.transfer_id === pay)) {
                store.settle(row.id, pay, now);
                settled.add(pay);
              } else
                check(
                  throwsInvariant(() => store.settle(row.id, pay, now)),
                  "settled without the claim",
                );
            } else
              store.resolve(row.id, o.op === "decline" ? "declined" : "cancelled", o.op === "decline" ? { payer_user_id: PAYER } : {}, now);
            const after = store.get(row.id, now) as PaymentRequestRow;
            if (after.status !== "open") {
              leftOpen ??= after.status;
              check(after.status === leftOpen, `left open as ${leftOpen}, now ${after.status}`);
              check(after.claimed_by === null && after.resolved_at !== null, "a resolved request holds no claim and has its time");
            }
            if (after.status === "paid") check(settled.has(after.transfer_id ?? ""), "paid by a pay that settled its claim");
            if (after.status === "expired") check(Date.parse(after.resolved_at ?? "") >= row.expires_at_ms, "expired at its time");
            check(now >= row.expires_at_ms || after.status !== "expired", "expired early");
          }
        }),
        { numRuns: 1_000 },
      );
    });
  });
});
