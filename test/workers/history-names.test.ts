/**
 * History entries name their counterparty (issue 18): `counterparty_display_name`, read from the directory when
 * the page is served, beside the unchanged `counterparty` wallet id, so a payer the owner never paid or asked is
 * shown by name. Deposits and withdrawals have none; a filtered page is named the same way.
 */
import { describe, expect, it } from "vitest";
import { api, deposit, register, transfer, uniqueHandle } from "./helpers";

interface Item {
  kind: string;
  counterparty: string | null;
  counterparty_display_name: string | null;
}

describe("history counterparty names", () => {
  it("names a payer the owner never dealt with, and leaves deposits unnamed", async () => {
    const a = await register();
    const handle = uniqueHandle("payer");
    const named = await api<{ token: string; user: { id: string }; wallet: { id: string } }>("/auth/register", {
      body: { handle, password: "correct horse battery", display_name: "Zoë Payer" },
      headers: { "cf-connecting-ip": "203.0.113.77" },
    });
    expect(named.status, named.text).toBe(201);
    const payer = { id: named.json.user.id, handle, token: named.json.token, wallet_id: named.json.wallet.id };
    await deposit(payer, 500);
    await deposit(a, 100);
    expect((await transfer(payer, { handle: a.handle }, 200)).status).toBe(201);
    for (const query of ["", "?kind=transfer_in"]) {
      const page = await api<{ items: Item[] }>(`/wallets/${a.wallet_id}/history${query}`, { token: a.token });
      expect(page.status, page.text).toBe(200);
      const incoming = page.json.items.find((e) => e.kind === "transfer_in");
      expect(incoming, query).toMatchObject({ counterparty: payer.wallet_id, counterparty_display_name: "Zoë Payer" });
      const topUp = page.json.items.find((e) => e.kind === "deposit");
      if (query === "") expect(topUp).toMatchObject({ counterparty: null, counterparty_display_name: null });
    }
  });
});
