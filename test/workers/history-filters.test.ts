/**
 * History filters (v1.1): `kind`, `from`/`to` (instants, from inclusive, to exclusive) and `counterparty` (a
 * handle) are applied by the wallet, a cursor continues only the listing it came from, every bad value is a
 * 400 that changes nothing, only the owner may filter, and every filtered page is an index search (never a
 * scan of the table), which is what keeps it O(page).
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { EntryView, WalletView } from "../../src/domain/views";
import { indexFor } from "../../src/wallet/history-queries";
import { api, deposit, register, transfer, walletStub, type TestUser } from "./helpers";
import { seedEntries } from "./seed-entries";

interface Page {
  items: EntryView[];
  next_cursor: string | null;
}

async function history(user: TestUser, query: string, walletId = user.wallet_id) {
  return api<Page>(`/wallets/${walletId}/history?${query}`, { token: user.token });
}

/** Every item of a filtered listing, page by page (`limit` per page), asserting no page repeats an entry. */
async function all(user: TestUser, query: string, limit = 2): Promise<EntryView[]> {
  const out: EntryView[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 100; pages++) {
    const res = await history(user, `${query}&limit=${limit}${cursor === null ? "" : `&cursor=${cursor}`}`);
    expect(res.status, res.text).toBe(200);
    out.push(...res.json.items);
    cursor = res.json.next_cursor;
    if (cursor === null) break;
  }
  expect(new Set(out.map((e) => e.seq)).size).toBe(out.length);
  return out;
}

const day = (d: number, h = 12) => new Date(Date.UTC(2026, 0, d, h)).toISOString();

