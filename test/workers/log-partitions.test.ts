/**
 * The transparency log over the partitioned audit store (issue 17): an entry in partition 1 and one in
 * partition 0 each become a leaf exactly once, however often the log is fed, and the auditor's verify passes;
 * an entry rewritten in partition 1 is caught; a partition that hangs delays only its own rows (the other's are
 * appended and signed, nothing is skipped, and its rows follow once it answers); and the log object's schema
 * step that records each leaf's partition keeps every existing leaf at its index. Tests run in order.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Problem } from "../../src/audit/chain";
import { migrate } from "../../src/db/do-migrations";
import { partitionDbs, partitionOfWallet } from "../../src/db/partitions";
import type { TransparencyLog } from "../../src/log-object";
import { LOG_SCHEMA } from "../../src/log/schema";
import type { LeafRow } from "../../src/log/tree";
import { tamper } from "./audit-helpers";
import { api, deposit, grantAuditor, register, registerIn, settle, transfer, type TestUser } from "./helpers";

const logStub = (name = "log"): DurableObjectStub<TransparencyLog> => env.LOG.getByName(name);

/** A stored leaf, as the log object's storage holds it. */
type Leaf = LeafRow;

const leavesOf = (log: DurableObjectStub<TransparencyLog>): Promise<Leaf[]> =>
  runInDurableObject(log, (_o, state) =>
    state.storage.sql
      .exec<Leaf>("SELECT leaf_index, wallet_id, seq, entry_hash, source_partition, source_rowid FROM leaves ORDER BY leaf_index")
      .toArray(),
  );

/** Each partition's entries in rowid order, with the partition they are in. */
async function d1Entries(): Promise<{ partition: number; rowid: number; wallet_id: string; seq: number; hash: string }[]> {
  const pages = await Promise.all(
    partitionDbs(env).map(async (db, partition) =>
      (
        await db
          .prepare("SELECT rowid, wallet_id, seq, hash FROM ledger_entries ORDER BY rowid")
          .all<{ rowid: number; wallet_id: string; seq: number; hash: string }>()
      ).results.map((e) => ({ ...e, partition })),
    ),
  );
  return pages.flat();
}

/**
 * The log's leaves are D1's entries exactly once each: as many leaves as entries, no (wallet, seq) twice, each
 * leaf recording the partition and rowid its entry is at, with its hash, and each partition's leaves in its
 * rowid order.
 */
async function expectEveryEntryOnce(): Promise<Leaf[]> {
  const [leaves, entries] = await Promise.all([leavesOf(logStub()), d1Entries()]);
  expect(leaves).toHaveLength(entries.length);
  expect(new Set(leaves.map((l) => `${l.wallet_id}/${l.seq}`)).size).toBe(leaves.length);
  for (const e of entries) {
    const leaf = leaves.find((l) => l.wallet_id === e.wallet_id && l.seq === e.seq);
    expect(leaf, `${e.wallet_id} seq ${e.seq}`).toMatchObject({ source_partition: e.partition, source_rowid: e.rowid, entry_hash: e.hash });
  }
  for (const p of [0, 1]) {
    const rowids = leaves.filter((l) => l.source_partition === p).map((l) => l.source_rowid);
    expect(rowids).toEqual([...rowids].sort((a, b) => a - b));
  }
  return leaves;
}

type VerifyAnswer = { ok: boolean; problems: Problem[]; log: { tree_size: number; leaves_checked: number; uncovered: number } };

let far: TestUser; // wallet in partition 1
let near: TestUser; // wallet in partition 0
let auditor: TestUser;

