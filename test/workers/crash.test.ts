/**
 * The crash-point sweep. For every point between two steps of a transfer (and of a refused transfer, a
 * deposit and a withdrawal), in both failure modes (an exception out of the step, or `ctx.abort()` of the
 * coordinator), the test crashes the coordinator there, evicts the coordinator and both wallets, lets the
 * alarms recover, and then checks: the money moved exactly once, nothing is held, the chains are intact and
 * mirrored in D1, there is exactly one audit row, a retry with the key answers the outcome, and running the
 * alarm again changes nothing. Every durable change also has its events exactly once, for each party
 * (checked in the coordinators' own tables, with their seqs gapless).
 */
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { FailMode, Failpoint } from "../../src/coordinator/rpc";
import { tokenHash } from "../../src/auth/sessions";
import type { TransferCoordinator } from "../../src/transfer-coordinator";
import {
  api,
  assertLedger,
  auditRows,
  coordinatorStub,
  deposit,
  register,
  settle,
  runAlarmAfterReset,
  walletStub,
  type ApiResponse,
  type TestUser,
} from "./helpers";

const TRANSFER_POINTS: Failpoint[] = [
  "after_start",
  "after_resolve",
  "after_reserve",
  "after_credit",
  "after_capture",
  "after_events",
  "after_finish",
  "before_d1_write",
  "after_d1_write",
];
const MODES: FailMode[] = ["throw", "abort"];

async function arm(user: TestUser, point: Failpoint, mode: FailMode): Promise<void> {
  await runInDurableObject(coordinatorStub(user.id), (instance: TransferCoordinator) => {
    instance.failpoints.set(point, mode);
  });
}

async function evict(stubs: DurableObjectStub[]): Promise<void> {
  // An object that is not running cannot be evicted; that is the state we want anyway. An object aborted
  // in the background (an outbox flush after the response) makes the harness wait for its drain timeout, so
  // each eviction is given two seconds and then left to finish on its own.
  for (const stub of stubs) {
    const evicted = evictDurableObject(stub).catch(() => undefined);
    await Promise.race([evicted, new Promise((r) => setTimeout(r, 2_000))]);
  }
}

/** Sends the same request until its outcome is known (not 409 in progress, not 5xx), as a client would. */
async function untilKnown(send: () => Promise<ApiResponse>): Promise<ApiResponse> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const res = await send().catch(() => null);
    if (res !== null && res.status < 500 && !(res.status === 409 && res.text.includes("idempotency_in_progress"))) return res;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("outcome never became known");
}

async function versions(walletIds: string[]): Promise<number[]> {
  const out: number[] = [];
  for (const id of walletIds) {
    const snap = await walletStub(id).snapshot();
    out.push(snap.code === "ok" ? snap.wallet.version : -1);
  }
  return out;
}

async function crashAndRecover(
  sender: TestUser,
  others: TestUser[],
  point: Failpoint,
  mode: FailMode,
  send: () => Promise<ApiResponse>,
): Promise<ApiResponse> {
  await arm(sender, point, mode);
  await send().catch(() => null);
  const users = [sender, ...others];
  await evict([coordinatorStub(sender.id), ...users.map((u) => walletStub(u.wallet_id))]);
  await settle(users.map((u) => u.id));
  const answer = await untilKnown(send);
  await settle(users.map((u) => u.id));
  return answer;
}

/**
 * The types of the user's events about `object_id` (sorted), after asserting the user's seqs are 1..n: every
 * durable change has its events exactly once, however the movement crashed and was recovered.
 */
async function eventTypes(user: TestUser, object_id: string): Promise<string[]> {
  const rows = await runInDurableObject(coordinatorStub(user.id), (_instance: TransferCoordinator, state) =>
    state.storage.sql.exec<{ seq: number; type: string; object: string }>("SELECT seq, type, object FROM events ORDER BY seq").toArray(),
  );
  expect(rows.map((r) => r.seq)).toEqual(rows.map((_, i) => i + 1));
  return rows
    .filter((r) => (JSON.parse(r.object) as { id: string }).id === object_id)
    .map((r) => r.type)
    .sort();
}

