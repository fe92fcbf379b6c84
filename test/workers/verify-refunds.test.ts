/**
 * The auditor's verifier and refunds: a refund is checked as a transfer, and against the transfer it refunds
 * (same wallets the other way, same currency, never summing past it). Its own file, because it tampers with D1.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { api, deposit, grantAuditor, register, settle, transfer, type TestUser } from "./helpers";
import { tamper, verifyAll } from "./audit-helpers";

let auditor: TestUser;
beforeAll(async () => {
  auditor = await register({ prefix: "auditor" });
  await grantAuditor(auditor);
});

describe("audit verify and refunds", () => {
  it("is ok with refunds as made, and names a transfer whose refund row was edited past it", async () => {
    const a = await register();
    const b = await register();
    await deposit(a, 5_000);
    const sent = await transfer(a, { wallet_id: b.wallet_id }, 1_000);
    const id = (sent.json as { transfer: { id: string } }).transfer.id;
    const refunds = [];
    for (const amount of [300, 700])
      refunds.push(await api(`/transfers/${id}/refunds`, { token: b.token, key: crypto.randomUUID(), body: { amount } }));
    expect(refunds.map((r) => r.status)).toEqual([201, 201]);
    await settle([a.id, b.id]);
    expect((await verifyAll(auditor)).problems).toEqual([]);
    const rid = (refunds[0]?.json as { transfer: { id: string } }).transfer.id;
    await tamper("UPDATE audit_log SET amount = 301 WHERE transfer_id = ?", rid);
    const problems = (await verifyAll(auditor)).problems;
    expect(problems).toContainEqual(expect.objectContaining({ kind: "refund_mismatch", transfer_id: id }));
  });
});