describe("transparency log over two audit partitions", () => {
  it("makes an entry of partition 1 and one of partition 0 leaves exactly once, even fed twice at once, and verify passes", async () => {
    far = await registerIn(1);
    near = await registerIn(0);
    auditor = await register();
    await grantAuditor(auditor);
    expect([partitionOfWallet(far.wallet_id), partitionOfWallet(near.wallet_id)]).toEqual([1, 0]);
    await deposit(far, 10_000);
    expect((await transfer(far, { wallet_id: near.wallet_id }, 2_500)).status).toBe(201);
    await settle([far.id, near.id]);
    const [a, b] = await Promise.all([logStub().feed(), logStub().feed()]);
    expect(a).toEqual(b);
    expect(a.stalled).toEqual([]);
    expect((await logStub().feed()).appended).toBe(0);
    const leaves = await expectEveryEntryOnce();
    // far: the deposit and the transfer out (partition 1); near: the transfer in (partition 0).
    expect(leaves.filter((l) => l.wallet_id === far.wallet_id).map((l) => [l.seq, l.source_partition])).toEqual([
      [1, 1],
      [2, 1],
    ]);
    expect(leaves.filter((l) => l.wallet_id === near.wallet_id).map((l) => [l.seq, l.source_partition])).toEqual([[1, 0]]);
    const report = await api<VerifyAnswer>("/audit/verify", { token: auditor.token });
    expect(report.status, report.text).toBe(200);
    expect(report.json.problems).toEqual([]);
    expect(report.json.log).toMatchObject({ tree_size: leaves.length, leaves_checked: leaves.length, uncovered: 0 });
  });

  it("feeds partition 0 on while partition 1 hangs, then partition 1's rows, none skipped or repeated", async () => {
    expect((await transfer(far, { wallet_id: near.wallet_id }, 100)).status).toBe(201);
    expect((await transfer(near, { wallet_id: far.wallet_id }, 50)).status).toBe(201);
    await settle([far.id, near.id]);
    const before = (await leavesOf(logStub())).length;
    const hanging = new Proxy(env.AUDIT_1, {
      get(target, prop) {
        // A read that never answers, as a D1 that is stuck would.
        if (prop === "prepare") return () => ({ bind: () => ({ all: () => new Promise(() => undefined) }) });
        const value = Reflect.get(target, prop) as unknown;
        return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const stalledPass = await runInDurableObject(logStub(), async (o) => {
      const holder = o as unknown as { env: Env };
      const real = holder.env;
      holder.env = { ...real, AUDIT_1: hanging };
      try {
        return await o.feed();
      } finally {
        holder.env = real;
      }
    });
    // Partition 0 holds near's two new entries (in, then out); partition 1's two wait.
    expect(stalledPass).toMatchObject({ appended: 2, stalled: [1], signed: true });
    const partial = await leavesOf(logStub());
    expect(partial.slice(before).map((l) => l.source_partition)).toEqual([0, 0]);
    const caughtUp = await logStub().feed();
    expect(caughtUp).toMatchObject({ appended: 2, stalled: [] });
    const leaves = await expectEveryEntryOnce();
    expect(leaves.slice(before + 2).map((l) => [l.wallet_id, l.source_partition])).toEqual([
      [far.wallet_id, 1],
      [far.wallet_id, 1],
    ]);
    const report = await api<VerifyAnswer>("/audit/verify", { token: auditor.token });
    expect(report.json.problems).toEqual([]);
    expect(report.json.log.leaves_checked).toBe(leaves.length);
  });

  it("verify catches an entry of partition 1 rewritten after it was logged", async () => {
    const target = (await leavesOf(logStub())).find((l) => l.wallet_id === far.wallet_id && l.seq === 2) as Leaf;
    await tamper("UPDATE ledger_entries SET hash = ? WHERE wallet_id = ? AND seq = ?", "f".repeat(64), target.wallet_id, target.seq);
    const report = await api<VerifyAnswer>("/audit/verify", { token: auditor.token });
    expect(report.json.ok).toBe(false);
    expect(report.json.problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: "log_leaf_mismatch", wallet_id: far.wallet_id, seq: 2 }),
        expect.objectContaining({ kind: "log_root_mismatch" }),
      ]),
    );
  });

  it("the schema step that records each leaf's partition keeps existing leaves at their indexes", async () => {
    await runInDurableObject(logStub("log-migrated"), (_o, state) => {
      const sql = state.storage.sql;
      // Back to a log made before partitions: the schema of step 1 only, with three leaves from the main DB.
      for (const table of ["leaves", "nodes", "cosignatures", "checkpoints", "_schema"]) sql.exec(`DROP TABLE ${table}`);
      migrate(state.storage, LOG_SCHEMA.slice(0, 1));
      const hash = (n: number): string => n.toString(16).padStart(64, "0");
      for (const i of [0, 1, 2])
        sql.exec(
          "INSERT INTO leaves (leaf_index, wallet_id, seq, entry_hash, source_rowid) VALUES (?, ?, ?, ?, ?)",
          i,
          "wal_old",
          i + 1,
          hash(i),
          10 + i,
        );
      migrate(state.storage, LOG_SCHEMA);
      expect(
        sql.exec("SELECT leaf_index, seq, entry_hash, source_partition, source_rowid FROM leaves ORDER BY leaf_index").toArray(),
      ).toEqual([0, 1, 2].map((i) => ({ leaf_index: i, seq: i + 1, entry_hash: hash(i), source_partition: 0, source_rowid: 10 + i })));
      // The same rowid in another partition is another row; in the same partition it is refused.
      sql.exec(
        "INSERT INTO leaves (leaf_index, wallet_id, seq, entry_hash, source_partition, source_rowid) VALUES (3, 'wal_p1_x', 1, ?, 1, 10)",
        hash(3),
      );
      expect(() =>
        sql.exec(
          "INSERT INTO leaves (leaf_index, wallet_id, seq, entry_hash, source_partition, source_rowid) VALUES (4, 'wal_y', 1, ?, 0, 10)",
          hash(4),
        ),
      ).toThrow(/UNIQUE/);
      // Still append-only.
      expect(() => sql.exec("UPDATE leaves SET seq = 9")).toThrow(/append-only/);
      expect(() => sql.exec("DELETE FROM leaves")).toThrow(/append-only/);
    });
  });
});