async function assertAlarmIsNoOp(users: TestUser[]): Promise<void> {
  const before = await versions(users.map((u) => u.wallet_id));
  for (const u of users) await runAlarmAfterReset(u.id);
  expect(await versions(users.map((u) => u.wallet_id))).toEqual(before);
}

describe.each(MODES)("crash sweep (%s)", (mode) => {
  it.each(TRANSFER_POINTS)("a transfer crashed at %s completes exactly once", async (point) => {
    const a = await register();
    const b = await register();
    await deposit(a, 10_000);
    await settle([a.id]);
    const key = crypto.randomUUID();
    const send = (): Promise<ApiResponse> =>
      api("/transfers", { token: a.token, key, body: { from_wallet_id: a.wallet_id, to: { handle: b.handle }, amount: 1_234 } });
    const answer = await crashAndRecover(a, [b], point, mode, send);
    expect(answer.status, answer.text).toBe(201);
    const id = (answer.json as { transfer: { id: string } }).transfer.id;
    const check = await assertLedger([a.wallet_id, b.wallet_id]);
    expect(check.wallets.map((w) => w.balance)).toEqual([8_766, 1_234]);
    expect(await auditRows(id)).toEqual([expect.objectContaining({ status: "succeeded", amount: 1_234 })]);
    const replay = await send();
    expect(replay.text).toBe(answer.text);
    await assertAlarmIsNoOp([a, b]);
    expect(await eventTypes(a, id)).toEqual(["transfer.succeeded"]);
    expect(await eventTypes(b, id)).toEqual(["transfer.succeeded"]);
  });

  it.each<Failpoint>(["after_reserve", "after_credit", "after_release", "after_finish"])(
    "a refused transfer crashed at %s releases its hold exactly once",
    async (point) => {
      const a = await register();
      const e = await register({ currency: "EUR" });
      await deposit(a, 10_000);
      await settle([a.id]);
      const key = crypto.randomUUID();
      const send = (): Promise<ApiResponse> =>
        api("/transfers", { token: a.token, key, body: { from_wallet_id: a.wallet_id, to: { wallet_id: e.wallet_id }, amount: 500 } });
      const answer = await crashAndRecover(a, [e], point, mode, send);
      expect(answer.status, answer.text).toBe(422);
      expect(answer.text).toContain("currency_mismatch");
      const id = (answer.json as { error: { transfer_id: string } }).error.transfer_id;
      const check = await assertLedger([a.wallet_id, e.wallet_id]);
      expect(check.wallets.map((w) => w.balance)).toEqual([10_000, 0]);
      expect(await auditRows(id)).toEqual([expect.objectContaining({ status: "failed", failure_code: "currency_mismatch" })]);
      await assertAlarmIsNoOp([a, e]);
      expect(await eventTypes(a, id)).toEqual(["transfer.failed"]);
      expect(await eventTypes(e, id)).toEqual([]);
    },
  );

  it.each<Failpoint>(["after_start", "after_credit", "after_finish", "before_d1_write", "after_d1_write"])(
    "a deposit crashed at %s lands exactly once",
    async (point) => {
      const a = await register();
      const key = crypto.randomUUID();
      const send = (): Promise<ApiResponse> => api(`/wallets/${a.wallet_id}/deposits`, { token: a.token, key, body: { amount: 777 } });
      const answer = await crashAndRecover(a, [], point, mode, send);
      expect(answer.status, answer.text).toBe(201);
      const check = await assertLedger([a.wallet_id]);
      expect(check.wallets[0]?.balance).toBe(777);
      await assertAlarmIsNoOp([a]);
      expect(await eventTypes(a, (answer.json as { deposit: { id: string } }).deposit.id)).toEqual(["deposit.succeeded"]);
    },
  );

  it.each<Failpoint>(["after_start", "after_capture", "after_finish"])(
    "a withdrawal crashed at %s pays out exactly once",
    async (point) => {
      const a = await register();
      await deposit(a, 1_000);
      await settle([a.id]);
      const key = crypto.randomUUID();
      const send = (): Promise<ApiResponse> => api(`/wallets/${a.wallet_id}/withdrawals`, { token: a.token, key, body: { amount: 300 } });
      const answer = await crashAndRecover(a, [], point, mode, send);
      expect(answer.status, answer.text).toBe(201);
      const check = await assertLedger([a.wallet_id]);
      expect(check.wallets[0]?.balance).toBe(700);
      await assertAlarmIsNoOp([a]);
      expect(await eventTypes(a, (answer.json as { withdrawal: { id: string } }).withdrawal.id)).toEqual(["withdrawal.succeeded"]);
    },
  );
});

