/**
 * `GET /audit/verify` as a v1 client calls it (no cursor, no limit) answers for the whole ledger: up to
 * VERIFY_WHOLE_MAX_WALLETS wallets live (5 in tests) and the rest through the self-audit's marks, and it says
 * `complete: false` (so never `ok: true`) while any wallet is unverified. A page is never `ok`, and a client
 * that walks every page finds a tampered last wallet by wallet and seq.
 */
import { createExecutionContext, createScheduledController, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { entryHash } from "../../src/domain/hash-chain";
import type { EntryView } from "../../src/domain/views";
import worker from "../../src/worker";
import type { TransferCoordinator } from "../../src/transfer-coordinator";
import { allRows, api, coordinatorStub, deposit, grantAuditor, register, settle, transfer, type TestUser } from "./helpers";
import { partitionDbs, walletDb } from "../../src/db/partitions";

interface Report {
  ok: boolean;
  complete: boolean;
  wallets_checked: number;
  problems: { wallet_id: string | null; seq: number | null; kind: string }[];
  problems_omitted: number;
  verified_by_self_audit: number;
  unverified_wallets: number;
  next_cursor: string | null;
  progress: { wallets_done: number; wallets_total: number };
}

let auditor: TestUser;
const users: TestUser[] = [];

beforeAll(async () => {
  auditor = await register({ prefix: "auditor" });
  await grantAuditor(auditor);
  for (let i = 0; i < 12; i++) {
    const u = await register({ prefix: "whole" });
    await deposit(u, 1_000 + i);
    users.push(u);
  }
  await settle(users.map((u) => u.id));
});

const runCron = (): Promise<void> =>
  worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "* * * * *" }), env, createExecutionContext());

async function verify(query = ""): Promise<Report> {
  const res = await api<Report>(`/audit/verify${query}`, { token: auditor.token });
  expect(res.status, res.text).toBe(200);
  return res.json;
}

/** Runs `sql` in every audit partition with the entry mirror's update trigger lifted for it. */
const tamper = async (sql: string, ...binds: unknown[]): Promise<void> => {
  for (const db of partitionDbs(env))
    await db.batch([
      db.prepare("DROP TRIGGER ledger_entries_no_update"),
      db.prepare(sql).bind(...binds),
      db.prepare(
        "CREATE TRIGGER ledger_entries_no_update BEFORE UPDATE ON ledger_entries BEGIN SELECT RAISE(ABORT, 'ledger_entries is append-only'); END",
      ),
    ]);
};

describe("whole-ledger verification", () => {
  it("is not ok while wallets beyond the live budget are unverified, and ok once the self-audit covers them", async () => {
    const before = await verify();
    expect(before.wallets_checked).toBe(5);
    expect(before.next_cursor).toBeNull();
    expect(before.unverified_wallets).toBeGreaterThan(0);
    expect(before).toMatchObject({ complete: false, ok: false, problems: [] });
    await runCron();
    const after = await verify();
    expect(after).toMatchObject({ complete: true, ok: true, unverified_wallets: 0, problems: [] });
    expect(after.verified_by_self_audit).toBe(after.progress.wallets_total - 5);
  });

  it("never calls a page ok; a client walking every page finds the tampered last wallet by wallet and seq", async () => {
    const first = await verify("?limit=4");
    expect(first).toMatchObject({ ok: false, complete: false, problems: [] });
    expect(first.next_cursor).not.toBeNull();
    const last = [...users].sort((a, b) => (a.wallet_id < b.wallet_id ? -1 : 1)).at(-1);
    if (last === undefined) throw new Error("no users");
    // A careful forger rewrites the memo and the entry's hash to match, so the link itself recomputes.
    const row = await walletDb(env, last.wallet_id)
      .prepare(
        "SELECT seq, id, kind, amount, balance_after, transfer_id, counterparty, memo, created_at, prev_hash, hash FROM ledger_entries WHERE wallet_id = ? AND seq = 1",
      )
      .bind(last.wallet_id)
      .first<EntryView>();
    if (row === null) throw new Error("no entry");
    const { hash: _old, ...fields } = { ...row, memo: "rewritten" };
    await tamper(
      "UPDATE ledger_entries SET memo = 'rewritten', hash = ? WHERE wallet_id = ? AND seq = 1",
      entryHash(last.wallet_id, fields),
      last.wallet_id,
    );
    const problems: Report["problems"] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: Report = await verify(`?limit=4${cursor === null ? "" : `&cursor=${cursor}`}`);
      problems.push(...page.problems);
      if (page.next_cursor !== null) expect(page.ok).toBe(false);
      cursor = page.next_cursor;
      pages++;
    } while (cursor !== null);
    expect(pages).toBeGreaterThan(2);
    // A cursor this route never returned is a 400 naming it, not an empty page.
    for (const bad of ["zz", "wal_", "wal_../x"]) {
      const res = await api(`/audit/verify?limit=4&cursor=${encodeURIComponent(bad)}`, { token: auditor.token });
      expect(res.status, bad).toBe(400);
      expect(res.text).toContain('"field":"cursor"');
    }
    expect(problems).toEqual(
      expect.arrayContaining([expect.objectContaining({ wallet_id: last.wallet_id, seq: 1, kind: "head_mismatch" })]),
    );
    // The v1 call checks that wallet through its mark, whose hash D1 no longer has.
    const whole = await verify();
    expect(whole.ok).toBe(false);
    expect(whole.problems).toEqual(expect.arrayContaining([expect.objectContaining({ wallet_id: last.wallet_id, seq: 1 })]));
  });
});

