/**
 * `GET /me/contacts`: people the caller paid, was paid by, or exchanged requests with, most recent first; never
 * a phone number, and never someone known only by phone.
 */
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { configOf } from "../../src/config";
import { api, coordinatorStub, deposit, register, settle, transfer } from "./helpers";

const phoneNumber = (): string => `+1917${String(Math.floor(Math.random() * 1e7)).padStart(7, "0")}`;

describe("contacts", () => {
  it("lists payees, payers and request partners by recency, without phone-only ones or phone numbers", async () => {
    const a = await register();
    const b = await register();
    const c = await register();
    const dPhone = phoneNumber();
    const d = await register({ phone: dPhone });
    const e = await register();
    const fPhone = phoneNumber();
    await register({ phone: fPhone });
    await deposit(a, 10_000);
    await deposit(c, 10_000);
    const step = (): Promise<void> => new Promise((r) => setTimeout(r, 5));
    expect((await transfer(a, { handle: b.handle }, 100)).status).toBe(201);
    await step();
    expect((await transfer(c, { handle: a.handle }, 100)).status).toBe(201);
    await step();
    expect((await transfer(a, { phone: dPhone }, 100)).status).toBe(201);
    await step();
    expect(
      (await api("/payment-requests", { token: e.token, body: { wallet_id: e.wallet_id, payer: { handle: a.handle }, amount: 5 } })).status,
    ).toBe(201);
    await step();
    expect(
      (await api("/payment-requests", { token: a.token, body: { wallet_id: a.wallet_id, payer: { phone: fPhone }, amount: 5 } })).status,
    ).toBe(201);
    const res = await api<{ items: { handle: string; display_name: string; last_at: string }[] }>("/me/contacts", { token: a.token });
    expect(res.status, res.text).toBe(200);
    expect(res.json.items.map((i) => i.handle)).toEqual([e.handle, c.handle, b.handle]);
    expect(res.text).not.toContain(dPhone);
    expect(res.text).not.toContain(fPhone);
    expect(res.text).not.toContain(d.handle);
    expect(Object.keys(res.json.items[0] ?? {})).toEqual(["handle", "display_name", "last_at"]);
    const two = await api<{ items: unknown[] }>("/me/contacts?limit=2", { token: a.token });
    expect(two.json.items.length).toBe(2);
    for (const bad of ["0", "51", "x"]) expect((await api(`/me/contacts?limit=${bad}`, { token: a.token })).status).toBe(400);
  });

  it("a payer asked by phone who pays the request stays unlisted: their payment must not name who owns the number", async () => {
    const a = await register();
    const phone = phoneNumber();
    const p = await register({ phone });
    await deposit(p, 1_000);
    const created = await api<{ payment_request: { id: string } }>("/payment-requests", {
      token: a.token,
      body: { wallet_id: a.wallet_id, payer: { phone }, amount: 25 },
    });
    expect(created.status, created.text).toBe(201);
    const paid = await api(`/payment-requests/${created.json.payment_request.id}/pay`, {
      token: p.token,
      key: `pay-${p.handle}`,
      body: { from_wallet_id: p.wallet_id },
    });
    expect(paid.status, paid.text).toBe(201);
    const res = await api<{ items: { handle: string }[] }>("/me/contacts", { token: a.token });
    expect(res.status, res.text).toBe(200);
    expect(res.text).not.toContain(p.handle);
    // Refunding that payment sends money back to the same person, still known only by the phone number.
    const refund = await api(`/transfers/${(paid.json as { transfer: { id: string } }).transfer.id}/refunds`, {
      token: a.token,
      key: `refund-${a.handle}`,
      body: { amount: 5 },
    });
    expect(refund.status, refund.text).toBe(201);
    expect((await api("/me/contacts", { token: a.token })).text).not.toContain(p.handle);
    // A plain payment from the same person is not a phone-only acquaintance: it names them, as before.
    expect((await transfer(p, { handle: a.handle }, 10)).status).toBe(201);
    const after = await api<{ items: { handle: string }[] }>("/me/contacts", { token: a.token });
    expect(after.json.items.map((i) => i.handle)).toEqual([p.handle]);
  });

  it("a person paid by phone who refunds that payment stays unlisted", async () => {
    const a = await register();
    const phone = phoneNumber();
    const p = await register({ phone });
    await deposit(a, 1_000);
    const sent = await transfer(a, { phone }, 40);
    expect(sent.status, sent.text).toBe(201);
    const refund = await api(`/transfers/${(sent.json as { transfer: { id: string } }).transfer.id}/refunds`, {
      token: p.token,
      key: `refund-${p.handle}`,
      body: { amount: 15 },
    });
    expect(refund.status, refund.text).toBe(201);
    const res = await api("/me/contacts", { token: a.token });
    expect(res.status, res.text).toBe(200);
    expect(res.text).not.toContain(p.handle);
  });

  it("someone named by phone and later paid by handle is listed", async () => {
    const a = await register();
    const phone = phoneNumber();
    const d = await register({ phone });
    await deposit(a, 1_000);
    expect((await transfer(a, { phone }, 10)).status).toBe(201);
    expect((await transfer(a, { handle: d.handle }, 10)).status).toBe(201);
    const res = await api<{ items: { handle: string }[] }>("/me/contacts", { token: a.token });
    expect(res.json.items.map((i) => i.handle)).toEqual([d.handle]);
  });

  // The edge reads the caller's latest CONTACT_SCAN_MAX (200) incoming entries per wallet, and the coordinator its
  // latest 200 sent transfers and 200 requests: an answer that is recent (a refund, a payment) to a transfer or
  // request that is older than 200 newer ones must still be known as phone-only. The newer rows are written straight
  // into the caller's coordinator (as settled, already delivered), instead of making 200 real movements.
  it("the coordinator looks up at most two ids per entry the edge could have read, and none past that", async () => {
    const a = await register();
    const b = await register({ phone: "+14155550177" });
    const c = await register();
    await deposit(a, 1_000);
    const byPhone = await transfer(a, { phone: "+14155550177" }, 10);
    expect(byPhone.status, byPhone.text).toBe(201);
    const id = (byPhone.json as { transfer: { id: string } }).transfer.id;
    // A newer transfer by handle, so that with a scan of 1 the phone transfer is known only by being asked about.
    expect((await transfer(a, { handle: c.handle }, 10)).status).toBe(201);
    await settle([a.id, b.id, c.id]);
    const most = 2 * 1 * configOf(env).wallets_max_per_user;
    const asked = (ids: string[]) => coordinatorStub(a.id).contactSources(1, ids);
    expect((await asked([id])).phone_only).toEqual([id]);
    expect((await asked([...Array<string>(most - 1).fill("trf_nope"), id])).phone_only).toEqual([id]);
    expect((await asked([...Array<string>(most).fill("trf_nope"), id])).phone_only).toEqual([]);
  });

  it("a refund of a transfer sent by phone, or a payment of a request to a phone, stays unlisted past 200 newer rows", async () => {
    const a = await register();
    const other = await register();
    const phone = phoneNumber();
    const p = await register({ phone });
    await deposit(a, 1_000);
    await deposit(p, 1_000);
    const sent = await transfer(a, { phone }, 40);
    expect(sent.status, sent.text).toBe(201);
    const sent_id = (sent.json as { transfer: { id: string } }).transfer.id;
    const asked = await api<{ payment_request: { id: string } }>("/payment-requests", {
      token: a.token,
      body: { wallet_id: a.wallet_id, payer: { phone }, amount: 25 },
    });
    expect(asked.status, asked.text).toBe(201);
    await settle([a.id]);
    await runInDurableObject(coordinatorStub(a.id), (_instance, state) => {
      const sql = state.storage.sql;
      sql.exec(
        `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200)
         INSERT INTO movements SELECT 'newer-' || i, kind, user_id, state, NULL, request_hash, request_id, from_wallet_id, ?,
           ?, amount, currency, memo, failure_code, owned_wallet_ids, entries, created_at, created_at_ms + i, completed_at,
           attempts, next_attempt_at_ms, 0, NULL, NULL FROM movements, n WHERE id = ?`,
        other.wallet_id,
        JSON.stringify({ handle: other.handle }),
        sent_id,
      );
      sql.exec(
        `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200)
         INSERT INTO payment_requests SELECT id || '-newer-' || i, 'cancelled', requester, requester_wallet_id, ?, ?, amount,
           currency, memo, NULL, created_at, created_at_ms + i, expires_at_ms + i, created_at, NULL, NULL, 0
           FROM payment_requests, n WHERE id = ?`,
        other.id,
        JSON.stringify({ handle: other.handle }),
        asked.json.payment_request.id,
      );
    });
    // p refunds a's payment to their phone, and pays a's request to their phone: both are a's newest incoming entries.
    const refund = await api(`/transfers/${sent_id}/refunds`, { token: p.token, key: `refund-${p.handle}`, body: { amount: 15 } });
    expect(refund.status, refund.text).toBe(201);
    const paid = await api(`/payment-requests/${asked.json.payment_request.id}/pay`, {
      token: p.token,
      key: `pay-${p.handle}`,
      body: { from_wallet_id: p.wallet_id },
    });
    expect(paid.status, paid.text).toBe(201);
    // And a's own refund of that payment goes back to the same person.
    const paid_id = (paid.json as { transfer: { id: string } }).transfer.id;
    const back = await api(`/transfers/${paid_id}/refunds`, { token: a.token, key: `refund-${a.handle}`, body: { amount: 5 } });
    expect(back.status, back.text).toBe(201);
    const res = await api<{ items: { handle: string }[] }>("/me/contacts", { token: a.token });
    expect(res.status, res.text).toBe(200);
    expect(res.json.items.map((i) => i.handle)).toEqual([other.handle]);
  });
});