describe.each(MODES)("refund crash sweep (%s)", (mode) => {
  async function received(): Promise<{ a: TestUser; b: TestUser; id: string }> {
    const a = await register();
    const b = await register();
    await deposit(a, 5_000);
    const sent = await api("/transfers", {
      token: a.token,
      key: crypto.randomUUID(),
      body: { from_wallet_id: a.wallet_id, to: { handle: b.handle }, amount: 1_000 },
    });
    expect(sent.status).toBe(201);
    await settle([a.id, b.id]);
    return { a, b, id: (sent.json as { transfer: { id: string } }).transfer.id };
  }

  const refundedAmount = async (a: TestUser, id: string): Promise<number> =>
    ((await api(`/transfers/${id}`, { token: a.token })).json as { transfer: { refunded_amount: number } }).transfer.refunded_amount;

  it.each<Failpoint>(["after_start", "after_claim", "after_reserve", "after_credit", "after_capture", "after_finish", "before_d1_write"])(
    "a refund crashed at %s gives money back exactly once and settles its room",
    async (point) => {
      const { a, b, id } = await received();
      const key = crypto.randomUUID();
      const send = (): Promise<ApiResponse> => api(`/transfers/${id}/refunds`, { token: b.token, key, body: { amount: 400 } });
      const answer = await crashAndRecover(b, [a], point, mode, send);
      expect(answer.status, answer.text).toBe(201);
      const check = await assertLedger([a.wallet_id, b.wallet_id]);
      expect(check.wallets.map((w) => w.balance)).toEqual([4_400, 600]);
      expect(await refundedAmount(a, id)).toBe(400);
      const rid = (answer.json as { transfer: { id: string } }).transfer.id;
      expect(await auditRows(rid)).toEqual([expect.objectContaining({ status: "succeeded", refund_of: id })]);
      expect((await send()).text).toBe(answer.text);
      await assertAlarmIsNoOp([a, b]);
      for (const user of [a, b]) {
        expect(await eventTypes(user, rid)).toEqual(["transfer.succeeded"]);
        expect(await eventTypes(user, id)).toEqual(["transfer.refunded", "transfer.succeeded"]);
      }
      // The room is exactly what succeeded: the rest is still refundable, and no more.
      expect((await api(`/transfers/${id}/refunds`, { token: b.token, key: crypto.randomUUID(), body: { amount: 601 } })).status).toBe(422);
    },
  );

  it.each<Failpoint>(["after_claim", "after_release", "after_finish"])(
    "a refund refused for funds, crashed at %s, takes no room",
    async (point) => {
      const { a, b, id } = await received();
      const c = await register();
      expect(
        (
          await api("/transfers", {
            token: b.token,
            key: crypto.randomUUID(),
            body: { from_wallet_id: b.wallet_id, to: { handle: c.handle }, amount: 900 },
          })
        ).status,
      ).toBe(201);
      const key = crypto.randomUUID();
      const send = (): Promise<ApiResponse> => api(`/transfers/${id}/refunds`, { token: b.token, key, body: { amount: 500 } });
      const answer = await crashAndRecover(b, [a, c], point, mode, send);
      expect(answer.status, answer.text).toBe(422);
      expect(answer.text).toContain("insufficient_funds");
      expect(await refundedAmount(a, id)).toBe(0);
      const check = await assertLedger([a.wallet_id, b.wallet_id, c.wallet_id]);
      expect(check.wallets.map((w) => w.balance)).toEqual([4_000, 100, 900]);
      const rid = (answer.json as { error: { transfer_id: string } }).error.transfer_id;
      expect(await eventTypes(b, rid)).toEqual(["transfer.failed"]);
      expect(await eventTypes(a, rid)).toEqual([]);
      expect(await eventTypes(a, id)).toEqual(["transfer.succeeded"]);
      expect((await api(`/transfers/${id}/refunds`, { token: b.token, key: crypto.randomUUID(), body: { amount: 100 } })).status).toBe(201);
      await assertAlarmIsNoOp([a, b, c]);
    },
  );
});