describe("verification while D1 is down", () => {
  it("an entry held back past the grace period is pending while its coordinator still owes it, not missing", async () => {
    const a = await register({ prefix: "outage" });
    const b = await register({ prefix: "outage" });
    await deposit(a, 5_000);
    await settle([a.id]);
    await runInDurableObject(coordinatorStub(a.id), (instance: TransferCoordinator) => {
      instance.faults.d1_down = true;
    });
    const sent = await transfer(a, { handle: b.handle }, 700);
    expect(sent.status).toBe(201);
    // Older than OUTBOX_GRACE_MS (1 s in tests), still not in D1.
    await new Promise((r) => setTimeout(r, 1_300));
    const during: Report["problems"] = [];
    let pending = 0;
    let cursor: string | null = null;
    do {
      const page: Report & { pending: number } = await api<Report & { pending: number }>(
        `/audit/verify?limit=50${cursor === null ? "" : `&cursor=${cursor}`}`,
        { token: auditor.token },
      ).then((r) => r.json);
      during.push(...page.problems);
      pending += page.pending;
      cursor = page.next_cursor;
    } while (cursor !== null);
    expect(during.filter((p) => p.kind === "missing_in_d1")).toEqual([]);
    expect(pending).toBe(2);
    await runInDurableObject(coordinatorStub(a.id), (instance: TransferCoordinator) => {
      instance.faults.d1_down = false;
    });
    await settle([a.id]);
    // (The earlier test's forged wallet is still reported; these two wallets are clean.)
    const after = await verify();
    expect(after.problems.filter((p) => p.wallet_id === a.wallet_id || p.wallet_id === b.wallet_id)).toEqual([]);
  });
});

describe("conservation past 2^53", () => {
  it("ten nearly full wallets and two small withdrawals balance exactly: the sums are compared in SQLite, per currency", async () => {
    const rich: TestUser[] = [];
    for (let i = 0; i < 10; i++) {
      const u = await register({ prefix: "rich" });
      await deposit(u, 999_999_999_999_990);
      rich.push(u);
    }
    for (const [u, amount] of [
      [rich[0], 1],
      [rich[1], 2],
    ] as const) {
      if (u === undefined) throw new Error("no user");
      const res = await api(`/wallets/${u.wallet_id}/withdrawals`, { token: u.token, key: crypto.randomUUID(), body: { amount } });
      expect(res.status, res.text).toBe(201);
    }
    await settle(rich.map((u) => u.id));
    // Nudge the deposits by single minor units until sums taken as JavaScript numbers disagree (as the outside
    // probe found they can): the check must still see an exact balance.
    // Summed over the audit partitions as BigInt (each partition's own sum is exact in SQLite).
    const sums = async () => {
      const rows = await allRows<{ e: string | null; d: string | null; w: string | null }>(
        "SELECT CAST((SELECT sum(amount) FROM ledger_entries) AS TEXT) AS e, CAST((SELECT sum(amount) FROM audit_log WHERE status = 'succeeded' AND kind = 'deposit') AS TEXT) AS d, CAST((SELECT sum(amount) FROM audit_log WHERE status = 'succeeded' AND kind = 'withdrawal') AS TEXT) AS w",
      );
      const total = (key: "e" | "d" | "w") => String(rows.reduce((sum, r) => sum + BigInt(r[key] ?? "0"), 0n));
      return { e: total("e"), d: total("d"), w: total("w") };
    };
    let s = await sums();
    for (let i = 0; i < 4 && Number(s.e) === Number(s.d) - Number(s.w); i++) {
      await deposit(rich[2] as TestUser, 1);
      await settle([(rich[2] as TestUser).id]);
      s = await sums();
    }
    expect(BigInt(s.e)).toBe(BigInt(s.d) - BigInt(s.w));
    expect(Number(s.e)).not.toBe(Number(s.d) - Number(s.w));
    const problems: Report["problems"] = [];
    let cursor: string | null = null;
    do {
      const page: Report = await verify(`?limit=50${cursor === null ? "" : `&cursor=${cursor}`}`);
      problems.push(...page.problems);
      cursor = page.next_cursor;
    } while (cursor !== null);
    expect(problems.filter((p) => p.kind === "conservation")).toEqual([]);
  });
});
