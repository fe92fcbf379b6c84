/**
 * The Cron Trigger's jobs. The continuous self-audit moves each changed wallet's verified mark to its chain
 * head, the wallet view and the live feed carry that mark, a run with nothing new visits nothing, a run's work
 * follows the wallets that changed (continuing where the last run stopped), the auditor sees how far behind it
 * is, and an entry altered in D1 is recorded as a finding naming its wallet and seq while the mark stays put.
 * The recovery sweep wakes every coordinator in turn, so one whose alarm was lost catches up on its own.
 */
import { createExecutionContext, createScheduledController, runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { selfAudit, type SelfAuditStatus } from "../../src/audit/self-audit";
import { recoverySweep } from "../../src/cron/recovery-sweep";
import type { TransferCoordinator } from "../../src/transfer-coordinator";
import worker from "../../src/worker";
import { tamper } from "./audit-helpers";
import {
  allRows,
  api,
  assertLedger,
  coordinatorStub,
  deposit,
  grantAuditor,
  register,
  settle,
  transfer,
  walletStub,
  type TestUser,
} from "./helpers";

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
    // Each mark is kept in its wallet's audit partition, beside the chain it covers.
    const marks = (await allRows("SELECT wallet_id, seq FROM verified_marks WHERE wallet_id IN (?, ?)", a.wallet_id, b.wallet_id)).sort(
      (x, y) => Number(x.seq) - Number(y.seq),
    );
    expect(marks).toEqual([
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
    await tamper("UPDATE ledger_entries SET memo = 'rewritten' WHERE wallet_id = ? AND seq = 2", a.wallet_id);
    await runCron();
    expect((await chainOf(a)).verified_seq).toBe(1);
    const findings = await env.DB.prepare("SELECT wallet_id, entry_seq, kind FROM audit_findings WHERE wallet_id = ?")
      .bind(a.wallet_id)
      .all();
    expect(findings.results).toEqual([{ wallet_id: a.wallet_id, entry_seq: 2, kind: "hash_mismatch" }]);
  });

  it("the wallet's live feed carries the new mark", async () => {
    const a = await register();
    await deposit(a, 100);
    await settle([a.id]);
    const up = await exports.default.fetch(
      new Request(`https://wallet.test/api/v1/wallets/${a.wallet_id}/live`, {
        headers: { upgrade: "websocket", authorization: `Bearer ${a.token}` },
      }),
    );
    const ws = up.webSocket;
    if (ws === null) throw new Error("no socket");
    const events: { type: string; wallet?: { chain: { verified_seq: number } } }[] = [];
    ws.accept();
    ws.addEventListener("message", (m) => events.push(JSON.parse(String(m.data)) as (typeof events)[number]));
    await runCron();
    const deadline = Date.now() + 3_000;
    while (!events.some((e) => e.type === "balance" && e.wallet?.chain.verified_seq === 1) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect(events[0]?.wallet?.chain.verified_seq).toBe(0);
    expect(events.some((e) => e.type === "balance" && e.wallet?.chain.verified_seq === 1)).toBe(true);
    ws.close(1000);
  });

  it("spreads a run's wallets over its spread, pausing between them", async () => {
    await runCron();
    for (let i = 0; i < 2; i++) {
      const u = await register();
      await deposit(u, 100);
      await settle([u.id]);
    }
    const began_ms = Date.now();
    const result = await selfAudit(env, { wallets_per_run: 4, entries_per_wallet: 1_000, spread_ms: 400 }, began_ms);
    const elapsed_ms = Date.now() - began_ms;
    expect(result.wallets).toBe(2);
    // 400 ms over the 2 wallets that changed: 200 ms before the second.
    expect(elapsed_ms).toBeGreaterThanOrEqual(200);
  });
});