describe("history filters", () => {
  it("kind: only that kind, newest first, across pages", async () => {
    const a = await register();
    const b = await register();
    await deposit(a, 1_000);
    await deposit(a, 500);
    expect((await transfer(a, { handle: b.handle }, 100)).status).toBe(201);
    await deposit(a, 20);
    expect(
      (await api(`/wallets/${a.wallet_id}/withdrawals`, { token: a.token, key: crypto.randomUUID(), body: { amount: 5 } })).status,
    ).toBe(201);
    const deposits = await all(a, "kind=deposit", 2);
    expect(deposits.map((e) => [e.kind, e.amount])).toEqual([
      ["deposit", 20],
      ["deposit", 500],
      ["deposit", 1_000],
    ]);
    expect((await all(a, "kind=transfer_out")).map((e) => e.amount)).toEqual([-100]);
    expect((await all(a, "kind=withdrawal")).map((e) => e.amount)).toEqual([-5]);
    expect(await all(a, "kind=transfer_in")).toEqual([]);
  });

  it("from is inclusive and to exclusive, to the millisecond, in any zone", async () => {
    const a = await register();
    await seedEntries(a.wallet_id, [
      { kind: "deposit", amount: 1, created_at: day(1) },
      { kind: "deposit", amount: 2, created_at: day(2) },
      { kind: "deposit", amount: 4, created_at: day(3) },
      { kind: "withdrawal", amount: -1, created_at: day(3, 13) },
      { kind: "deposit", amount: 8, created_at: day(4) },
    ]);
    const amounts = async (q: string) => (await all(a, q)).map((e) => e.amount);
    expect(await amounts(`from=${day(2)}&to=${day(4)}`)).toEqual([-1, 4, 2]);
    expect(await amounts(`from=${day(2)}`)).toEqual([8, -1, 4, 2]);
    expect(await amounts(`to=${day(2)}`)).toEqual([1]);
    // 12:00Z written as 13:00+01:00 is the same instant; one nanosecond later is past it.
    expect(await amounts(`from=${encodeURIComponent("2026-01-02T13:00:00+01:00")}&to=${day(3)}`)).toEqual([2]);
    expect(await amounts(`from=2026-01-02T12:00:00.000000001Z&to=${day(3)}`)).toEqual([]);
    expect(await amounts(`from=${day(3)}&to=2026-01-03T12:00:00.000000001Z`)).toEqual([4]);
    expect(await amounts(`from=${day(3)}&to=${day(3)}`)).toEqual([]);
    expect(await amounts(`from=${day(3)}&kind=deposit`)).toEqual([8, 4]);
    expect(await amounts(`from=${day(9)}`)).toEqual([]);
    expect(await amounts(`to=2025-01-01T00:00Z`)).toEqual([]);
  });

  it("counterparty: the entries with that handle's wallet; an unknown handle is an empty page", async () => {
    const a = await register();
    const b = await register();
    const c = await register();
    await deposit(a, 1_000);
    await deposit(c, 1_000);
    expect((await transfer(a, { handle: b.handle }, 10)).status).toBe(201);
    expect((await transfer(c, { handle: b.handle }, 20)).status).toBe(201);
    expect((await transfer(a, { handle: b.handle }, 30)).status).toBe(201);
    expect((await transfer(b, { handle: a.handle }, 5)).status).toBe(201);
    expect((await all(b, `counterparty=${a.handle}`)).map((e) => [e.kind, e.amount])).toEqual([
      ["transfer_out", -5],
      ["transfer_in", 30],
      ["transfer_in", 10],
    ]);
    expect((await all(b, `counterparty=${a.handle}&kind=transfer_in`, 1)).map((e) => e.amount)).toEqual([30, 10]);
    expect((await all(b, `counterparty=${c.handle}`)).map((e) => e.counterparty)).toEqual([c.wallet_id]);
    const unknown = await history(b, "counterparty=nobody_has_this_handle");
    expect(unknown.status).toBe(200);
    expect(unknown.json).toEqual({ items: [], next_cursor: null });
    // A registered user b never dealt with looks exactly the same.
    const stranger = await register();
    expect((await history(b, `counterparty=${stranger.handle}`)).json).toEqual({ items: [], next_cursor: null });
  });

  it("a cursor continues only its own listing", async () => {
    const a = await register();
    for (const amount of [1, 2, 3]) await deposit(a, amount);
    const filtered = await history(a, "kind=deposit&limit=1");
    const plain = await history(a, "limit=1");
    expect(filtered.json.next_cursor).not.toBeNull();
    expect(plain.json.next_cursor).not.toBeNull();
    // The unfiltered cursor keeps its v1 form and meaning.
    expect(atob(String(plain.json.next_cursor).replace(/-/g, "+").replace(/_/g, "/"))).toBe("h1:3");
    expect((await history(a, `limit=1&cursor=${plain.json.next_cursor}`)).json.items[0]?.amount).toBe(2);
    expect((await history(a, `kind=deposit&limit=1&cursor=${filtered.json.next_cursor}`)).json.items[0]?.amount).toBe(2);
    for (const [query, cursor] of [
      ["kind=withdrawal", filtered.json.next_cursor],
      ["", filtered.json.next_cursor],
      ["kind=deposit", plain.json.next_cursor],
    ] as const) {
      const res = await history(a, `${query}&limit=1&cursor=${cursor}`);
      expect(res.status, query).toBe(400);
      expect(res.json).toMatchObject({ error: { code: "validation_error", details: [{ field: "cursor" }] } });
    }
  });

  it("every bad value is a 400 naming its field, and changes nothing", async () => {
    const a = await register();
    await deposit(a, 100);
    const before = (await api<WalletView>(`/wallets/${a.wallet_id}`, { token: a.token })).json;
    const cases: [string, string][] = [
      ["kind=refund", "kind"],
      ["kind=", "kind"],
      ["from=2026-01-01", "from"],
      ["from=2026-01-01T10:00:00", "from"],
      ["from=yesterday", "from"],
      ["from=2026-02-30T00:00:00Z", "from"],
      ["from=2026-01-01T24:00:00Z", "from"],
      ["to=2026-01-01T10:00:00%2B25:00", "to"],
      [`from=${day(3)}&to=${day(2)}`, "to"],
      ["counterparty=Bad-Handle", "counterparty"],
      ["counterparty=ab", "counterparty"],
      ["counterparty=" + "a".repeat(33), "counterparty"],
      ["cursor=bm90LWEtY3Vyc29y&kind=deposit", "cursor"],
    ];
    for (const [query, field] of cases) {
      const res = await history(a, query);
      expect(res.status, query).toBe(400);
      expect(res.json, query).toMatchObject({ error: { code: "validation_error" } });
      const fields = (res.json as unknown as { error: { details: { field: string }[] } }).error.details.map((d) => d.field);
      expect(fields, query).toContain(field);
    }
    expect((await api<WalletView>(`/wallets/${a.wallet_id}`, { token: a.token })).json).toEqual(before);
  });

  it("only the owner may filter: 403 for another user's wallet, 404 for none, 401 without a token", async () => {
    const a = await register();
    const b = await register();
    expect((await history(b, "kind=deposit", a.wallet_id)).status).toBe(403);
    expect((await history(b, `counterparty=${a.handle}`, "wal_doesnotexist")).status).toBe(404);
    expect((await api(`/wallets/${a.wallet_id}/history?kind=deposit`)).status).toBe(401);
  });

  it("every filtered page searches an index (no table scan), whatever the filters", async () => {
    const a = await register();
    await deposit(a, 1);
    const plans = await runInDurableObject(walletStub(a.wallet_id), (_instance, ctx) => {
      const out: string[] = [];
      for (const counterparty of [false, true]) {
        for (const kind of [false, true]) {
          for (const time of [false, true]) {
            const where = [
              counterparty ? "counterparty = 'x'" : "",
              kind ? "kind = 'deposit'" : "",
              "seq BETWEEN 1 AND 9",
              time ? "created_at >= 'a' AND created_at < 'b'" : "",
            ];
            const text = `EXPLAIN QUERY PLAN SELECT * FROM entries ${indexFor(counterparty, kind)} WHERE ${where.filter(Boolean).join(" AND ")} ORDER BY seq DESC LIMIT 3`;
            out.push(
              ctx.storage.sql
                .exec<{ detail: string }>(text)
                .toArray()
                .map((r) => r.detail)
                .join("; "),
            );
          }
        }
      }
      for (const q of [
        "SELECT seq FROM entries INDEXED BY entries_created_at WHERE created_at >= 'a' ORDER BY created_at, seq LIMIT 1",
        "SELECT seq FROM entries INDEXED BY entries_created_at WHERE created_at < 'a' ORDER BY created_at DESC, seq DESC LIMIT 1",
      ])
        out.push(
          ctx.storage.sql
            .exec<{ detail: string }>(`EXPLAIN QUERY PLAN ${q}`)
            .toArray()
            .map((r) => r.detail)
            .join("; "),
        );
      return out;
    });
    for (const plan of plans) {
      expect(plan).toMatch(/^SEARCH entries USING (INTEGER PRIMARY KEY|(COVERING )?INDEX entries_)/);
      expect(plan).not.toMatch(/SCAN|TEMP B-TREE/);
    }
  });

  it("a filtered page reads its own page, not the history: one matching entry among 3,000", async () => {
    const a = await register();
    const many = Array.from({ length: 3_000 }, (_, i) => ({
      kind: "deposit" as const,
      amount: 1,
      created_at: new Date(Date.UTC(2026, 0, 1) + (i + 1) * 1_000).toISOString(),
    }));
    await seedEntries(a.wallet_id, [
      { kind: "deposit", amount: 5, created_at: day(1, 0) },
      { kind: "withdrawal", amount: -1, created_at: day(1, 0) },
      ...many,
    ]);
    const res = await history(a, "kind=deposit&from=2026-01-01T00:00Z&to=2026-01-01T00:00:00.001Z");
    expect(res.json.items.map((e) => e.amount)).toEqual([5]);
    expect((await history(a, "kind=withdrawal")).json.items.map((e) => e.amount)).toEqual([-1]);
    const rowsRead = await runInDurableObject(walletStub(a.wallet_id), (_instance, ctx) => {
      const cursor = ctx.storage.sql.exec(
        `SELECT * FROM entries ${indexFor(false, true)} WHERE kind = 'withdrawal' AND seq BETWEEN 1 AND 3002 ORDER BY seq DESC LIMIT 51`,
      );
      cursor.toArray();
      return cursor.rowsRead;
    });
    // The one withdrawal sits under 3,000 newer deposits: the index walk reads it, not them.
    expect(rowsRead).toBeLessThanOrEqual(2);
  });
});
