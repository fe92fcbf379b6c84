/**
 * `GET /transfers`: the caller's transfers, sent and received, newest first, filtered by the server (direction,
 * status, counterparty, time range, wallet) and paged without gaps or repeats.
 */
import { describe, expect, it } from "vitest";
import { api, deposit, register, transfer, type TestUser } from "./helpers";

interface T {
  id: string;
  status: string;
  from_wallet_id: string | null;
  to_wallet_id: string | null;
  amount: number;
  refund_of: string | null;
  refunded_amount: number;
  created_at: string;
}

async function list(user: TestUser, query = ""): Promise<{ status: number; items: T[]; next_cursor: string | null; text: string }> {
  const res = await api<{ items: T[]; next_cursor: string | null }>(`/transfers${query}`, { token: user.token });
  return { status: res.status, items: res.json?.items ?? [], next_cursor: res.json?.next_cursor ?? null, text: res.text };
}

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 3));

async function scene() {
  const a = await register();
  const b = await register();
  const c = await register();
  await deposit(a, 10_000);
  await deposit(b, 10_000);
  const ids: Record<string, string> = {};
  const sent = async (name: string, from: TestUser, to: TestUser, amount: number): Promise<void> => {
    const res = await transfer(from, { handle: to.handle }, amount);
    ids[name] =
      (res.json as { transfer?: { id: string }; error?: { transfer_id: string } }).transfer?.id ??
      (res.json as { error: { transfer_id: string } }).error.transfer_id;
    await tick();
  };
  await sent("a_b_1", a, b, 100);
  await sent("b_a", b, a, 250);
  await sent("a_b_2", a, b, 300);
  await sent("a_c_refused", a, c, 1_000_000);
  const refund = await api(`/transfers/${ids.a_b_2}/refunds`, { token: b.token, key: crypto.randomUUID(), body: { amount: 50 } });
  ids.refund = (refund.json as { transfer: { id: string } }).transfer.id;
  return { a, b, c, ids };
}

