/**
 * The log bench, run inside workerd by bench/log.mjs. Two parts:
 *
 * 1. The writer at scale. The object's storage is filled directly, bench-only: synthetic entries are appended
 *    through the object's own `appendLeaves` (the same transaction, leaf rows and node hashes as feeding) via
 *    runInDurableObject, in batches of LOG_APPEND_BATCH_MAX, skipping only the D1 read; a checkpoint is signed
 *    after every batch, as a wake-up that appended a batch would. Then proofs at that size: inclusion proofs
 *    of random leaves and consistency proofs, through the object's RPC (as the routes call it) and in-object.
 * 2. The whole feeding path on a smaller scale: rows inserted into D1's ledger_entries, then `feed()` reads,
 *    appends and signs them, as the alarm does.
 *
 * Results are printed as one `BENCH {json}` line for bench/log.mjs.
 */
import { applyD1Migrations, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { it } from "vitest";
import type { TransparencyLog } from "../../src/log-object";

const LEAVES = Number((env as unknown as { BENCH_LEAVES: string }).BENCH_LEAVES);
const BATCH = 1_000;

const entry = (i: number) => ({
  // Shaped like the real thing: 1,000 wallets with 26-character ids, seq per wallet, a 64-hex chain hash.
  wallet_id: `w_${(i % 1_000).toString().padStart(24, "0")}`,
  seq: Math.floor(i / 1_000) + 1,
  hash: i.toString(16).padStart(64, "0"),
  source_partition: 0,
  source_rowid: i + 1,
});

const percentile = (xs: number[], p: number): number =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? 0;

it("log bench", async () => {
  const stub: DurableObjectStub<TransparencyLog> = env.LOG.getByName("bench");
  const result: Record<string, unknown> = { leaves: LEAVES, batch: BATCH };
  const started = performance.now();
  let signMs = 0;
  let last = started;
  for (let at = 0; at < LEAVES; at += BATCH) {
    const batch = Array.from({ length: Math.min(BATCH, LEAVES - at) }, (_, k) => entry(at + k));
    signMs += await runInDurableObject(stub, async (o) => {
      o.appendLeaves(batch);
      const t = performance.now();
      await o.signIfGrown();
      return performance.now() - t;
    });
    if (performance.now() - last > 10_000) {
      last = performance.now();
      console.log(`filled ${at + BATCH} leaves, ${Math.round(((at + BATCH) * 1000) / (last - started))} leaves/s`);
    }
  }
  const fillMs = performance.now() - started;
  result.writer_leaves_per_s = Math.round((LEAVES * 1000) / fillMs);
  result.sign_ms_per_checkpoint = +(signMs / Math.ceil(LEAVES / BATCH)).toFixed(2);
  result.storage_bytes = await runInDurableObject(stub, (_o, state) => state.storage.sql.databaseSize);
  result.storage_bytes_per_leaf = Math.round((result.storage_bytes as number) / LEAVES);

  const rpc: number[] = [];
  for (let k = 0; k < 500; k++) {
    const e = entry(Math.floor(Math.random() * LEAVES));
    const t = performance.now();
    const proof = await stub.proof(e.wallet_id, e.seq, null);
    rpc.push(performance.now() - t);
    if (proof.code !== "ok") throw new Error(`no proof for leaf ${e.wallet_id}/${e.seq}`);
  }
  result.inclusion_rpc_ms = { p50: +percentile(rpc, 0.5).toFixed(3), p99: +percentile(rpc, 0.99).toFixed(3) };
  const consistency: number[] = [];
  for (let k = 0; k < 200; k++) {
    const from = 1 + Math.floor(Math.random() * (LEAVES - 1));
    const t = performance.now();
    await stub.consistency(from, LEAVES);
    consistency.push(performance.now() - t);
  }
  result.consistency_rpc_ms = { p50: +percentile(consistency, 0.5).toFixed(3), p99: +percentile(consistency, 0.99).toFixed(3) };

  // The whole feeding path: D1 rows in, feed() reads, appends and signs.
  // Every audit partition is migrated (the feed reads them all); the rows go to the main one.
  const migrations = (env as unknown as { TEST_MIGRATIONS: import("cloudflare:test").D1Migration[] }).TEST_MIGRATIONS;
  await applyD1Migrations(env.DB, migrations);
  await applyD1Migrations(env.AUDIT_1, migrations);
  const D1_ROWS = 20_000;
  for (let at = 0; at < D1_ROWS; at += 500) {
    await env.DB.batch(
      Array.from({ length: 500 }, (_, k) => {
        const e = entry(at + k);
        return env.DB.prepare(
          "INSERT INTO ledger_entries (wallet_id, seq, id, kind, amount, balance_after, transfer_id, created_at, prev_hash, hash) VALUES (?, ?, ?, 'deposit', 1, 1, ?, ?, ?, ?)",
        ).bind(e.wallet_id, e.seq, `e_${at + k}`, `t_${at + k}`, new Date().toISOString(), "0".repeat(64), e.hash);
      }),
    );
  }
  const feeder: DurableObjectStub<TransparencyLog> = env.LOG.getByName("bench-feed");
  const t = performance.now();
  let fed = 0;
  while (fed < D1_ROWS) fed += (await feeder.feed()).appended;
  result.feed_from_d1_leaves_per_s = Math.round((D1_ROWS * 1000) / (performance.now() - t));
  console.log(`BENCH ${JSON.stringify(result)}`);
});
