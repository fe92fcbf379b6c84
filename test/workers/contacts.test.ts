/**
 * `GET /me/contacts`: people the caller paid, was paid by, or exchanged requests with, most recent first; never
 * a phone number, and never someone known only by phone.
 */
import { describe, expect, it } from "vitest";
import { api, deposit, register, transfer } from "./helpers";

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
});
