import { describe, expect, it } from "vitest";
import { api, assertLedger, deposit, register, settle, transfer } from "./helpers";

describe("smoke", () => {
  it("registers, deposits and pays another user by handle", async () => {
    const health = await api("/health");
    expect(health.status).toBe(200);
    const a = await register();
    const b = await register();
    await deposit(a, 10_000);
    const res = await transfer(a, { handle: b.handle }, 2_500);
    expect(res.status, res.text).toBe(201);
    await settle([a.id, b.id]);
    const check = await assertLedger([a.wallet_id, b.wallet_id]);
    expect(check.wallets.map((w) => w.balance)).toEqual([7_500, 2_500]);
  });
});
