/**
 * Signed receipts: a succeeded transfer's receipt verifies with the published key, for either party; one
 * changed byte breaks it; a failed transfer has none; a third party cannot fetch it.
 */
import { describe, expect, it } from "vitest";
import { verifyReceipt, type SignedReceipt } from "../../src/audit/receipts";
import { api, deposit, register, transfer } from "./helpers";

describe("receipts", () => {
  it("verifies for both parties and names both entries of the transfer", async () => {
    const a = await register();
    const b = await register();
    await deposit(a, 1_000);
    const sent = await transfer(a, { handle: b.handle }, 250, crypto.randomUUID(), "rent");
    const id = (sent.json as { transfer: { id: string } }).transfer.id;
    const key = await api<{ key_id: string; alg: string; public_key: string }>("/receipts/public-key");
    expect(key.json).toMatchObject({ key_id: "test-r1", alg: "Ed25519" });
    for (const party of [a, b]) {
      const res = await api<SignedReceipt>(`/transfers/${id}/receipt`, { token: party.token });
      expect(res.status, res.text).toBe(200);
      expect(res.json.receipt.transfer).toMatchObject({
        id,
        amount: 250,
        from_wallet_id: a.wallet_id,
        to_wallet_id: b.wallet_id,
        memo: "rent",
      });
      expect(res.json.receipt.entries.map((e) => [e.wallet_id, e.kind, e.amount])).toEqual([
        [a.wallet_id, "transfer_out", -250],
        [b.wallet_id, "transfer_in", 250],
      ]);
      expect(await verifyReceipt(res.json, key.json.public_key)).toBe(true);
    }
  });

  it("fails verification after any change", async () => {
    const a = await register();
    const b = await register();
    await deposit(a, 1_000);
    const sent = await transfer(a, { handle: b.handle }, 250);
    const id = (sent.json as { transfer: { id: string } }).transfer.id;
    const key = await api<{ public_key: string }>("/receipts/public-key");
    const res = await api<SignedReceipt>(`/transfers/${id}/receipt`, { token: a.token });
    const tampered: SignedReceipt = {
      ...res.json,
      receipt: { ...res.json.receipt, transfer: { ...res.json.receipt.transfer, amount: 2_500 } },
    };
    expect(await verifyReceipt(tampered, key.json.public_key)).toBe(false);
    const bytes = res.text.replace(`"seq":1`, `"seq":2`);
    expect(bytes).not.toBe(res.text);
    expect(await verifyReceipt(JSON.parse(bytes) as SignedReceipt, key.json.public_key)).toBe(false);
  });

  it("a failed transfer has no receipt, and a third party cannot fetch one", async () => {
    const a = await register();
    const b = await register();
    const c = await register();
    await deposit(a, 100);
    const refused = await transfer(a, { handle: b.handle }, 500);
    const failedId = (refused.json as { error: { transfer_id: string } }).error.transfer_id;
    expect((await api(`/transfers/${failedId}/receipt`, { token: a.token })).status).toBe(404);
    const sent = await transfer(a, { handle: b.handle }, 50);
    const id = (sent.json as { transfer: { id: string } }).transfer.id;
    expect((await api(`/transfers/${id}/receipt`, { token: c.token })).status).toBe(403);
  });
});