describe("refunds of a transfer that a crash left running", () => {
  it("a refund finds the transfer still started after a restart, finishes it, and refunds", async () => {
    const a = await register();
    const b = await register();
    await deposit(a, 5_000);
    await settle([a.id]);
    await arm(a, "after_finish", "abort");
    const sent = await api("/transfers", {
      token: a.token,
      key: crypto.randomUUID(),
      body: { from_wallet_id: a.wallet_id, to: { handle: b.handle }, amount: 800 },
    }).catch(() => null);
    expect(sent?.status ?? 503).not.toBe(201);
    await evict([coordinatorStub(a.id)]);
    const entry = (await walletStub(b.wallet_id).entriesAfter(0, 10))[0];
    if (entry === undefined) throw new Error("the credit did not happen");
    const refund = await untilKnown(() =>
      api(`/transfers/${entry.transfer_id}/refunds`, { token: b.token, key: "r1", body: { amount: 300 } }),
    );
    expect(refund.status, refund.text).toBe(201);
    await settle([a.id, b.id]);
    const check = await assertLedger([a.wallet_id, b.wallet_id]);
    expect(check.wallets.map((w) => w.balance)).toEqual([4_500, 500]);
  });
});

describe("recovery without a retry", () => {
  it("the alarm alone finishes a crashed transfer, and the later retry replays it", async () => {
    const a = await register();
    const b = await register();
    await deposit(a, 5_000);
    await settle([a.id]);
    await arm(a, "after_reserve", "throw");
    const key = crypto.randomUUID();
    const send = (): Promise<ApiResponse> =>
      api("/transfers", { token: a.token, key, body: { from_wallet_id: a.wallet_id, to: { handle: b.handle }, amount: 100 } });
    const first = await send();
    expect(first.status).toBe(503);
    expect(first.headers.get("retry-after")).toBe("1");
    // The failed run was deferred (MovementDriver's deferRecovery): counted, so the next one backs off further.
    const row = await runInDurableObject(coordinatorStub(a.id), (_instance: TransferCoordinator, state) =>
      state.storage.sql.exec<{ attempts: number }>("SELECT attempts FROM movements WHERE idempotency_key = ?", key).one(),
    );
    expect(row.attempts).toBe(1);
    const held = await walletStub(a.wallet_id).snapshot();
    expect(held.code === "ok" && held.wallet.held).toBe(100);
    await settle([a.id, b.id]);
    const retry = await send();
    expect(retry.status).toBe(201);
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    const check = await assertLedger([a.wallet_id, b.wallet_id]);
    expect(check.wallets.map((w) => w.balance)).toEqual([4_900, 100]);
  });

  it("a retry of a key nobody is driving finishes the movement for its caller at once, instead of 409", async () => {
    const a = await register();
    const b = await register();
    await deposit(a, 5_000);
    await settle([a.id]);
    const token_hash = await tokenHash(a.token);
    const req = { user_id: a.id, token_hash, idempotency_key: crypto.randomUUID(), request_hash: "h", request_id: "r" };
    const send = { ...req, from_wallet_id: a.wallet_id, to: { handle: b.handle }, amount: 100, memo: null };
    // Inside the object, with nothing but microtasks between the end of the first call, the UPDATE and the retry,
    // so its alarm cannot start the movement in between (it can only join a run already going): the first run
    // is interrupted, its due time is pushed away from the alarm, and the retry must drive it itself.
    const codes = await runInDurableObject(coordinatorStub(a.id), async (instance: TransferCoordinator, state) => {
      instance.failpoints.set("after_reserve", "throw");
      const first = await instance.transfer(send);
      state.storage.sql.exec(
        "UPDATE movements SET next_attempt_at_ms = ? WHERE idempotency_key = ?",
        Date.now() + 3_600_000,
        req.idempotency_key,
      );
      const retry = await instance.transfer(send);
      return [first.code, retry.code, "replayed" in retry && retry.replayed];
    });
    expect(codes).toEqual(["unavailable", "created", true]);
    await settle([a.id, b.id]);
    const check = await assertLedger([a.wallet_id, b.wallet_id]);
    expect(check.wallets.map((w) => w.balance)).toEqual([4_900, 100]);
  });
});
