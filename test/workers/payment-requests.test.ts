/**
 * Payment requests and splits (contract v1.1): a request leaves `open` exactly once whatever races (pays from
 * two tabs with two keys, decline, cancel, expiry); a pay claims it before any money moves and a refused pay
 * leaves it open; the payer's inbox and live feed hear of every change; splits are all or nothing; limits.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { TransferCoordinator } from "../../src/transfer-coordinator";
import { api, assertLedger, auditRows, coordinatorStub, deposit, register, settle, type ApiResponse, type TestUser } from "./helpers";
import { openLive } from "./live-client";

interface RequestJson {
  id: string;
  status: string;
  requester: { handle: string; display_name: string };
  requester_wallet_id: string;
  payer: { handle?: string; display_name?: string; phone?: string };
  amount: number;
  currency: string;
  memo: string | null;
  expires_at: string;
  resolved_at: string | null;
  transfer_id: string | null;
  split_id: string | null;
}

const phoneNumber = (): string => `+1646${String(Math.floor(Math.random() * 1e7)).padStart(7, "0")}`;

async function ask(
  from: TestUser,
  payer: Record<string, string>,
  amount: number,
  extra: Record<string, unknown> = {},
): Promise<RequestJson> {
  const res = await api<{ payment_request: RequestJson }>("/payment-requests", {
    token: from.token,
    body: { wallet_id: from.wallet_id, payer, amount, ...extra },
  });
  expect(res.status, res.text).toBe(201);
  return res.json.payment_request;
}

function pay(payer: TestUser, id: string, key: string = crypto.randomUUID()): Promise<ApiResponse> {
  return api(`/payment-requests/${id}/pay`, { token: payer.token, key, body: { from_wallet_id: payer.wallet_id } });
}

async function read(user: TestUser, id: string): Promise<ApiResponse<{ payment_request: RequestJson }>> {
  return api<{ payment_request: RequestJson }>(`/payment-requests/${id}`, { token: user.token });
}

const codeOf = (res: ApiResponse): string => (res.json as { error?: { code: string } }).error?.code ?? String(res.status);

describe("payment requests", () => {
  it("A asks B for 12.50: both see it, B's inbox and live feed too, and a stranger sees nothing", async () => {
    const a = await register();
    const b = await register();
    const live = await openLive(b, { ack: true });
    const r = await ask(a, { handle: b.handle }, 1_250, { memo: "pizza" });
    expect(r).toMatchObject({
      status: "open",
      amount: 1_250,
      currency: "USD",
      memo: "pizza",
      requester: { handle: a.handle },
      payer: { handle: b.handle },
    });
    expect(r.requester_wallet_id).toBe(a.wallet_id);
    expect(Date.parse(r.expires_at) - Date.now()).toBeGreaterThan(604_000_000);
    await live.waitFor((events) => events.some((e) => e.type === "payment_request"), "the request on B's feed");
    live.ws.close();
    expect((await read(b, r.id)).json.payment_request.status).toBe("open");
    expect((await read(a, r.id)).status).toBe(200);
    expect((await read(await register(), r.id)).status).toBe(404);
    const inbox = await api<{ items: RequestJson[] }>("/payment-requests?role=incoming", { token: b.token });
    expect(inbox.json.items.map((i) => i.id)).toEqual([r.id]);
    const outbox = await api<{ items: RequestJson[] }>("/payment-requests?role=outgoing", { token: a.token });
    expect(outbox.json.items.map((i) => i.id)).toEqual([r.id]);
  });

  it("B pays from two tabs with two keys at once: one transfer, the request paid, the other tab told it is not open", async () => {
    const a = await register();
    const b = await register();
    await deposit(b, 5_000);
    const r = await ask(a, { handle: b.handle }, 1_250);
    const [one, two] = await Promise.all([pay(b, r.id), pay(b, r.id)]);
    const statuses = [one?.status, two?.status].sort();
    expect(statuses).toEqual([201, 409]);
    const winner = [one, two].find((x) => x?.status === 201) as ApiResponse;
    const loser = [one, two].find((x) => x?.status === 409) as ApiResponse;
    expect(codeOf(loser)).toBe("request_not_open");
    const t = (winner.json as { transfer: { id: string; payment_request_id: string; amount: number; to_wallet_id: string } }).transfer;
    expect(t).toMatchObject({ payment_request_id: r.id, amount: 1_250, to_wallet_id: a.wallet_id });
    const after = (await read(a, r.id)).json.payment_request;
    expect(after).toMatchObject({ status: "paid", transfer_id: t.id });
    expect(after.resolved_at).not.toBeNull();
    await settle([a.id, b.id]);
    const check = await assertLedger([a.wallet_id, b.wallet_id]);
    expect(check.wallets.map((w) => w.balance)).toEqual([1_250, 3_750]);
    expect(await auditRows(t.id)).toEqual([expect.objectContaining({ status: "succeeded", payment_request_id: r.id })]);
  });

  it("a pay is idempotent by its key, and a paid request refuses decline, cancel and other pays", async () => {
    const a = await register();
    const b = await register();
    await deposit(b, 5_000);
    const r = await ask(a, { handle: b.handle }, 700);
    const key = crypto.randomUUID();
    const first = await pay(b, r.id, key);
    const again = await pay(b, r.id, key);
    expect(again.text).toBe(first.text);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(codeOf(await pay(b, r.id))).toBe("request_not_open");
    expect(codeOf(await api(`/payment-requests/${r.id}/decline`, { token: b.token, method: "POST" }))).toBe("request_not_open");
    expect(codeOf(await api(`/payment-requests/${r.id}/cancel`, { token: a.token, method: "POST" }))).toBe("request_not_open");
    await settle([a.id, b.id]);
    const check = await assertLedger([a.wallet_id, b.wallet_id]);
    expect(check.wallets.map((w) => w.balance)).toEqual([700, 4_300]);
  });

  it("a pay refused for funds leaves the request open, and it can be paid later", async () => {
    const a = await register();
    const b = await register();
    const r = await ask(a, { handle: b.handle }, 900);
    const poor = await pay(b, r.id);
    expect(codeOf(poor)).toBe("insufficient_funds");
    expect((await read(a, r.id)).json.payment_request.status).toBe("open");
    await deposit(b, 1_000);
    expect((await pay(b, r.id)).status).toBe(201);
    expect((await read(b, r.id)).json.payment_request.status).toBe("paid");
  });

  it("decline is the payer's and cancel the requester's; each ends the request once", async () => {
    const a = await register();
    const b = await register();
    const stranger = await register();
    await deposit(b, 5_000);
    const r1 = await ask(a, { handle: b.handle }, 100);
    expect(codeOf(await api(`/payment-requests/${r1.id}/decline`, { token: a.token, method: "POST" }))).toBe("forbidden");
    expect(codeOf(await api(`/payment-requests/${r1.id}/decline`, { token: stranger.token, method: "POST" }))).toBe("not_found");
    const declined = await api<{ payment_request: RequestJson }>(`/payment-requests/${r1.id}/decline`, { token: b.token, method: "POST" });
    expect(declined.json.payment_request.status).toBe("declined");
    expect(codeOf(await pay(b, r1.id))).toBe("request_not_open");
    const r2 = await ask(a, { handle: b.handle }, 100);
    expect(codeOf(await api(`/payment-requests/${r2.id}/cancel`, { token: b.token, method: "POST" }))).toBe("forbidden");
    expect(codeOf(await api(`/payment-requests/${r2.id}/cancel`, { token: stranger.token, method: "POST" }))).toBe("not_found");
    const key = crypto.randomUUID();
    const cancelled = await api(`/payment-requests/${r2.id}/cancel`, { token: a.token, method: "POST", key });
    expect((cancelled.json as { payment_request: RequestJson }).payment_request.status).toBe("cancelled");
    const replay = await api(`/payment-requests/${r2.id}/cancel`, { token: a.token, method: "POST", key });
    expect(replay.text).toBe(cancelled.text);
    expect(codeOf(await pay(b, r2.id))).toBe("request_not_open");
    await settle([a.id, b.id]);
    const check = await assertLedger([a.wallet_id, b.wallet_id]);
    expect(check.wallets.map((w) => w.balance)).toEqual([0, 5_000]);
  });

  it("an expired request can never be paid, is shown expired at once, and the alarm writes it", async () => {
    const a = await register();
    const b = await register();
    await deposit(b, 5_000);
    const r = await ask(a, { handle: b.handle }, 300, { expires_in_s: 60 });
    // Move its end into the past, as the clock would after a minute.
    await runInDurableObject(coordinatorStub(a.id), (instance: TransferCoordinator, state) => {
      void instance;
      state.storage.sql.exec("UPDATE payment_requests SET expires_at_ms = ? WHERE id = ?", Date.now() - 1, r.id);
    });
    expect((await read(b, r.id)).json.payment_request.status).toBe("expired");
    expect(codeOf(await pay(b, r.id))).toBe("request_not_open");
    await runDurableObjectAlarm(coordinatorStub(a.id));
    const stored = await runInDurableObject(coordinatorStub(a.id), (_i: TransferCoordinator, state) =>
      state.storage.sql.exec<{ status: string }>("SELECT status FROM payment_requests WHERE id = ?", r.id).one(),
    );
    expect(stored.status).toBe("expired");
    const expiredInbox = await api<{ items: RequestJson[] }>("/payment-requests?role=incoming&status=expired", { token: b.token });
    expect(expiredInbox.json.items.map((i) => i.id)).toEqual([r.id]);
    await settle([a.id, b.id]);
    const check = await assertLedger([a.wallet_id, b.wallet_id]);
    expect(check.wallets.map((w) => w.balance)).toEqual([0, 5_000]);
  });

  it("refuses bad requests with their codes and creates nothing", async () => {
    const a = await register();
    const b = await register();
    expect(
      codeOf(await api("/payment-requests", { token: a.token, body: { wallet_id: a.wallet_id, payer: { handle: a.handle }, amount: 1 } })),
    ).toBe("same_wallet");
    expect(
      codeOf(
        await api("/payment-requests", { token: a.token, body: { wallet_id: a.wallet_id, payer: { handle: "nobody_here_x" }, amount: 1 } }),
      ),
    ).toBe("not_found");
    expect(
      codeOf(await api("/payment-requests", { token: a.token, body: { wallet_id: b.wallet_id, payer: { handle: b.handle }, amount: 1 } })),
    ).toBe("forbidden");
    for (const body of [
      { wallet_id: a.wallet_id, payer: { handle: b.handle }, amount: 0 },
      { wallet_id: a.wallet_id, payer: { handle: b.handle }, amount: 1.5 },
      { wallet_id: a.wallet_id, payer: { handle: b.handle }, amount: 1, expires_in_s: 59 },
      { wallet_id: a.wallet_id, payer: { handle: b.handle }, amount: 1, expires_in_s: 2_592_001 },
      { wallet_id: a.wallet_id, payer: { handle: b.handle }, amount: 1, extra: true },
    ])
      expect(codeOf(await api("/payment-requests", { token: a.token, body }))).toBe("validation_error");
    const outbox = await api<{ items: RequestJson[] }>("/payment-requests?role=outgoing", { token: a.token });
    expect(outbox.json.items).toEqual([]);
  });

  it("stops at REQUESTS_MAX_PER_PAYER_PER_DAY for one payer, naming the limit", async () => {
    const a = await register();
    const b = await register();
    const max = 50;
    const answers = [];
    for (let i = 0; i < max + 1; i++)
      answers.push(
        await api("/payment-requests", { token: a.token, body: { wallet_id: a.wallet_id, payer: { handle: b.handle }, amount: 1 + i } }),
      );
    expect(answers.slice(0, max).every((r) => r.status === 201)).toBe(true);
    expect(answers[max]?.json).toMatchObject({
      error: { code: "limit_exceeded", details: [{ field: "REQUESTS_MAX_PER_PAYER_PER_DAY", issue: `at most ${max}` }] },
    });
    const c = await register();
    expect(
      (await api("/payment-requests", { token: c.token, body: { wallet_id: c.wallet_id, payer: { handle: b.handle }, amount: 1 } })).status,
    ).toBe(422);
  });
});

describe("splits", () => {
  it("30.00 among three: two pay, one declines, and every screen shows exactly that", async () => {
    const a = await register();
    const b = await register();
    const c = await register();
    const phone = phoneNumber();
    const d = await register({ phone });
    for (const u of [b, c, d]) await deposit(u, 2_000);
    const res = await api<{ split: { id: string; amount: number; memo: string; requests: RequestJson[] } }>("/splits", {
      token: a.token,
      body: {
        wallet_id: a.wallet_id,
        memo: "dinner",
        shares: [
          { payer: { handle: b.handle }, amount: 1_000 },
          { payer: { handle: c.handle }, amount: 1_000 },
          { payer: { phone }, amount: 1_000 },
        ],
      },
    });
    expect(res.status, res.text).toBe(201);
    const split = res.json.split;
    expect(split).toMatchObject({ amount: 3_000, memo: "dinner" });
    expect(split.requests.map((r) => r.split_id)).toEqual([split.id, split.id, split.id]);
    const [rb, rc, rd] = split.requests as [RequestJson, RequestJson, RequestJson];
    expect(rd.payer).toEqual({ phone });
    expect((await pay(b, rb.id)).status).toBe(201);
    expect((await pay(c, rc.id)).status).toBe(201);
    expect((await api(`/payment-requests/${rd.id}/decline`, { token: d.token, method: "POST" })).status).toBe(200);
    const outbox = await api<{ items: RequestJson[] }>("/payment-requests?role=outgoing", { token: a.token });
    expect(Object.fromEntries(outbox.json.items.map((r) => [r.id, r.status]))).toEqual({
      [rb.id]: "paid",
      [rc.id]: "paid",
      [rd.id]: "declined",
    });
    for (const [u, r, status] of [
      [b, rb, "paid"],
      [c, rc, "paid"],
      [d, rd, "declined"],
    ] as const) {
      const inbox = await api<{ items: RequestJson[] }>("/payment-requests?role=incoming", { token: u.token });
      expect(inbox.json.items.map((i) => [i.id, i.status])).toEqual([[r.id, status]]);
    }
    await settle([a.id, b.id, c.id, d.id]);
    const check = await assertLedger([a.wallet_id, b.wallet_id, c.wallet_id, d.wallet_id]);
    expect(check.wallets.map((w) => w.balance)).toEqual([2_000, 1_000, 1_000, 2_000]);
  });

  it("is all or none: a share to an unknown payer, a repeated payer or one share creates nothing", async () => {
    const a = await register();
    const b = await register();
    const base = { wallet_id: a.wallet_id };
    expect(
      codeOf(
        await api("/splits", {
          token: a.token,
          body: {
            ...base,
            shares: [
              { payer: { handle: b.handle }, amount: 1 },
              { payer: { handle: "nobody_zz" }, amount: 1 },
            ],
          },
        }),
      ),
    ).toBe("not_found");
    expect(
      codeOf(
        await api("/splits", {
          token: a.token,
          body: {
            ...base,
            shares: [
              { payer: { handle: b.handle }, amount: 1 },
              { payer: { handle: b.handle }, amount: 2 },
            ],
          },
        }),
      ),
    ).toBe("validation_error");
    expect(codeOf(await api("/splits", { token: a.token, body: { ...base, shares: [{ payer: { handle: b.handle }, amount: 1 }] } }))).toBe(
      "validation_error",
    );
    const inbox = await api<{ items: RequestJson[] }>("/payment-requests?role=incoming", { token: b.token });
    expect(inbox.json.items).toEqual([]);
  });
});