describe("the self-audit follows the traffic", () => {
  const limits = { wallets_per_run: 25, entries_per_wallet: 1_000, spread_ms: 0 };

  it("a run audits only the wallets that changed since the last run, and a quiet run visits none", async () => {
    await runCron();
    const a = await register();
    await deposit(a, 300);
    await settle([a.id]);
    const first = await selfAudit(env, limits, Date.now());
    expect(first).toEqual({ wallets: 1, advanced: 1, findings: 0 });
    expect(await selfAudit(env, limits, Date.now())).toEqual({ wallets: 0, advanced: 0, findings: 0 });
  });

  it("60 changed wallets are all verified in runs of 25 (more than three with cross-partition copies), each continuing where the last stopped", async () => {
    await runCron();
    const users: TestUser[] = [];
    for (let i = 0; i < 30; i++) {
      const [u, v] = [await register(), await register()];
      await deposit(u, 1_000);
      await transfer(u, { handle: v.handle }, 250);
      users.push(u, v);
    }
    await settle(users.map((u) => u.id));
    const runs = [];
    do runs.push(await selfAudit(env, limits, Date.now()));
    while ((runs.at(-1)?.wallets ?? 0) > 0 && runs.length < 8);
    // A run takes an audit row only with all its wallets, so a wallet may be visited again by the next run
    // (which finds nothing new for it); every wallet advances exactly once. With two audit partitions a transfer
    // between them has a row in each (its home row and a copy), so each partition names its wallets once more:
    // 60 wallets are at most 90 visits, 4 full runs, and the run after them finds nothing. A run is full at 25,
    // or at 24 when the next row names two wallets it no longer has room for (whether it does depends on the
    // random placement of the wallets in partitions).
    for (const run of runs.slice(0, 2)) expect([24, 25]).toContain(run.wallets);
    expect(runs.length).toBeLessThanOrEqual(5);
    expect(runs.at(-1)?.wallets).toBe(0);
    expect(runs.reduce((n, r) => n + r.advanced, 0)).toBe(60);
    for (const u of users) expect((await chainOf(u)).verified_seq).toBe((await chainOf(u)).head_seq);
  });

  it("the auditor's status says how far behind the self-audit is, and catches up to zero", async () => {
    const auditor = await register();
    await grantAuditor(auditor);
    const login = await api<{ token: string }>("/auth/login", { body: { handle: auditor.handle, password: "correct horse battery" } });
    const token = login.json.token;
    await runCron();
    const a = await register();
    await deposit(a, 500);
    await deposit(a, 700);
    await settle([a.id]);
    const behind = await api<SelfAuditStatus>("/audit/self-audit", { token });
    expect(behind.status, behind.text).toBe(200);
    expect(behind.json.backlog_rows).toBe(2);
    expect(behind.json.newest_seq - behind.json.audited_through_seq).toBe(2);
    expect(behind.json.oldest_waiting_at).not.toBeNull();
    await runCron();
    const caught = await api<SelfAuditStatus>("/audit/self-audit", { token });
    expect(caught.json).toMatchObject({ backlog_rows: 0, lag_ms: 0, oldest_waiting_at: null, audited_through_seq: behind.json.newest_seq });
    expect(caught.json.last_run_at).not.toBeNull();
    expect((await api("/audit/self-audit", { token: a.token })).status).toBe(403);
  });
});

describe("the recovery sweep", () => {
  it("wakes every coordinator in turn across runs, and one whose alarm was lost schedules it again", async () => {
    const a = await register();
    const b = await register();
    await deposit(a, 1_000);
    await settle([a.id]);
    // A movement left started with no alarm that will come: the alarm was lost while the disk was full.
    await runInDurableObject(coordinatorStub(a.id), (instance: TransferCoordinator) => {
      instance.failpoints.set("before_alarm", "fill_disk");
      instance.failpoints.set("after_start", "throw");
    });
    await transfer(a, { handle: b.handle }, 400).catch(() => null);
    await runInDurableObject(coordinatorStub(a.id), (instance: TransferCoordinator) => {
      instance.faults.disk_full = false;
    });
    expect((await coordinatorStub(a.id).pending()).started).toBe(1);
    const { results } = await env.DB.prepare("SELECT COUNT(*) AS n FROM users").all<{ n: number }>();
    const total = results[0]?.n ?? 0;
    let woken = 0;
    let scheduled = 0;
    for (let run = 0; run < Math.ceil(total / 25) + 1 && (await coordinatorStub(a.id).pending()).started > 0; run++) {
      const r = await recoverySweep(env, { per_run: 25, spread_ms: 0 }, Date.now());
      woken += r.woken;
      scheduled += r.scheduled;
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    expect(scheduled).toBeGreaterThanOrEqual(1);
    expect(woken).toBeGreaterThan(0);
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && (await coordinatorStub(a.id).pending()).started > 0) await new Promise((r) => setTimeout(r, 50));
    expect((await coordinatorStub(a.id).pending()).started).toBe(0);
    await settle([a.id]);
    const ledger = await assertLedger([a.wallet_id, b.wallet_id]);
    expect(ledger.wallets.map((w) => w.balance)).toEqual([600, 400]);
  });
});
