/**
 * Transfers, deposits and withdrawals end to end through the HTTP API: the three kinds of recipient, byte-for-
 * byte replays, refusals that replay as refusals, reads by each party, history paging, and the audit log.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  countAll,
  allRows,
  api,
  assertLedger,
  auditRows,
  deposit,
  grantAuditor,
  register,
  settle,
  transfer,
  type TestUser,
} from "./helpers";
import { walletDb } from "../../src/db/partitions";

interface TransferJson {
  transfer: {
    id: string;
    status: string;
    from_wallet_id: string;
    to_wallet_id: string;
    amount: number;
    currency: string;
    memo: string | null;
    completed_at: string;
  };
}

async function pair(amount = 10_000): Promise<[TestUser, TestUser]> {
  const a = await register();
  const b = await register({ phone: `+1555${String(Math.floor(Math.random() * 1e7)).padStart(7, "0")}` });
  await deposit(a, amount);
  return [a, b];
}

describe("transfers", () => {
  it("pays by handle, by wallet id and by phone, with the contract's transfer shape", async () => {
    const a = await register();
    const phone = `+1415${String(Math.floor(Math.random() * 1e7)).padStart(7, "0")}`;
    const b = await register({ phone });
    await deposit(a, 10_000);
    const byHandle = await transfer(a, { handle: b.handle }, 100, crypto.randomUUID(), "lunch");
    const byWallet = await transfer(a, { wallet_id: b.wallet_id }, 200);
    const byPhone = await transfer(a, { phone }, 300);
    for (const res of [byHandle, byWallet, byPhone]) {
      expect(res.status, res.text).toBe(201);
      const t = (res.json as unknown as TransferJson).transfer;
      expect(t).toMatchObject({ status: "succeeded", from_wallet_id: a.wallet_id, to_wallet_id: b.wallet_id, currency: "USD" });
      expect(Object.keys(t)).toEqual([
        "id",
        "status",
        "from_wallet_id",
        "to_wallet_id",
        "amount",
        "currency",
        "memo",
        "created_at",
        "completed_at",
        "refund_of",
        "refunded_amount",
        "payment_request_id",
      ]);
    }
    expect((byHandle.json as unknown as TransferJson).transfer.memo).toBe("lunch");
    await settle([a.id, b.id]);
    const check = await assertLedger([a.wallet_id, b.wallet_id]);
    expect(check.wallets.map((w) => w.balance)).toEqual([9_400, 600]);
    expect(check.total_balance).toBe(10_000);
  });

  it("a repeat with the same key replays the first answer byte for byte and moves money once", async () => {
    const [a, b] = await pair();
    const key = crypto.randomUUID();
    const first = await transfer(a, { handle: b.handle }, 250, key);
    const second = await transfer(a, { handle: b.handle }, 250, key);
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.text).toBe(first.text);
    expect(first.headers.get("idempotent-replayed")).toBeNull();
    expect(second.headers.get("idempotent-replayed")).toBe("true");
    await settle([a.id, b.id]);
    const check = await assertLedger([a.wallet_id, b.wallet_id]);
    expect(check.wallets.map((w) => w.balance)).toEqual([9_750, 250]);
  });

  it("a body with other whitespace and key order is the same request", async () => {
    const [a, b] = await pair();
    const key = crypto.randomUUID();
    const first = await transfer(a, { handle: b.handle }, 5, key);
    const reordered = await api("/transfers", {
      token: a.token,
      key,
      rawBody: `{ "amount": 5,  "to": {"handle": "${b.handle}"}, "from_wallet_id": "${a.wallet_id}" }`,
      headers: { "content-type": "application/json" },
    });
    expect(reordered.status).toBe(201);
    expect(reordered.text).toBe(first.text);
  });

  it("a refusal is an outcome: its replay is the same refusal even after funds arrive", async () => {
    const [a, b] = await pair(100);
    const key = crypto.randomUUID();
    const refused = await transfer(a, { handle: b.handle }, 500, key);
    expect(refused.status).toBe(422);
    await deposit(a, 1_000);
    const replay = await transfer(a, { handle: b.handle }, 500, key);
    expect(replay.status).toBe(422);
    expect(replay.text).toBe(refused.text);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    await settle([a.id, b.id]);
    const check = await assertLedger([a.wallet_id, b.wallet_id]);
    expect(check.wallets.map((w) => w.balance)).toEqual([1_100, 0]);
  });

  it("keys are scoped to the user: two users may use the same key", async () => {
    const [a, b] = await pair();
    await deposit(b, 1_000);
    const key = "shared-key-1";
    expect((await transfer(a, { handle: b.handle }, 10, key)).status).toBe(201);
    expect((await transfer(b, { handle: a.handle }, 20, key)).status).toBe(201);
    await settle([a.id, b.id]);
    const check = await assertLedger([a.wallet_id, b.wallet_id]);
    expect(check.wallets.map((w) => w.balance)).toEqual([10_010, 990]);
  });

  it("sender and recipient can read the transfer; it reports its final status", async () => {
    const [a, b] = await pair();
    const sent = await transfer(a, { handle: b.handle }, 42);
    const id = (sent.json as unknown as TransferJson).transfer.id;
    for (const reader of [a, b]) {
      const res = await api<TransferJson>(`/transfers/${id}`, { token: reader.token });
      expect(res.status).toBe(200);
      expect(res.json.transfer).toEqual((sent.json as unknown as TransferJson).transfer);
    }
  });

  it("a failed transfer reads back as failed with its failure code", async () => {
    const [a, b] = await pair(10);
    const refused = await transfer(a, { handle: b.handle }, 11);
    const id = (refused.json as { error: { transfer_id: string } }).error.transfer_id;
    const res = await api<{ transfer: { status: string; failure_code: string } }>(`/transfers/${id}`, { token: a.token });
    expect(res.json.transfer).toMatchObject({ status: "failed", failure_code: "insufficient_funds" });
  });
});

describe("deposits and withdrawals", () => {
  it("a withdrawal pays out and replays by key", async () => {
    const a = await register();
    await deposit(a, 1_000);
    const key = crypto.randomUUID();
    const first = await api(`/wallets/${a.wallet_id}/withdrawals`, { token: a.token, key, body: { amount: 400 } });
    const again = await api(`/wallets/${a.wallet_id}/withdrawals`, { token: a.token, key, body: { amount: 400 } });
    expect(first.status).toBe(201);
    expect(again.text).toBe(first.text);
    expect(first.json).toMatchObject({ withdrawal: { status: "succeeded", wallet_id: a.wallet_id, amount: 400, currency: "USD" } });
    await settle([a.id]);
    const check = await assertLedger([a.wallet_id]);
    expect(check.wallets[0]?.balance).toBe(600);
  });
});

describe("history", () => {
  it("pages newest first through the API with next_cursor, and every entry links to the one before", async () => {
    const [a, b] = await pair(1_000);
    for (let i = 1; i <= 5; i++) expect((await transfer(a, { handle: b.handle }, i)).status).toBe(201);
    const seqs: number[] = [];
    let cursor: string | null = null;
    do {
      const path: string = `/wallets/${a.wallet_id}/history?limit=2${cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`}`;
      const page = await api<{ items: { seq: number; kind: string; amount: number }[]; next_cursor: string | null }>(path, {
        token: a.token,
      });
      expect(page.status).toBe(200);
      expect(page.json.items.length).toBeLessThanOrEqual(2);
      seqs.push(...page.json.items.map((e) => e.seq));
      cursor = page.json.next_cursor;
    } while (cursor !== null);
    expect(seqs).toEqual([6, 5, 4, 3, 2, 1]);
    const newest = await api<{ items: { kind: string; amount: number; counterparty: string }[] }>(
      `/wallets/${a.wallet_id}/history?limit=1`,
      { token: a.token },
    );
    expect(newest.json.items[0]).toMatchObject({ kind: "transfer_out", amount: -5, counterparty: b.wallet_id });
  });
});

describe("audit log", () => {
  it("has exactly one row per movement attempted, refusals included", async () => {
    const [a, b] = await pair(100);
    const ok = await transfer(a, { handle: b.handle }, 60);
    const refused = await transfer(a, { handle: b.handle }, 60);
    const okId = (ok.json as unknown as TransferJson).transfer.id;
    const refusedId = (refused.json as { error: { transfer_id: string } }).error.transfer_id;
    await transfer(a, { handle: b.handle }, 60, crypto.randomUUID());
    await settle([a.id, b.id]);
    expect(await auditRows(okId)).toEqual([
      expect.objectContaining({
        status: "succeeded",
        amount: 60,
        failure_code: null,
        from_wallet_id: a.wallet_id,
        to_wallet_id: b.wallet_id,
      }),
    ]);
    expect(await auditRows(refusedId)).toEqual([expect.objectContaining({ status: "failed", failure_code: "insufficient_funds" })]);
    const count = await countAll(
      "SELECT count(*) AS n FROM audit_log WHERE home = 1 AND (from_wallet_id = ? OR to_wallet_id = ?)",
      a.wallet_id,
      a.wallet_id,
    );
    expect(count).toBe(4);
  });

  it("rows cannot be updated or deleted in D1", async () => {
    const [a] = await pair(100);
    await settle([a.id]);
    // In the wallet's own audit partition, where its rows are; every partition has the same triggers.
    const db = walletDb(env, a.wallet_id);
    await expect(db.prepare("UPDATE audit_log SET amount = 1 WHERE to_wallet_id = ?").bind(a.wallet_id).run()).rejects.toThrow(
      /append-only/,
    );
    await expect(db.prepare("DELETE FROM audit_log WHERE to_wallet_id = ?").bind(a.wallet_id).run()).rejects.toThrow(/append-only/);
    await expect(db.prepare("UPDATE ledger_entries SET amount = 1 WHERE wallet_id = ?").bind(a.wallet_id).run()).rejects.toThrow(
      /append-only/,
    );
    await expect(db.prepare("DELETE FROM ledger_entries WHERE wallet_id = ?").bind(a.wallet_id).run()).rejects.toThrow(/append-only/);
    const rows = await db.prepare("SELECT amount FROM audit_log WHERE to_wallet_id = ?").bind(a.wallet_id).all<{ amount: number }>();
    expect(rows.results).toEqual([{ amount: 100 }]);
  });

  it("every D1 table is STRICT, in every audit partition", async () => {
    const tables = { results: await allRows<{ name: string; strict: number; schema: string }>("PRAGMA table_list") };
    const ours = tables.results.filter(
      (t) => t.schema === "main" && !t.name.startsWith("sqlite_") && !t.name.startsWith("_cf") && t.name !== "d1_migrations",
    );
    const names = ["audit_findings", "audit_log", "cron_cursors", "ledger_entries", "users", "verified_marks", "wallets"];
    expect(ours.map((t) => t.name).sort()).toEqual(names.flatMap((n) => [n, n]));
    for (const t of ours) expect(t.strict, t.name).toBe(1);
  });

  it("an auditor reads the audit log, filtered and paged", async () => {
    const [a, b] = await pair(1_000);
    await transfer(a, { handle: b.handle }, 10);
    await transfer(a, { handle: b.handle }, 10_000);
    await settle([a.id, b.id]);
    const auditor = await register({ prefix: "aud" });
    await grantAuditor(auditor);
    const failed = await api<{ items: { transfer_id: string; status: string }[] }>(`/audit?wallet_id=${a.wallet_id}&status=failed`, {
      token: auditor.token,
    });
    expect(failed.status).toBe(200);
    expect(failed.json.items).toEqual([expect.objectContaining({ status: "failed" })]);
    const page1 = await api<{ items: unknown[]; next_cursor: string }>(`/audit?wallet_id=${a.wallet_id}&limit=2`, { token: auditor.token });
    expect(page1.json.items).toHaveLength(2);
    const page2 = await api<{ items: unknown[]; next_cursor: string | null }>(
      `/audit?wallet_id=${a.wallet_id}&limit=2&cursor=${page1.json.next_cursor}`,
      { token: auditor.token },
    );
    expect(page2.json.items).toHaveLength(1);
    expect(page2.json.next_cursor).toBeNull();
  });
});

describe("me and openapi", () => {
  it("me shows the user, the masked phone and the wallet", async () => {
    const b = await register({ phone: "+14155550199" });
    const me = await api<{ user: { handle: string; phone: string }; wallets: { id: string }[] }>("/me", { token: b.token });
    expect(me.json.user.phone).toBe("+•••••••0199");
    expect(me.json.wallets.map((w) => w.id)).toEqual([b.wallet_id]);
  });

  it("serves an OpenAPI 3.1 document covering the routes", async () => {
    const doc = await api<{ openapi: string; paths: Record<string, unknown> }>("/openapi.json");
    expect(doc.json.openapi).toBe("3.1.0");
    expect(Object.keys(doc.json.paths)).toEqual(
      expect.arrayContaining([
        "/auth/register",
        "/auth/login",
        "/auth/logout",
        "/me",
        "/wallets/{wallet_id}",
        "/wallets/{wallet_id}/history",
        "/wallets/{wallet_id}/deposits",
        "/wallets/{wallet_id}/withdrawals",
        "/transfers",
        "/transfers/{transfer_id}",
        "/audit",
        "/health",
      ]),
    );
  });
});
