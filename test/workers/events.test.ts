/**
 * Events (contract v1.1): who gets which event, with which body, gapless per user; visible as soon as the
 * change's answer is (well within EVENT_MAX_LAG_MS); GET /events pages oldest first, filters by type and refuses
 * bad input; pruning keeps the numbering.
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { TransferCoordinator } from "../../src/transfer-coordinator";
import { api, coordinatorStub, deposit, register, settle, transfer, type TestUser } from "./helpers";

export interface EventJson {
  id: string;
  seq: number;
  type: string;
  created_at: string;
  data: { object: Record<string, unknown> };
}

/** Every event of the user, by following GET /events page by page. */
export async function allEvents(user: TestUser, query = ""): Promise<EventJson[]> {
  const out: EventJson[] = [];
  let after = "0";
  for (;;) {
    const res = await api<{ items: EventJson[]; next_cursor: string | null }>(`/events?after=${after}&limit=200${query}`, {
      token: user.token,
    });
    expect(res.status, res.text).toBe(200);
    out.push(...res.json.items);
    if (res.json.next_cursor === null) return out;
    after = res.json.next_cursor;
  }
}

const types = (events: EventJson[]): string[] => events.map((e) => e.type);

describe("events", () => {
  it("a transfer gives both parties transfer.succeeded at once, with the route's body; seqs are gapless", async () => {
    const a = await register();
    const b = await register();
    await deposit(a, 5_000);
    const sent = await transfer(a, { handle: b.handle }, 1_234, undefined, "lunch");
    expect(sent.status).toBe(201);
    const body = (sent.json as { transfer: Record<string, unknown> }).transfer;
    // No settle: visible as soon as the answer is.
    const ea = await allEvents(a);
    const eb = await allEvents(b);
    expect(types(ea)).toEqual(["deposit.succeeded", "transfer.succeeded"]);
    expect(ea.map((e) => e.seq)).toEqual([1, 2]);
    expect(types(eb)).toEqual(["transfer.succeeded"]);
    expect(eb[0]?.seq).toBe(1);
    expect(ea[1]?.data.object).toEqual(body);
    expect(eb[0]?.data.object).toEqual(body);
    expect(ea[1]?.id).not.toBe(eb[0]?.id);
    expect(ea[1]?.id).toMatch(/^evt_/);
    await settle([a.id, b.id]);
    // Recovery and the outbox add nothing.
    expect(await allEvents(a)).toEqual(ea);
    expect(await allEvents(b)).toEqual(eb);
  });

  it("a recipient whose coordinator cannot append gets its event later, once, through the sender's relay", async () => {
    const a = await register();
    const b = await register();
    await deposit(a, 5_000);
    const setDiskFull = (full: boolean) =>
      runInDurableObject(coordinatorStub(b.id), (instance: TransferCoordinator) => void (instance.faults.disk_full = full));
    await setDiskFull(true);
    const sent = await transfer(a, { handle: b.handle }, 700);
    // The money moved (the recipient's wallet is not the full disk); b's event is owed as a durable relay row.
    expect(sent.status, sent.text).toBe(201);
    expect((await coordinatorStub(a.id).pending()).relays).toBe(1);
    expect(await allEvents(b)).toEqual([]);
    await setDiskFull(false);
    // The sender's alarm relays it (settle runs the alarms until nothing is owed), and re-runs add nothing.
    await settle([a.id, b.id]);
    const eb = await allEvents(b);
    expect(types(eb)).toEqual(["transfer.succeeded"]);
    expect(eb[0]?.data.object).toEqual((sent.json as { transfer: Record<string, unknown> }).transfer);
    await settle([a.id, b.id]);
    expect(await allEvents(b)).toEqual(eb);
    expect((await coordinatorStub(a.id).pending()).relays).toBe(0);
  });

  it("a refused transfer gives transfer.failed to the sender only; a withdrawal its own event", async () => {
    const a = await register();
    const e = await register({ currency: "EUR" });
    await deposit(a, 1_000);
    const refused = await transfer(a, { wallet_id: e.wallet_id }, 100);
    expect(refused.status).toBe(422);
    const w = await api(`/wallets/${a.wallet_id}/withdrawals`, { token: a.token, key: crypto.randomUUID(), body: { amount: 300 } });
    expect(w.status).toBe(201);
    const ea = await allEvents(a);
    expect(types(ea)).toEqual(["deposit.succeeded", "transfer.failed", "withdrawal.succeeded"]);
    expect(ea[1]?.data.object).toMatchObject({ status: "failed", failure_code: "currency_mismatch", amount: 100 });
    expect(ea[2]?.data.object).toEqual((w.json as { withdrawal: unknown }).withdrawal);
    expect(await allEvents(e)).toEqual([]);
  });

  it("a refund gives both parties transfer.succeeded and transfer.refunded with the new refunded_amount", async () => {
    const a = await register();
    const b = await register();
    await deposit(a, 5_000);
    const sent = await transfer(a, { handle: b.handle }, 1_000);
    const id = (sent.json as { transfer: { id: string } }).transfer.id;
    const r1 = await api(`/transfers/${id}/refunds`, { token: b.token, key: crypto.randomUUID(), body: { amount: 300 } });
    expect(r1.status, r1.text).toBe(201);
    const r2 = await api(`/transfers/${id}/refunds`, { token: b.token, key: crypto.randomUUID(), body: { amount: 200 } });
    expect(r2.status, r2.text).toBe(201);
    for (const user of [a, b]) {
      // A refund's two events may come in either order (the sender's transfer.refunded is written by the settlement).
      const events = (await allEvents(user)).filter((e) => e.type !== "deposit.succeeded");
      expect(types(events).sort()).toEqual([...Array(3).fill("transfer.succeeded"), ...Array(2).fill("transfer.refunded")].sort());
      const refunded = events.filter((e) => e.type === "transfer.refunded").map((e) => e.data.object);
      expect(refunded).toEqual([
        expect.objectContaining({ id, refunded_amount: 300 }),
        expect.objectContaining({ id, refunded_amount: 500 }),
      ]);
      const refunds = events
        .filter((e) => e.type === "transfer.succeeded" && e.data.object.refund_of === id)
        .map((e) => e.data.object.amount);
      expect(refunds).toEqual([300, 200]);
    }
  });

  it("a payment request's creation and decline reach requester and payer; a paid one too", async () => {
    const a = await register();
    const b = await register();
    await deposit(b, 1_000);
    const ask = async (): Promise<string> => {
      const res = await api<{ payment_request: { id: string } }>("/payment-requests", {
        token: a.token,
        body: { wallet_id: a.wallet_id, payer: { handle: b.handle }, amount: 250 },
      });
      expect(res.status).toBe(201);
      return res.json.payment_request.id;
    };
    const r1 = await ask();
    expect((await api(`/payment-requests/${r1}/decline`, { token: b.token, method: "POST" })).status).toBe(200);
    const r2 = await ask();
    const paid = await api(`/payment-requests/${r2}/pay`, {
      token: b.token,
      key: crypto.randomUUID(),
      body: { from_wallet_id: b.wallet_id },
    });
    expect(paid.status, paid.text).toBe(201);
    await settle([a.id, b.id]);
    const want = [
      "payment_request.created",
      "payment_request.declined",
      "payment_request.created",
      "transfer.succeeded",
      "payment_request.paid",
    ];
    // The pay's transfer.succeeded and the request's payment_request.paid may come in either order.
    expect(types(await allEvents(a)).sort()).toEqual([...want].sort());
    expect(types((await allEvents(b)).filter((e) => e.type !== "deposit.succeeded")).sort()).toEqual([...want].sort());
    expect(types(await allEvents(a)).slice(0, 3)).toEqual(want.slice(0, 3));
    const created = (await allEvents(a))[0];
    expect(created?.data.object).toMatchObject({ id: r1, status: "open", resolved_at: null });
  });

  it("GET /events pages, filters by type, and refuses bad input with 400", async () => {
    const a = await register();
    for (let i = 0; i < 5; i++) await deposit(a, 10 + i);
    const w = await api(`/wallets/${a.wallet_id}/withdrawals`, { token: a.token, key: crypto.randomUUID(), body: { amount: 5 } });
    expect(w.status).toBe(201);
    const page = await api<{ items: EventJson[]; next_cursor: string | null }>("/events?limit=2&after=1", { token: a.token });
    expect(page.json.items.map((e) => e.seq)).toEqual([2, 3]);
    expect(page.json.next_cursor).toBe("3");
    const rest = await api<{ items: EventJson[]; next_cursor: string | null }>(`/events?after=${page.json.next_cursor}`, {
      token: a.token,
    });
    expect(rest.json.items.map((e) => e.seq)).toEqual([4, 5, 6]);
    expect(rest.json.next_cursor).toBeNull();
    // next_cursor passed back as `cursor`, as every other list is followed, moves on too (it once looped on page 1).
    const byCursor = await api<{ items: EventJson[] }>(`/events?limit=2&cursor=${page.json.next_cursor}`, { token: a.token });
    expect(byCursor.json.items.map((e) => e.seq)).toEqual([4, 5]);
    expect(types(await allEvents(a, "&types=withdrawal.succeeded,transfer.failed"))).toEqual(["withdrawal.succeeded"]);
    for (const q of [
      "after=-1",
      "after=x",
      "cursor=x",
      "after=1&cursor=2",
      "limit=0",
      "limit=201",
      "types=transfer.exploded",
      "types=transfer.succeeded,nope",
    ]) {
      const bad = await api(`/events?${q}`, { token: a.token });
      expect(bad.status, q).toBe(400);
      expect(bad.text).toContain("validation_error");
    }
    expect((await api("/events")).status).toBe(401);
  });

  it("pruning removes old events in batches and never reuses a seq; an old `after` starts at the oldest kept", async () => {
    const a = await register();
    for (let i = 0; i < 3; i++) await deposit(a, 10 + i);
    await runInDurableObject(coordinatorStub(a.id), (instance: TransferCoordinator, state) => {
      state.storage.sql.exec("UPDATE events SET created_at_ms = 0 WHERE seq <= 2");
      void instance;
    });
    await runInDurableObject(coordinatorStub(a.id), async (instance: TransferCoordinator) => {
      await instance.alarm();
    });
    expect((await allEvents(a)).map((e) => e.seq)).toEqual([3]);
    await deposit(a, 99);
    expect((await allEvents(a)).map((e) => e.seq)).toEqual([3, 4]);
  });
});
