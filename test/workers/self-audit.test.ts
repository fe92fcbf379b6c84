/**
 * The continuous self-audit (Cron Trigger): it moves each wallet's verified mark to its chain head, the wallet
 * view and the live feed carry that mark, a run with nothing new changes nothing, and an entry altered in D1
 * is recorded as a finding naming its wallet and seq while the mark stays put.
 */
import { createExecutionContext, createScheduledController } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { selfAudit } from "../../src/audit/self-audit";
import worker from "../../src/worker";
import { deposit, register, settle, transfer, walletStub, type TestUser } from "./helpers";

async function runCron(): Promise<void> {
  await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "* * * * *" }), env, createExecutionContext());
}

async function chainOf(user: TestUser): Promise<{ head_seq: number; verified_seq: number }> {
  const snap = await walletStub(user.wallet_id).snapshot();
  if (snap.code !== "ok") throw new Error("missing");
  return snap.wallet.chain;
}

describe("continuous self-audit", () => {
  it("marks every wallet verified through its head, and a second run changes nothing", async () => {
    const a = await register();
    const b = await register();
    await deposit(a, 5_000);
    for (let i = 1; i <= 3; i++) await transfer(a, { handle: b.handle }, 100 * i);
    await settle([a.id, b.id]);
    await runCron();
    expect(await chainOf(a)).toMatchObject({ head_seq: 4, verified_seq: 4 });
    expect(await chainOf(b)).toMatchObject({ head_seq: 3, verified_seq: 3 });
    const marks = await env.DB.prepare("SELECT wallet_id, seq FROM verified_marks WHERE wallet_id IN (?, ?) ORDER BY seq").bind(a.wallet_id, b.wallet_id).all();
    expect(marks.results).toEqual([
      { wallet_id: b.wallet_id, seq: 3 },
      { wallet_id: a.wallet_id, seq: 4 },
    ]);
    const versionBefore = (await walletStub(a.wallet_id).snapshot()).code === "ok";
    await runCron();
    expect(await chainOf(a)).toMatchObject({ head_seq: 4, verified_seq: 4 });
    expect(versionBefore).toBe(true);
  });

  it("records an entry altered in D1 as a finding, and does not move the mark past it", async () => {
    const a = await register();
    const b = await register();
    await deposit(a, 5_000);
    await settle([a.id, b.id]);
    await runCron();
    expect((await chainOf(a)).verified_seq).toBe(1);
    await transfer(a, { handle: b.handle }, 700);
    await settle([a.id, b.id]);
    await env.DB.batch([
      env.DB.prepare("DROP TRIGGER ledger_entries_no_update"),
      env.DB.prepare("UPDATE ledger_entries SET memo = 'rewritten' WHERE wallet_id = ? AND seq = 2").bind(a.wallet_id),
      env.DB.prepare("CREATE TRIGGER ledger_entries_no_update BEFORE UPDATE ON ledger_entries BEGIN SELECT RAISE(ABORT, 'ledger_entries is append-only'); END"),
    ]);
    await runCron();
    expect((await chainOf(a)).verified_seq).toBe(1);
    const findings = await env.DB.prepare("SELECT wallet_id, entry_seq, kind FROM audit_findings WHERE wallet_id = ?").bind(a.wallet_id).all();
    expect(findings.results).toEqual([{ wallet_id: a.wallet_id, entry_seq: 2, kind: "hash_mismatch" }]);
  });

  it("the wallet's live feed carries the new mark", async () => {
    const a = await register();
    await deposit(a, 100);
    await settle([a.id]);
    const up = await exports.default.fetch(new Request(`https://wallet.test/api/v1/wallets/${a.wallet_id}/live`, { headers: { upgrade: "websocket", authorization: `Bearer ${a.token}` } }));
    const ws = up.webSocket;
    if (ws === null) throw new Error("no socket");
    const events: { type: string; wallet?: { chain: { verified_seq: number } } }[] = [];
    ws.accept();
    ws.addEventListener("message", (m) => events.push(JSON.parse(String(m.data)) as (typeof events)[number]));
    await runCron();
    const deadline = Date.now() + 3_000;
    while (!events.some((e) => e.type === "balance" && e.wallet?.chain.verified_seq === 1) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(events[0]?.wallet?.chain.verified_seq).toBe(0);
    expect(events.some((e) => e.type === "balance" && e.wallet?.chain.verified_seq === 1)).toBe(true);
    ws.close(1000);
  });

  it("spreads a run's wallets over its spread, pausing between them", async () => {
    await register();
    await register();
    const began_ms = Date.now();
    const result = await selfAudit(env, { wallets_per_run: 4, entries_per_wallet: 1_000, spread_ms: 400 }, began_ms);
    const elapsed_ms = Date.now() - began_ms;
    expect(result.wallets).toBeGreaterThanOrEqual(2);
    // 400 ms over 4 wallets: 100 ms before every wallet but the first.
    expect(elapsed_ms).toBeGreaterThanOrEqual((result.wallets - 1) * 100);
  });
});
