/**
 * Sustained faults on a coordinator (src/db/faults.ts): D1 refusing or stalling its writes, and a full disk
 * under its own storage. Each test holds the fault on for a while, checks what the coordinator does meanwhile
 * (its alarm backs off, its memory stays bounded, every answer is a contract answer), then clears the fault and
 * checks that it catches up on its own, without a restart, and that the ledger is whole.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Faults } from "../../src/db/faults";
import { ALARM_LOST_AFTER_MS, type TransferCoordinator } from "../../src/transfer-coordinator";
import { countAll, api, assertLedger, coordinatorStub, deposit, register, settle, transfer, type TestUser } from "./helpers";

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function setFaults(user: TestUser, change: Partial<Faults>): Promise<Faults> {
  return runInDurableObject(coordinatorStub(user.id), (instance: TransferCoordinator) => {
    Object.assign(instance.faults, change);
    return { ...instance.faults };
  });
}

async function auditCount(userId: string): Promise<number> {
  const row = await api<never>("/health");
  expect(row.status).toBe(200);
  return countAll("SELECT COUNT(*) AS n FROM audit_log WHERE home = 1 AND user_id = ?", userId);
}

async function storedAlarm(user: TestUser): Promise<number | null> {
  return runInDurableObject(coordinatorStub(user.id), (_instance: TransferCoordinator, state) => state.storage.getAlarm());
}

async function funded(amount: number): Promise<[TestUser, TestUser]> {
  const a = await register();
  const b = await register();
  await deposit(a, amount);
  await settle([a.id]);
  return [a, b];
}

describe("D1 refusing writes", () => {
  it("the alarm backs off instead of spinning, and every success waits in storage, not in memory", async () => {
    const [a, b] = await funded(100_000);
    await setFaults(a, { d1_down: true });
    for (let i = 0; i < 30; i++) expect((await transfer(a, { handle: b.handle }, 100)).status).toBe(201);
    // Let the outage last: the alarm and the outbox keep trying on their own (recovery 50 ms, cap 400 ms here).
    const before = (await setFaults(a, {})).d1_writes_refused;
    await sleep(2_000);
    const during = (await setFaults(a, {})).d1_writes_refused - before;
    // With back-off, about one attempt per 200-400 ms; a spinning alarm made hundreds in this window.
    expect(during).toBeGreaterThan(0);
    expect(during).toBeLessThan(40);
    const memory = await coordinatorStub(a.id).memory();
    expect(memory.finished).toBe(0);
    expect(await coordinatorStub(a.id).pending()).toEqual({ started: 0, outbox: 30, relays: 0 });
    expect(await auditCount(a.id)).toBe(1);
    // D1 comes back: everything is delivered by the alarm alone, exactly once.
    await setFaults(a, { d1_down: false });
    await settle([a.id], 10_000);
    expect(await auditCount(a.id)).toBe(31);
    const ledger = await assertLedger([a.wallet_id, b.wallet_id]);
    expect(ledger.wallets.map((w) => w.balance)).toEqual([97_000, 3_000]);
  });

  it("while D1 is slow, successes kept in memory never pass their bound; the rest wait in storage", async () => {
    const [a, b] = await funded(100_000);
    await setFaults(a, { d1_stalled: true });
    let largest = 0;
    const sends = Array.from({ length: 60 }, () => transfer(a, { handle: b.handle }, 10));
    const sampler = (async () => {
      for (let i = 0; i < 40; i++) {
        const m = await coordinatorStub(a.id).memory();
        largest = Math.max(largest, m.finished);
        await sleep(10);
      }
    })();
    const answers = await Promise.all(sends);
    await sampler;
    expect(answers.map((r) => r.status)).toEqual(answers.map(() => 201));
    const { finished, finished_max } = await coordinatorStub(a.id).memory();
    expect(finished_max).toBe(20);
    expect(Math.max(largest, finished)).toBeLessThanOrEqual(finished_max);
    expect((await coordinatorStub(a.id).pending()).outbox).toBeGreaterThan(0);
    await setFaults(a, { d1_stalled: false });
    await settle([a.id], 10_000);
    expect(await auditCount(a.id)).toBe(61);
    const ledger = await assertLedger([a.wallet_id, b.wallet_id]);
    expect(ledger.wallets.map((w) => w.balance)).toEqual([99_400, 600]);
  });
});

describe("a full disk under the coordinator", () => {
  it("a new movement is refused with 503 and nothing moves; once the disk frees, the same key goes through", async () => {
    const [a, b] = await funded(10_000);
    await setFaults(a, { disk_full: true });
    const key = crypto.randomUUID();
    const refused = await transfer(a, { handle: b.handle }, 500, key);
    expect(refused.status, refused.text).toBe(503);
    expect(refused.headers.get("retry-after")).not.toBeNull();
    await setFaults(a, { disk_full: false });
    const retried = await transfer(a, { handle: b.handle }, 500, key);
    expect(retried.status, retried.text).toBe(201);
    await settle([a.id]);
    const ledger = await assertLedger([a.wallet_id, b.wallet_id]);
    expect(ledger.wallets.map((w) => w.balance)).toEqual([9_500, 500]);
  });

  it("an alarm whose setting failed is not trusted: once the disk frees, a wake-up schedules it and recovery runs alone", async () => {
    const [a, b] = await funded(10_000);
    // The movement is recorded, then the disk fills before its alarm is set, and the caller goes away.
    await runInDurableObject(coordinatorStub(a.id), (instance: TransferCoordinator) => {
      instance.failpoints.set("before_alarm", "fill_disk");
      instance.failpoints.set("after_start", "throw");
    });
    // The only alarm stored is the far one that forgets the deposit's idempotency key, days away.
    const far = await storedAlarm(a);
    expect(far).toBeGreaterThan(Date.now() + 3_600_000);
    await transfer(a, { handle: b.handle }, 700).catch(() => null);
    expect(await storedAlarm(a)).toBe(far);
    expect((await coordinatorStub(a.id).pending()).started).toBe(1);
    await setFaults(a, { disk_full: false });
    // What the Cron sweep does for every coordinator: wake it. No request, no alarm run by the test.
    expect(await coordinatorStub(a.id).wake()).toEqual({ code: "scheduled" });
    expect(await storedAlarm(a)).toBeLessThan(Date.now() + 60_000);
    const deadline = Date.now() + 10_000;
    let owed = await coordinatorStub(a.id).pending();
    while (Date.now() < deadline && owed.started + owed.outbox > 0) {
      await sleep(50);
      owed = await coordinatorStub(a.id).pending();
    }
    expect(owed).toEqual({ started: 0, outbox: 0, relays: 0 });
    const ledger = await assertLedger([a.wallet_id, b.wallet_id]);
    expect(ledger.wallets.map((w) => w.balance)).toEqual([9_300, 700]);
    expect(await coordinatorStub(a.id).wake()).toEqual({ code: "idle" });
  });

  it("a failed alarm run backs off, and the first run after the disk frees finishes everything", async () => {
    const [a, b] = await funded(10_000);
    await runInDurableObject(coordinatorStub(a.id), (instance: TransferCoordinator) => {
      instance.failpoints.set("after_reserve", "throw");
    });
    const first = await transfer(a, { handle: b.handle }, 300);
    expect(first.status).toBe(503);
    await setFaults(a, { disk_full: true });
    // Runs under the full disk: none may throw out, and each leaves the next run at least a back-off away.
    for (let i = 0; i < 3; i++) await runDurableObjectAlarm(coordinatorStub(a.id)).catch(() => false);
    const memory = await coordinatorStub(a.id).memory();
    expect(memory.alarm_failures).toBeGreaterThan(0);
    const refused = (await setFaults(a, { disk_full: false })).disk_writes_refused;
    expect(refused).toBeGreaterThan(0);
    // The runs could not store their next alarm (the runtime would retry a failed run itself; the test's
    // harness does not). The Cron sweep's wake-up is what finds the coordinator again.
    const alarm = await storedAlarm(a);
    if (alarm !== null) expect(alarm).toBeGreaterThan(Date.now() - ALARM_LOST_AFTER_MS);
    expect(await coordinatorStub(a.id).wake()).toEqual({ code: "scheduled" });
    await settle([a.id]);
    expect((await coordinatorStub(a.id).memory()).alarm_failures).toBe(0);
    const ledger = await assertLedger([a.wallet_id, b.wallet_id]);
    expect(ledger.wallets.map((w) => w.balance)).toEqual([9_700, 300]);
  });
});
