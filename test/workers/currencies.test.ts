/**
 * Wallets in several currencies (contract v1.1): `POST /wallets`, one wallet per ISO 4217 code and at most
 * WALLETS_MAX_PER_USER in all, and a transfer to a handle or phone landing in the recipient's wallet in the
 * sender's currency.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { WalletView } from "../../src/domain/views";
import { api, register, transfer, type TestUser } from "./helpers";

async function openWallet(user: TestUser, currency: unknown, key?: string) {
  return api<{ wallet: WalletView }>("/wallets", { token: user.token, body: { currency }, ...(key === undefined ? {} : { key }) });
}

async function walletCount(user: TestUser): Promise<number> {
  const row = await env.DB.prepare("SELECT count(*) AS n FROM wallets WHERE owner_id = ?").bind(user.id).first<{ n: number }>();
  return row?.n ?? -1;
}

describe("several currencies", () => {
  it("opens a wallet in a new currency, listed by GET /me and usable at once", async () => {
    const a = await register();
    const eur = await openWallet(a, "EUR");
    expect(eur.status, eur.text).toBe(201);
    expect(eur.json.wallet).toMatchObject({ owner_id: a.id, currency: "EUR", balance: 0, available: 0, held: 0, version: 0 });
    const me = await api<{ wallets: WalletView[] }>("/me", { token: a.token });
    expect(me.json.wallets.map((w) => w.currency)).toEqual(["USD", "EUR"]);
    const dep = await api(`/wallets/${eur.json.wallet.id}/deposits`, { token: a.token, key: crypto.randomUUID(), body: { amount: 500 } });
    expect(dep.status, dep.text).toBe(201);
  });

  it("refuses a second wallet in a currency already held with 409 wallet_exists, and creates nothing", async () => {
    const a = await register();
    expect((await openWallet(a, "USD")).json).toMatchObject({ error: { code: "wallet_exists" } });
    expect((await openWallet(a, "GBP")).status).toBe(201);
    const again = await openWallet(a, "GBP");
    expect(again.status).toBe(409);
    expect(await walletCount(a)).toBe(2);
  });

  it("accepts only active ISO 4217 codes", async () => {
    const a = await register();
    for (const bad of ["QQQ", "XTS", "XAU", "usd", "US", 840, null, "EURO"]) {
      const res = await openWallet(a, bad);
      expect(res.status, `${String(bad)}: ${res.text}`).toBe(400);
      expect(res.json).toMatchObject({ error: { code: "validation_error" } });
    }
    const reg = await api("/auth/register", {
      body: { handle: `q_${Date.now().toString(36)}`, password: "correct horse battery", currency: "QQQ" },
    });
    expect(reg.status).toBe(400);
    for (const good of ["JPY", "BHD", "CHF", "XOF"]) expect((await openWallet(a, good)).status).toBe(201);
    expect(await walletCount(a)).toBe(5);
  });

  it("stops at WALLETS_MAX_PER_USER with 422 limit_exceeded naming the limit, even when racing", async () => {
    const a = await register();
    const max = Number(env.WALLETS_MAX_PER_USER);
    const codes = ["EUR", "GBP", "JPY", "CHF", "CAD", "AUD", "NZD", "SEK", "NOK", "DKK", "PLN", "CZK", "HUF", "MXN"];
    expect(codes.length).toBeGreaterThan(max);
    const results = await Promise.all(codes.map((c) => openWallet(a, c)));
    const created = results.filter((r) => r.status === 201).length;
    expect(created).toBe(max - 1);
    const refused = results.filter((r) => r.status === 422);
    expect(refused.length).toBe(codes.length - (max - 1));
    expect(refused[0]?.json).toMatchObject({
      error: { code: "limit_exceeded", details: [{ field: "WALLETS_MAX_PER_USER", issue: `at most ${max}` }] },
    });
    expect(await walletCount(a)).toBe(max);
  });

  it("replays the first answer to a repeat of its Idempotency-Key, and refuses the key with another body", async () => {
    const a = await register();
    const key = crypto.randomUUID();
    const first = await openWallet(a, "EUR", key);
    const again = await openWallet(a, "EUR", key);
    expect(again.status).toBe(201);
    expect(again.text).toBe(first.text);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect((await openWallet(a, "GBP", key)).json).toMatchObject({ error: { code: "idempotency_key_reused" } });
    expect(await walletCount(a)).toBe(2);
  });

  it("pays a handle into the recipient's wallet in the sender's currency, and 422 currency_mismatch when they hold none", async () => {
    const a = await register();
    const b = await register();
    const aEur = (await openWallet(a, "EUR")).json.wallet;
    const bEur = (await openWallet(b, "EUR")).json.wallet;
    for (const w of [a.wallet_id, aEur.id])
      expect((await api(`/wallets/${w}/deposits`, { token: a.token, key: crypto.randomUUID(), body: { amount: 1_000 } })).status).toBe(201);
    const usd = await transfer(a, { handle: b.handle }, 100);
    expect(usd.json).toMatchObject({ transfer: { to_wallet_id: b.wallet_id, currency: "USD" } });
    const eur = await api("/transfers", {
      token: a.token,
      key: crypto.randomUUID(),
      body: { from_wallet_id: aEur.id, to: { handle: b.handle }, amount: 250 },
    });
    expect(eur.json).toMatchObject({ transfer: { to_wallet_id: bEur.id, currency: "EUR" } });
    const c = await register();
    const none = await api("/transfers", {
      token: a.token,
      key: crypto.randomUUID(),
      body: { from_wallet_id: aEur.id, to: { handle: c.handle }, amount: 1 },
    });
    expect(none.status).toBe(422);
    expect(none.json).toMatchObject({ error: { code: "currency_mismatch" } });
    const balances = await api<{ wallets: WalletView[] }>("/me", { token: b.token });
    expect(balances.json.wallets.map((w) => [w.currency, w.balance])).toEqual([
      ["USD", 100],
      ["EUR", 250],
    ]);
    const sender = await api<{ wallets: WalletView[] }>("/me", { token: a.token });
    expect(sender.json.wallets.map((w) => [w.currency, w.balance, w.held])).toEqual([
      ["USD", 900, 0],
      ["EUR", 750, 0],
    ]);
  });
});
