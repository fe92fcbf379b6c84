/**
 * Refunds (contract v1.1): only the original recipient may refund; the sum of succeeded refunds never passes
 * the transfer's amount, however many race; a refund refused for funds takes no room; refunds are linked both
 * ways (refund_of on the refund, its entries and audit row; refunded_amount on the original), skip the daily
 * limit, and replays of the original stay frozen.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { EntryView } from "../../src/domain/views";
import {
  allRows,
  allEntries,
  api,
  assertLedger,
  auditRows,
  deposit,
  register,
  settle,
  transfer,
  type ApiResponse,
  type TestUser,
} from "./helpers";

interface TransferJson {
  id: string;
  status: string;
  from_wallet_id: string;
  to_wallet_id: string;
  amount: number;
  refund_of: string | null;
  refunded_amount: number;
  payment_request_id: string | null;
}

function refund(by: TestUser, transfer_id: string, amount: number, key: string = crypto.randomUUID(), memo?: string): Promise<ApiResponse> {
  return api(`/transfers/${transfer_id}/refunds`, { token: by.token, key, body: memo === undefined ? { amount } : { amount, memo } });
}

async function paid(amount: number): Promise<{ a: TestUser; b: TestUser; id: string; answer: ApiResponse; key: string }> {
  const a = await register();
  const b = await register();
  await deposit(a, 10_000);
  const key = crypto.randomUUID();
  const answer = await transfer(a, { handle: b.handle }, amount, key);
  expect(answer.status, answer.text).toBe(201);
  return { a, b, id: (answer.json as { transfer: TransferJson }).transfer.id, answer, key };
}

async function readTransfer(user: TestUser, id: string): Promise<TransferJson> {
  const res = await api<{ transfer: TransferJson }>(`/transfers/${id}`, { token: user.token });
  expect(res.status, res.text).toBe(200);
  return res.json.transfer;
}

describe("refunds", () => {
  it("gives part of a transfer back, linked both ways in transfers, entries and audit rows", async () => {
    const { a, b, id } = await paid(1_250);
    const first = await refund(b, id, 500, undefined, "sorry, too much");
    expect(first.status, first.text).toBe(201);
    const r = (first.json as { transfer: TransferJson }).transfer;
    expect(r).toMatchObject({
      status: "succeeded",
      from_wallet_id: b.wallet_id,
      to_wallet_id: a.wallet_id,
      amount: 500,
      refund_of: id,
      refunded_amount: 0,
    });
    expect(await readTransfer(a, id)).toMatchObject({ refunded_amount: 500, refund_of: null });
    expect(await readTransfer(b, id)).toMatchObject({ refunded_amount: 500 });
    expect(await readTransfer(a, r.id)).toMatchObject({ refund_of: id });
    const back = (await allEntries(a.wallet_id)).find((e: EntryView) => e.transfer_id === r.id);
    const out = (await allEntries(b.wallet_id)).find((e: EntryView) => e.transfer_id === r.id);
    expect(back).toMatchObject({ kind: "transfer_in", amount: 500, refund_of: id, memo: "sorry, too much" });
    expect(out).toMatchObject({ kind: "transfer_out", amount: -500, refund_of: id });
    await settle([a.id, b.id]);
    expect(await auditRows(r.id)).toEqual([expect.objectContaining({ kind: "transfer", status: "succeeded", refund_of: id, amount: 500 })]);
    const mirrored = await allRows("SELECT refund_of FROM ledger_entries WHERE transfer_id = ?", r.id);
    expect(mirrored).toEqual([{ refund_of: id }, { refund_of: id }]);
    const check = await assertLedger([a.wallet_id, b.wallet_id]);
    expect(check.wallets.map((w) => w.balance)).toEqual([10_000 - 1_250 + 500, 750]);
  });

  it("20 concurrent refunds of 1.00 on a 12.50 transfer: exactly 12 succeed, refunded_amount 1200", async () => {
    const { a, b, id } = await paid(1_250);
    const answers = await Promise.all(Array.from({ length: 20 }, () => refund(b, id, 100)));
    const codes = answers.map((r) => (r.status === 201 ? "ok" : (r.json as { error: { code: string } }).error.code));
    expect(codes.filter((c) => c === "ok").length).toBe(12);
    expect(codes.filter((c) => c === "refund_exceeds_transfer").length).toBe(8);
    expect(answers.filter((r) => r.status === 422).length).toBe(8);
    expect((await readTransfer(a, id)).refunded_amount).toBe(1_200);
    await settle([a.id, b.id]);
    const check = await assertLedger([a.wallet_id, b.wallet_id]);
    expect(check.wallets.map((w) => w.balance)).toEqual([10_000 - 1_250 + 1_200, 50]);
    const rows = { results: await allRows("SELECT status, failure_code FROM audit_log WHERE refund_of = ? AND home = 1", id) };
    expect(rows.results.filter((row) => row.status === "succeeded").length).toBe(12);
    expect(rows.results.filter((row) => row.failure_code === "refund_exceeds_transfer").length).toBe(8);
  });

  it("never sums past the transfer: a refund of the rest succeeds, one unit more does not", async () => {
    const { a, b, id } = await paid(1_000);
    expect((await refund(b, id, 600)).status).toBe(201);
    const over = await refund(b, id, 401);
    expect(over.status).toBe(422);
    expect(over.json).toMatchObject({ error: { code: "refund_exceeds_transfer" } });
    expect((await refund(b, id, 400)).status).toBe(201);
    expect((await refund(b, id, 1)).json).toMatchObject({ error: { code: "refund_exceeds_transfer" } });
    expect((await readTransfer(a, id)).refunded_amount).toBe(1_000);
  });

  it("a refund refused for lack of funds takes no room", async () => {
    const { a, b, id } = await paid(1_000);
    const c = await register();
    expect((await transfer(b, { handle: c.handle }, 900)).status).toBe(201);
    const poor = await refund(b, id, 1_000);
    expect(poor.status).toBe(422);
    expect(poor.json).toMatchObject({ error: { code: "insufficient_funds" } });
    expect((await readTransfer(a, id)).refunded_amount).toBe(0);
    await deposit(b, 900);
    expect((await refund(b, id, 1_000)).status).toBe(201);
    expect((await readTransfer(a, id)).refunded_amount).toBe(1_000);
  });

  it("only the recipient refunds: the sender gets 403, anyone else 404, and nothing moves", async () => {
    const { a, b, id } = await paid(500);
    const stranger = await register();
    expect((await refund(a, id, 100)).json).toMatchObject({ error: { code: "forbidden" } });
    expect((await refund(stranger, id, 100)).json).toMatchObject({ error: { code: "not_found" } });
    expect((await refund(b, "trf_nobody_000000000000", 100)).status).toBe(404);
    expect((await readTransfer(a, id)).refunded_amount).toBe(0);
    const check = await assertLedger([a.wallet_id, b.wallet_id]);
    expect(check.wallets.map((w) => w.balance)).toEqual([9_500, 500]);
  });

  it("a refund, a failed transfer and a deposit are not refundable (409)", async () => {
    const { a, b, id } = await paid(500);
    const r = (await refund(b, id, 100)).json as { transfer: TransferJson };
    expect((await refund(a, r.transfer.id, 50)).json).toMatchObject({ error: { code: "transfer_not_refundable" } });
    const failed = await transfer(a, { handle: b.handle }, 1_000_000);
    const failedId = (failed.json as { error: { transfer_id: string } }).error.transfer_id;
    expect(failed.status).toBe(422);
    expect((await refund(b, failedId, 1)).json).toMatchObject({ error: { code: "transfer_not_refundable" } });
  });

  it("replays are frozen: the original transfer replays with refunded_amount 0, a refund replays byte for byte", async () => {
    const { a, b, id, answer, key } = await paid(800);
    const rkey = crypto.randomUUID();
    const first = await refund(b, id, 300, rkey);
    const again = await refund(b, id, 300, rkey);
    expect(again.text).toBe(first.text);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect((await refund(b, id, 301, rkey)).json).toMatchObject({ error: { code: "idempotency_key_reused" } });
    const replayed = await transfer(a, { handle: b.handle }, 800, key);
    expect(replayed.text).toBe(answer.text);
    expect((await readTransfer(a, id)).refunded_amount).toBe(300);
  });

  it("refunds do not count toward the daily limit", async () => {
    const { a, b, id } = await paid(2_000);
    const c = await register();
    // Spend b's day on another transfer: the daily limit of the test config is far above, so set it by a big deposit.
    const limit = Number(env.DAILY_LIMIT_MINOR);
    await deposit(b, limit);
    expect((await transfer(b, { handle: c.handle }, limit)).status).toBe(201);
    expect((await transfer(b, { handle: c.handle }, 1)).json).toMatchObject({ error: { code: "daily_limit_exceeded" } });
    expect((await refund(b, id, 2_000)).status).toBe(201);
    expect((await readTransfer(a, id)).refunded_amount).toBe(2_000);
  });
});
