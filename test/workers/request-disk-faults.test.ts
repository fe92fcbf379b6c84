/**
 * Payment requests while the requester's coordinator sits on a full disk (src/db/faults.ts): every transition
 * (pay, decline, cancel, expiry) is refused with 503 `unavailable` and Retry-After, never 500; nothing changes
 * (no money moves, the request keeps its status, no claim is left behind), and once the disk frees the same
 * request takes its next transition normally. And a new request whose payer's coordinator cannot write the
 * first notice (its disk filled just after it admitted the request) stays owed to that payer (`notify_pending`), so
 * the requester's alarm tells it once the disk frees: the payer's inbox shows it open, with one created event.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Faults } from "../../src/db/faults";
import type { TransferCoordinator } from "../../src/transfer-coordinator";
import { api, assertLedger, coordinatorStub, deposit, register, settle, type ApiResponse, type TestUser } from "./helpers";

interface RequestJson {
  id: string;
  status: string;
  transfer_id: string | null;
}

async function setFaults(user: TestUser, change: Partial<Faults>): Promise<void> {
  await runInDurableObject(coordinatorStub(user.id), (instance: TransferCoordinator) => {
    Object.assign(instance.faults, change);
  });
}

/** The request's row as the requester's storage holds it (status and claim). */
async function stored(requester: TestUser, id: string): Promise<{ status: string; claimed_by: string | null }> {
  return runInDurableObject(coordinatorStub(requester.id), (_i: TransferCoordinator, state) =>
    state.storage.sql
      .exec<{ status: string; claimed_by: string | null }>("SELECT status, claimed_by FROM payment_requests WHERE id = ?", id)
      .one(),
  );
}

async function ask(from: TestUser, payer: TestUser, amount: number): Promise<RequestJson> {
  const res = await api<{ payment_request: RequestJson }>("/payment-requests", {
    token: from.token,
    body: { wallet_id: from.wallet_id, payer: { handle: payer.handle }, amount, expires_in_s: 60 },
  });
  expect(res.status, res.text).toBe(201);
  return res.json.payment_request;
}

function expectUnavailable(res: ApiResponse): void {
  expect([res.status, (res.json as { error?: { code: string } }).error?.code], res.text).toEqual([503, "unavailable"]);
  expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
}

const pay = (payer: TestUser, id: string, key: string): Promise<ApiResponse> =>
  api(`/payment-requests/${id}/pay`, { token: payer.token, key, body: { from_wallet_id: payer.wallet_id } });

/** The payer's inbox rows (admitted or heard), as the payer's own storage holds them. */
async function inbox(payer: TestUser): Promise<{ id: string; status: string }[]> {
  return runInDurableObject(coordinatorStub(payer.id), (_i: TransferCoordinator, state) =>
    state.storage.sql.exec<{ id: string; status: string }>("SELECT id, status FROM incoming_requests ORDER BY id").toArray(),
  );
}

const codeOf = (res: ApiResponse): string => (res.json as { error?: { code: string } } | null)?.error?.code ?? String(res.status);

