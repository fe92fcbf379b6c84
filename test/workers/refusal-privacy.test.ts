/**
 * A refused transfer reveals nothing about its recipient that the sender did not send (issue 19): sent to a
 * phone number or a handle and refused, `GET /transfers/{id}` and the replay show no recipient wallet id, so a
 * sender with an empty wallet cannot map phone numbers to wallets and users. Sent to a wallet id, the view
 * shows that id (the sender named it). The auditor's audit row keeps the resolved wallet.
 */
import { describe, expect, it } from "vitest";
import { allRows, api, deposit, register, settle, transfer } from "./helpers";

type Refusal = { error: { code: string; transfer_id: string } };
type Read = { transfer: { status: string; to_wallet_id: string | null; failure_code: string | null } };

describe("a refused transfer", () => {
  it.each([
    ["a phone number", "phone"],
    ["a handle", "handle"],
  ] as const)("to %s shows no recipient wallet, in the read and in the replay", async (_label, by) => {
    const phone = `+1555${String(Math.floor(Math.random() * 1e7)).padStart(7, "0")}`;
    const a = await register();
    const b = await register({ phone });
    await deposit(a, 100);
    await settle([a.id]);
    const key = crypto.randomUUID();
    const to: Record<string, string> = by === "phone" ? { phone } : { handle: b.handle };
    const refused = await transfer(a, to, 1_000, key);
    expect(refused.status, refused.text).toBe(422);
    const id = (refused.json as unknown as Refusal).error.transfer_id;
    expect(refused.text).not.toContain(b.wallet_id);
    const read = await api<Read>(`/transfers/${id}`, { token: a.token });
    expect(read.status).toBe(200);
    expect(read.json.transfer).toMatchObject({ status: "failed", failure_code: "insufficient_funds", to_wallet_id: null });
    expect(read.text).not.toContain(b.wallet_id);
    const replay = await transfer(a, to, 1_000, key);
    expect(replay.text).toBe(refused.text);
    await settle([a.id]);
    const [audit] = await allRows<{ to_wallet_id: string }>("SELECT to_wallet_id FROM audit_log WHERE transfer_id = ? AND home = 1", id);
    expect(audit?.to_wallet_id).toBe(b.wallet_id);
  });

  it("to a wallet id shows that id, which the sender sent", async () => {
    const a = await register();
    const b = await register();
    const refused = await transfer(a, { wallet_id: b.wallet_id }, 1_000);
    expect(refused.status).toBe(422);
    const id = (refused.json as unknown as Refusal).error.transfer_id;
    const read = await api<Read>(`/transfers/${id}`, { token: a.token });
    expect(read.json.transfer.to_wallet_id).toBe(b.wallet_id);
  });
});