describe("GET /transfers", () => {
  it("lists sent and received newest first, with refunds and refusals, each as a transfer", async () => {
    const { a, ids } = await scene();
    const all = await list(a);
    expect(all.status, all.text).toBe(200);
    expect(all.items.map((t) => t.id)).toEqual([ids.refund, ids.a_c_refused, ids.a_b_2, ids.b_a, ids.a_b_1]);
    expect(all.items.find((t) => t.id === ids.a_b_2)).toMatchObject({ status: "succeeded", refunded_amount: 50 });
    expect(all.items.find((t) => t.id === ids.refund)).toMatchObject({ refund_of: ids.a_b_2, amount: 50 });
    expect(all.items.find((t) => t.id === ids.a_c_refused)).toMatchObject({ status: "failed" });
  });

  it("filters by direction, status, counterparty, time and wallet", async () => {
    const { a, b, ids } = await scene();
    expect((await list(a, "?direction=out")).items.map((t) => t.id)).toEqual([ids.a_c_refused, ids.a_b_2, ids.a_b_1]);
    expect((await list(a, "?direction=in")).items.map((t) => t.id)).toEqual([ids.refund, ids.b_a]);
    expect((await list(a, "?status=failed")).items.map((t) => t.id)).toEqual([ids.a_c_refused]);
    expect((await list(a, `?counterparty=${b.handle}`)).items.map((t) => t.id)).toEqual([ids.refund, ids.a_b_2, ids.b_a, ids.a_b_1]);
    expect((await list(a, "?counterparty=nobody_known_zz")).items).toEqual([]);
    const all = (await list(a)).items;
    const middle = all.find((t) => t.id === ids.a_b_2) as T;
    const since = (await list(a, `?from=${encodeURIComponent(middle.created_at)}&direction=out`)).items.map((t) => t.id);
    expect(since).toEqual([ids.a_c_refused, ids.a_b_2]);
    const until = (await list(a, `?to=${encodeURIComponent(middle.created_at)}&direction=out`)).items.map((t) => t.id);
    expect(until).toEqual([ids.a_b_1]);
    expect((await list(a, `?wallet_id=${a.wallet_id}&direction=out`)).items.length).toBe(3);
  });

  it("every combination of filters on sent transfers is the unfiltered list narrowed, page by page", async () => {
    const { a, b, c, ids } = await scene();
    // A second wallet of a's, in euros, sends to b's euro wallet once: wallet_id then splits a's transfers.
    const eur = await api<{ wallet: { id: string } }>("/wallets", { token: a.token, key: crypto.randomUUID(), body: { currency: "EUR" } });
    expect(eur.status, eur.text).toBe(201);
    const bEur = await api("/wallets", { token: b.token, key: crypto.randomUUID(), body: { currency: "EUR" } });
    expect(bEur.status, bEur.text).toBe(201);
    await deposit({ ...a, wallet_id: eur.json.wallet.id }, 500);
    const euros = await api("/transfers", {
      token: a.token,
      key: crypto.randomUUID(),
      body: { from_wallet_id: eur.json.wallet.id, to: { handle: b.handle }, amount: 7 },
    });
    expect(euros.status, euros.text).toBe(201);
    const sent = (await list(a, "?direction=out")).items;
    expect(sent.length).toBe(4);
    const bWallets = [b.wallet_id, (bEur.json as { wallet: { id: string } }).wallet.id];
    for (const status of [null, "succeeded", "failed", "pending"]) {
      for (const wallet of [null, a.wallet_id, eur.json.wallet.id]) {
        for (const who of [null, b, c]) {
          const query = [
            "direction=out",
            status === null ? "" : `status=${status}`,
            wallet === null ? "" : `wallet_id=${wallet}`,
            who === null ? "" : `counterparty=${who.handle}`,
          ].filter(Boolean);
          const expected = sent.filter(
            (t) =>
              (status === null || t.status === status) &&
              (wallet === null || t.from_wallet_id === wallet) &&
              (who === null || (who === b ? bWallets : [c.wallet_id]).includes(String(t.to_wallet_id))),
          );
          const paged: string[] = [];
          let cursor: string | null = null;
          do {
            const page: Awaited<ReturnType<typeof list>> = await list(
              a,
              `?${[...query, "limit=1", cursor === null ? "" : `cursor=${cursor}`].filter(Boolean).join("&")}`,
            );
            expect(page.status, page.text).toBe(200);
            paged.push(...page.items.map((t) => t.id));
            cursor = page.next_cursor;
          } while (cursor !== null && paged.length <= sent.length);
          expect(paged, query.join("&")).toEqual(expected.map((t) => t.id));
        }
      }
    }
    // The refusal to c's handle hides c's wallet from a, so a filter by c does not find it (checked above);
    // the filters agree with what the unfiltered list shows.
    expect(sent.find((t) => t.id === ids.a_c_refused)?.to_wallet_id).toBeNull();
  });

  it("lists a refund refused before it had a wallet, as the sender's failed transfer", async () => {
    const { a, b, ids } = await scene();
    // 300 sent, 50 refunded: 251 is past what is left, refused with no wallet chosen.
    const over = await api(`/transfers/${ids.a_b_2}/refunds`, { token: b.token, key: crypto.randomUUID(), body: { amount: 251 } });
    expect(over.status, over.text).toBe(422);
    const failed = (await list(b, "?status=failed")).items;
    expect(failed.map((t) => t.refund_of)).toEqual([ids.a_b_2]);
    // Named by wallet, it is not one of b's wallets' sends.
    expect((await list(b, `?status=failed&wallet_id=${b.wallet_id}`)).items).toEqual([]);
    expect((await list(a, "?status=failed&direction=in")).items).toEqual([]);
  });

  it("pages one at a time through everything, without gaps or repeats", async () => {
    const { a } = await scene();
    const everything = (await list(a)).items.map((t) => t.id);
    const paged: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof list>> = await list(a, `?limit=1${cursor === null ? "" : `&cursor=${cursor}`}`);
      expect(page.status, page.text).toBe(200);
      paged.push(...page.items.map((t) => t.id));
      expect(paged.length, "more items than exist: a page repeated").toBeLessThanOrEqual(everything.length);
      cursor = page.next_cursor;
    } while (cursor !== null);
    expect(paged).toEqual(everything);
  });

  it("refuses another user's wallet and bad parameters", async () => {
    const { a, b } = await scene();
    expect((await list(a, `?wallet_id=${b.wallet_id}`)).status).toBe(403);
    for (const q of [
      "?limit=0",
      "?limit=201",
      "?direction=sideways",
      "?status=done",
      "?from=yesterday",
      "?cursor=bm9wZQ",
      "?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z",
    ]) {
      const res = await list(a, q);
      expect(res.status, `${q}: ${res.text}`).toBe(400);
    }
    const stranger = await register();
    expect((await list(stranger)).items).toEqual([]);
  });
});