describe("payment requests on a full disk under the requester's coordinator", () => {
  it("pay, decline and cancel answer 503 and change nothing; once the disk frees, the same pay key pays it, once", async () => {
    const a = await register();
    const b = await register();
    await deposit(b, 5_000);
    const r = await ask(a, b, 1_200);
    await setFaults(a, { disk_full: true });
    const key = crypto.randomUUID();
    expectUnavailable(await pay(b, r.id, key));
    expectUnavailable(await api(`/payment-requests/${r.id}/decline`, { token: b.token, method: "POST" }));
    expectUnavailable(await api(`/payment-requests/${r.id}/cancel`, { token: a.token, method: "POST" }));
    // Reads still work on a full disk, and show nothing changed.
    const seen = await api<{ payment_request: RequestJson }>(`/payment-requests/${r.id}`, { token: b.token });
    expect([seen.status, seen.json.payment_request.status]).toEqual([200, "open"]);
    expect(await stored(a, r.id)).toEqual({ status: "open", claimed_by: null });
    await setFaults(a, { disk_full: false });
    const paid = await pay(b, r.id, key);
    expect(paid.status, paid.text).toBe(201);
    expect(codeOf(await pay(b, r.id, crypto.randomUUID()))).toBe("request_not_open");
    await settle([a.id, b.id]);
    const after = await api<{ payment_request: RequestJson }>(`/payment-requests/${r.id}`, { token: a.token });
    expect(after.json.payment_request.status).toBe("paid");
    expect(after.json.payment_request.transfer_id).toBe((paid.json as { transfer: { id: string } }).transfer.id);
    expect(await inbox(b)).toEqual([{ id: r.id, status: "paid" }]);
    const ledger = await assertLedger([a.wallet_id, b.wallet_id]);
    expect(ledger.wallets.map((w) => w.balance)).toEqual([1_200, 3_800]);
  });

  it("a due request cannot be expired on a full disk: it reads as expired, every transition is 503, and the alarm writes it later", async () => {
    const a = await register();
    const b = await register();
    await deposit(b, 5_000);
    const r = await ask(a, b, 300);
    await runInDurableObject(coordinatorStub(a.id), (_i: TransferCoordinator, state) => {
      state.storage.sql.exec("UPDATE payment_requests SET expires_at_ms = ? WHERE id = ?", Date.now() - 1, r.id);
      return null;
    });
    await setFaults(a, { disk_full: true });
    await runDurableObjectAlarm(coordinatorStub(a.id)).catch(() => false);
    const seen = await api<{ payment_request: RequestJson }>(`/payment-requests/${r.id}`, { token: b.token });
    expect([seen.status, seen.json.payment_request.status], seen.text).toEqual([200, "expired"]);
    expectUnavailable(await api(`/payment-requests/${r.id}/decline`, { token: b.token, method: "POST" }));
    expectUnavailable(await api(`/payment-requests/${r.id}/cancel`, { token: a.token, method: "POST" }));
    expect(await stored(a, r.id)).toEqual({ status: "open", claimed_by: null });
    await setFaults(a, { disk_full: false });
    // The failed run could not store its next alarm; the Cron sweep's wake-up finds the expiry still owed.
    expect(await coordinatorStub(a.id).wake()).toEqual({ code: "scheduled" });
    await runDurableObjectAlarm(coordinatorStub(a.id));
    expect(await stored(a, r.id)).toEqual({ status: "expired", claimed_by: null });
    expect(await inbox(b)).toEqual([{ id: r.id, status: "expired" }]);
    expect(codeOf(await api(`/payment-requests/${r.id}/decline`, { token: b.token, method: "POST" }))).toBe("request_not_open");
    await settle([a.id, b.id]);
    const ledger = await assertLedger([a.wallet_id, b.wallet_id]);
    expect(ledger.wallets.map((w) => w.balance)).toEqual([0, 5_000]);
  });

  it("a request made on a full disk is 503, and the payer's inbox gives back the place it had admitted", async () => {
    const a = await register();
    const b = await register();
    await setFaults(a, { disk_full: true });
    const res = await api("/payment-requests", {
      token: a.token,
      body: { wallet_id: a.wallet_id, payer: { handle: b.handle }, amount: 10 },
    });
    expectUnavailable(res);
    expect(await inbox(b)).toEqual([]);
    await setFaults(a, { disk_full: false });
    await ask(a, b, 10);
    expect((await inbox(b)).length).toBe(1);
  });
});

describe("a new request whose payer's coordinator cannot hear of it at once", () => {
  it("is told again by the requester's alarm: the payer's inbox shows it open, with exactly one payment_request.created", async () => {
    const a = await register();
    const b = await register();
    // The payer admits the request, then its disk fills, so the immediate notice (requestHeard) fails to write.
    // No failpoint sits between the two on the request path, so the payer's desk is wrapped for that one admit.
    await runInDurableObject(coordinatorStub(b.id), (instance: TransferCoordinator) => {
      const desk = (instance as unknown as { desk: { admit: (...args: unknown[]) => unknown } }).desk;
      const admit = desk.admit.bind(desk);
      desk.admit = (...args: unknown[]) => {
        desk.admit = admit;
        const answer = admit(...args);
        instance.faults.disk_full = true;
        return answer;
      };
    });
    const r = await ask(a, b, 700);
    expect(await inbox(b)).toEqual([{ id: r.id, status: "admitted" }]);
    await setFaults(b, { disk_full: false });
    const created = async (): Promise<number> => {
      const res = await api<{ items: { data: { object: { id: string } } }[] }>("/events?types=payment_request.created", { token: b.token });
      return res.json.items.filter((e) => e.data.object.id === r.id).length;
    };
    expect(await created()).toBe(0);
    await runDurableObjectAlarm(coordinatorStub(a.id));
    expect(await inbox(b)).toEqual([{ id: r.id, status: "open" }]);
    const open = await api<{ items: RequestJson[] }>("/payment-requests?role=incoming&status=open", { token: b.token });
    expect(open.json.items.map((i) => i.id)).toEqual([r.id]);
    expect(await created()).toBe(1);
    // A second run owes nothing more: the notice is not repeated.
    await runDurableObjectAlarm(coordinatorStub(a.id));
    expect(await created()).toBe(1);
  });
});
