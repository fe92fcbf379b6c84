/**
 * The per-part bench, run inside workerd by bench/parts.mjs (which writes bench/results/parts.json). Parts:
 *
 * - wallet: one WalletObject driven over RPC by 1..64 concurrent callers, each repeating what a transfer asks
 *   of a wallet (a credit, then a reserve and its capture), with group commit as deployed. Operations/s.
 * - coordinator: one TransferCoordinator driven over RPC by 1..64 concurrent callers, each a transfer from the
 *   user's wallet to one of 16 other users' wallets: the whole transfer (its wallets, the other party's
 *   coordinator for the events, D1 through the outbox) runs on this one thread, so this is a floor for the
 *   coordinator alone. Transfers/s.
 * - d1: the outbox's own statements (coordinator/outbox.ts `movementInserts`) in one `batch()` per delivery, at
 *   1, 10 and 100 movements a delivery (OUTBOX_BATCH_MAX is 100), 8 deliveries in flight. Rows/s.
 * - rows: a few hundred transfers with every SQLite cursor and D1 result counted by statement, for the rows each
 *   transfer reads and writes (what Cloudflare bills), beside the count read from the code.
 * - bytes: Durable Object storage (`databaseSize`) and D1 size (`meta.size_after`) before and after the
 *   coordinator part's transfers, per transfer.
 * - log: the transparency log's writer (its own `appendLeaves`, as bench/log does), leaves/s and bytes/leaf.
 *
 * Everything shares this one workerd thread, as it does on this machine; on Cloudflare each object has its own.
 * Results are printed as one `BENCH {json}` line.
 */
import { applyD1Migrations, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { it } from "vitest";
import { tokenHash } from "../../src/auth/sessions";
import { movementInserts } from "../../src/coordinator/outbox";
import { partitionDbs } from "../../src/db/partitions";
import type { MovementRow } from "../../src/coordinator/schema";
import type { TransparencyLog } from "../../src/log-object";
import type { TransferCoordinator } from "../../src/transfer-coordinator";
import type { WalletObject } from "../../src/wallet-object";

const vars = env as unknown as {
  PARTS_SECONDS: string;
  PARTS_ROWS_TRANSFERS: string;
  PARTS_ONLY: string;
  TEST_MIGRATIONS: import("cloudflare:test").D1Migration[];
};
const SECONDS = Number(vars.PARTS_SECONDS);
const ROWS_TRANSFERS = Number(vars.PARTS_ROWS_TRANSFERS);
const CALLERS = [1, 2, 4, 8, 16, 32, 64];
const RECIPIENTS = 16;
const D1_BATCH_MOVEMENTS = [1, 10, 100];
const D1_IN_FLIGHT = 8;
const LOG_LEAVES = 20_000;
/** The parts to run (all by default; BENCH_PARTS_ONLY=wallet,d1 runs those only). */
const ONLY = new Set(vars.PARTS_ONLY.split(",").filter((p) => p !== ""));
const wanted = (part: string): boolean => ONLY.size === 0 || ONLY.has(part);

const round = (x: number, digits = 1): number => Number(x.toFixed(digits));

/** Runs `callers` loops of `step` for `seconds`; returns completed steps per second. */
async function closedLoop(callers: number, seconds: number, step: (caller: number, i: number) => Promise<number>): Promise<number> {
  const deadline = performance.now() + seconds * 1_000;
  let done = 0;
  const began = performance.now();
  await Promise.all(
    Array.from({ length: callers }, async (_, caller) => {
      for (let i = 0; performance.now() < deadline; i++) {
        // Not `done += await step()`: that reads `done` before the await and loses the other callers' counts.
        const steps = await step(caller, i);
        done += steps;
      }
    }),
  );
  return done / ((performance.now() - began) / 1_000);
}

// ---- Counting rows: every SQLite cursor (Durable Objects) and every D1 result, by statement -----------------

interface Tally {
  calls: number;
  rows_read: number;
  rows_written: number;
}
const doCursors: { sql: string; cursor: SqlStorageCursor<Record<string, SqlStorageValue>> }[] = [];
const d1Tally = new Map<string, Tally>();
let counting = false;
let alarmsSet = 0;

/** The statement's shape for a table of counts: its first words, without the bound values or row tuples. */
const shape = (sql: string): string =>
  sql
    .replace(/\s+/g, " ")
    .replace(/(\(\?(, \?)*\))(, \(\?(, \?)*\))+/, "$1, …")
    .slice(0, 90);

/**
 * Wraps SqlStorage's `exec`, storage's `setAlarm` and D1's `batch` and statement methods in this isolate (the
 * objects and this test share it), before any object under test is constructed, so that every object's calls
 * (and the coordinator's fault wrapper, which binds `exec` when it is built) go through the counters.
 */
async function installCounters(): Promise<void> {
  await runInDurableObject(env.RATE_LIMITER.getByName("bench-probe"), (_o, state) => {
    const sqlProto = Object.getPrototypeOf(state.storage.sql) as {
      exec: (...a: unknown[]) => SqlStorageCursor<Record<string, SqlStorageValue>>;
    };
    const exec = sqlProto.exec;
    sqlProto.exec = function (this: unknown, ...args: unknown[]) {
      const cursor = exec.apply(this, args);
      if (counting) doCursors.push({ sql: String(args[0]), cursor });
      return cursor;
    };
    const storageProto = Object.getPrototypeOf(state.storage) as { setAlarm: (...a: unknown[]) => Promise<void> };
    const setAlarm = storageProto.setAlarm;
    storageProto.setAlarm = function (this: unknown, ...args: unknown[]) {
      if (counting) alarmsSet++;
      return setAlarm.apply(this, args);
    };
  });
  const note = (sql: string, meta: { rows_read?: number; rows_written?: number } | undefined) => {
    if (!counting || meta === undefined) return;
    const key = shape(sql);
    const t = d1Tally.get(key) ?? { calls: 0, rows_read: 0, rows_written: 0 };
    t.calls++;
    t.rows_read += meta.rows_read ?? 0;
    t.rows_written += meta.rows_written ?? 0;
    d1Tally.set(key, t);
  };
  const dbProto = Object.getPrototypeOf(env.DB) as { batch: (s: D1PreparedStatement[]) => Promise<D1Result[]> };
  const batch = dbProto.batch;
  dbProto.batch = async function (this: unknown, statements: D1PreparedStatement[]) {
    const results = await batch.call(this, statements);
    results.forEach((r, i) => note((statements[i] as unknown as { statement: string }).statement, r.meta));
    return results;
  };
  const stmtProto = Object.getPrototypeOf(env.DB.prepare("SELECT 1")) as Record<string, (...a: unknown[]) => Promise<unknown>>;
  for (const name of ["all", "run"] as const) {
    const original = stmtProto[name];
    if (original === undefined) continue;
    stmtProto[name] = async function (this: { statement: string }, ...args: unknown[]) {
      const result = (await original.apply(this, args)) as D1Result;
      note(this.statement, result.meta);
      return result;
    };
  }
  // `first` and `raw` return no meta: they are counted as calls (their rows appear under `all`, which they use
  // inside workerd's D1 client when it does; otherwise the table says rows are unknown for them).
  for (const name of ["first", "raw"] as const) {
    const original = stmtProto[name];
    if (original === undefined) continue;
    stmtProto[name] = function (this: { statement: string }, ...args: unknown[]) {
      if (counting) {
        const key = `${shape(this.statement)} [${name}: rows not reported]`;
        const t = d1Tally.get(key) ?? { calls: 0, rows_read: 0, rows_written: 0 };
        t.calls++;
        d1Tally.set(key, t);
      }
      return original.apply(this, args);
    };
  }
}

/** The counted statements since `counting` was turned on, per transfer. */
function tallies(transfers: number) {
  const per = (t: Tally) => ({
    calls: round(t.calls / transfers, 2),
    rows_read: round(t.rows_read / transfers, 2),
    rows_written: round(t.rows_written / transfers, 2),
  });
  const byShape = new Map<string, Tally>();
  for (const { sql, cursor } of doCursors) {
    const key = shape(sql);
    const t = byShape.get(key) ?? { calls: 0, rows_read: 0, rows_written: 0 };
    t.calls++;
    t.rows_read += cursor.rowsRead;
    t.rows_written += cursor.rowsWritten;
    byShape.set(key, t);
  }
  const sum = (m: Map<string, Tally>) =>
    [...m.values()].reduce(
      (a, t) => ({ calls: a.calls + t.calls, rows_read: a.rows_read + t.rows_read, rows_written: a.rows_written + t.rows_written }),
      { calls: 0, rows_read: 0, rows_written: 0 },
    );
  const list = (m: Map<string, Tally>) =>
    Object.fromEntries(
      [...m].sort((a, b) => b[1].rows_written - a[1].rows_written || b[1].calls - a[1].calls).map(([k, t]) => [k, per(t)]),
    );
  return {
    transfers,
    durable_objects: {
      per_transfer: per(sum(byShape)),
      alarms_set_per_transfer: round(alarmsSet / transfers, 2),
      statements: list(byShape),
    },
    d1: { per_transfer: per(sum(d1Tally)), statements: list(d1Tally) },
  };
}

// ---- Setup --------------------------------------------------------------------------------------------------

interface User {
  id: string;
  token: string;
  token_hash: string;
  wallet_id: string;
}

let registered = 0;
async function register(prefix: string): Promise<User> {
  registered++;
  const handle = `${prefix}_${Date.now().toString(36)}_${registered}`.slice(0, 32);
  const res = await exports.default.fetch(
    new Request("https://wallet.test/api/v1/auth/register", {
      method: "POST",
      headers: { "content-type": "application/json", "cf-connecting-ip": `198.51.100.${registered % 250}` },
      body: JSON.stringify({ handle, password: "bench-password-1" }),
    }),
  );
  const json = await res.json<{ user: { id: string }; wallet: { id: string }; token: string }>();
  if (res.status !== 201) throw new Error(`register ${handle}: ${res.status} ${JSON.stringify(json)}`);
  return { id: json.user.id, token: json.token, token_hash: await tokenHash(json.token), wallet_id: json.wallet.id };
}

let keys = 0;
/** One transfer of 1 minor unit from `from` to `to`, through the sender's coordinator's RPC as the route calls it. */
async function transfer(coordinator: DurableObjectStub<TransferCoordinator>, from: User, to: User): Promise<void> {
  const key = `bench-${++keys}`;
  const outcome = await coordinator.transfer({
    user_id: from.id,
    token_hash: from.token_hash,
    idempotency_key: key,
    request_hash: key,
    request_id: `req_${key}`,
    from_wallet_id: from.wallet_id,
    to: { wallet_id: to.wallet_id },
    amount: 1,
    memo: null,
  });
  if (outcome.code !== "created") throw new Error(`transfer answered ${outcome.code}`);
}

async function deposit(coordinator: DurableObjectStub<TransferCoordinator>, user: User, amount: number): Promise<void> {
  const key = `fund-${++keys}`;
  const outcome = await coordinator.deposit({
    user_id: user.id,
    token_hash: user.token_hash,
    idempotency_key: key,
    request_hash: key,
    request_id: `req_${key}`,
    wallet_id: user.wallet_id,
    amount,
  });
  if (outcome.code !== "created") throw new Error(`deposit answered ${outcome.code}`);
}

/** Delivers everything the coordinator owes D1 (its alarm flushes the outbox), until nothing is owed. */
async function drain(coordinator: DurableObjectStub<TransferCoordinator>): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const memory = await coordinator.memory();
    const pending = await coordinator.pending();
    if (memory.finished === 0 && pending.outbox === 0 && pending.started === 0) return;
    await runDurableObjectAlarm(coordinator);
  }
  throw new Error("the outbox did not drain");
}

const doSize = (stub: DurableObjectStub<WalletObject> | DurableObjectStub<TransferCoordinator>): Promise<number> =>
  runInDurableObject(stub as DurableObjectStub<WalletObject>, (_o, state) => state.storage.sql.databaseSize);
/** The audit store's size in D1: every partition's database (the wallets of a run are spread over them). */
const d1Size = async (): Promise<number> => {
  const sizes = await Promise.all(partitionDbs(env).map(async (db) => (await db.prepare("SELECT 1").run()).meta.size_after ?? 0));
  return sizes.reduce((a, b) => a + b, 0);
};

// ---- Parts --------------------------------------------------------------------------------------------------

/** The wallet part: a wallet's operations/s as concurrent callers grow. */
async function walletPart() {
  const owner = "usr_0000000000000000000000bnch";
  const stub: DurableObjectStub<WalletObject> = env.WALLET.getByName("wal_0000000000000000000000bnch");
  await stub.init({ wallet_id: "wal_0000000000000000000000bnch", owner_id: owner, currency: "USD" });
  await stub.deposit({ transfer_id: "dep_bench_fund", owner_id: owner, amount: 1_000_000_000_000 });
  let n = 0;
  // What a transfer asks of a wallet: the recipient's credit, or the sender's reserve and then capture.
  const step = async (): Promise<number> => {
    const id = `trf_bench_${++n}`;
    const credited = await stub.credit({ transfer_id: `${id}_in`, amount: 1, currency: "USD", counterparty: "wal_other", memo: null });
    const reserved = await stub.reserve({ transfer_id: id, owner_id: owner, amount: 1 });
    const captured = await stub.capture({ transfer_id: id, counterparty: "wal_other", memo: null });
    if (credited.code !== "credited" || reserved.code !== "reserved" || captured.code !== "captured")
      throw new Error(`wallet answered ${credited.code}/${reserved.code}/${captured.code}`);
    return 3;
  };
  await closedLoop(8, 1, step); // warm-up
  const rows: { callers: number; ops_per_s: number }[] = [];
  for (const callers of CALLERS) {
    const ops_per_s = round(await closedLoop(callers, SECONDS, step));
    rows.push({ callers, ops_per_s });
    console.log(`wallet ${callers} callers: ${ops_per_s} ops/s`);
  }
  return { ops_per_transfer: { sender: 2, recipient: 1, hot_scenario_mean: 1.5 }, by_callers: rows };
}

/** The coordinator part, and the bytes each transfer leaves in storage and D1. */
async function coordinatorPart() {
  const sender = await register("bsend");
  const recipients = await Promise.all(Array.from({ length: RECIPIENTS }, (_, i) => register(`brecv${i}`)));
  const coordinator: DurableObjectStub<TransferCoordinator> = env.COORDINATOR.getByName(sender.id);
  await deposit(coordinator, sender, 1_000_000_000_000);
  await drain(coordinator);
  const senderWallet: DurableObjectStub<WalletObject> = env.WALLET.getByName(sender.wallet_id);
  const recipientWallets = recipients.map((r): DurableObjectStub<WalletObject> => env.WALLET.getByName(r.wallet_id));
  const recipientCoordinators = recipients.map((r): DurableObjectStub<TransferCoordinator> => env.COORDINATOR.getByName(r.id));
  // Every object exists (each recipient's coordinator holds its session) before the sizes are taken.
  const sizes = async () => ({
    sender_wallet: await doSize(senderWallet),
    recipient_wallets: (await Promise.all(recipientWallets.map(doSize))).reduce((a, b) => a + b, 0),
    sender_coordinator: await doSize(coordinator),
    recipient_coordinators: (await Promise.all(recipientCoordinators.map(doSize))).reduce((a, b) => a + b, 0),
    d1: await d1Size(),
  });
  await transfer(coordinator, sender, recipients[0] as User); // warm-up, and every recipient coordinator has events
  await drain(coordinator);
  const before = await sizes();
  let count = 0;
  const step = async (caller: number, i: number): Promise<number> => {
    await transfer(coordinator, sender, recipients[(caller + i) % RECIPIENTS] as User);
    count++;
    return 1;
  };
  const rows: { callers: number; transfers_per_s: number }[] = [];
  for (const callers of CALLERS) {
    const transfers_per_s = round(await closedLoop(callers, SECONDS, step));
    rows.push({ callers, transfers_per_s });
    console.log(`coordinator ${callers} callers: ${transfers_per_s} transfers/s`);
  }
  await drain(coordinator);
  const after = await sizes();
  const per = (k: keyof typeof before) => round((after[k] - before[k]) / count, 0);
  const wallets = per("sender_wallet") + per("recipient_wallets");
  const coordinators = per("sender_coordinator") + per("recipient_coordinators");
  const bytes = {
    transfers: count,
    sender_wallet: per("sender_wallet"),
    recipient_wallets: per("recipient_wallets"),
    sender_coordinator: per("sender_coordinator"),
    recipient_coordinators: per("recipient_coordinators"),
    durable_objects: wallets + coordinators,
    d1: per("d1"),
  };
  return { recipients: RECIPIENTS, by_callers: rows, bytes_per_transfer: bytes };
}

/** Rows read and written per transfer, counted by statement, over `n` transfers between fresh users. */
async function rowsPart(n: number) {
  const sender = await register("brows");
  const recipients = await Promise.all(Array.from({ length: 4 }, (_, i) => register(`brr${i}`)));
  const coordinator: DurableObjectStub<TransferCoordinator> = env.COORDINATOR.getByName(sender.id);
  await deposit(coordinator, sender, 1_000_000);
  await transfer(coordinator, sender, recipients[0] as User); // every cache (directory, sessions) warm, as in steady state
  await drain(coordinator);
  counting = true;
  // Four callers, as a user with a little concurrency; the outbox batches whatever finishes within its delay.
  await Promise.all(
    Array.from({ length: 4 }, async (_, c) => {
      for (let i = c; i < n; i += 4) await transfer(coordinator, sender, recipients[i % 4] as User);
    }),
  );
  await drain(coordinator);
  counting = false;
  return tallies(n);
}

let synthetic = 0;
/** A finished transfer as the outbox delivers it, shaped like the real thing (26-character ids, two entries). */
function movement(): MovementRow {
  const k = ++synthetic;
  const id = `trf_${String(k).padStart(26, "0")}_${"b".repeat(26)}`;
  const at = new Date().toISOString();
  const entry = (wallet: number, kind: string, amount: number) => ({
    wallet_id: `wal_${String(wallet).padStart(26, "0")}`,
    entry: {
      seq: k,
      id: `ent_${String(wallet).padStart(26, "0")}_${k}`,
      kind,
      amount,
      balance_after: 1_000_000 + amount,
      transfer_id: id,
      counterparty: `wal_${String(wallet === 1 ? 2 : 1).padStart(26, "0")}`,
      memo: null,
      created_at: at,
      prev_hash: "0".repeat(64),
      hash: k.toString(16).padStart(64, "f"),
    },
  });
  return {
    id,
    kind: "transfer",
    user_id: `usr_${String(k % 1000).padStart(26, "0")}`,
    state: "succeeded",
    amount: 1,
    currency: "USD",
    failure_code: null,
    from_wallet_id: `wal_${"1".padStart(26, "0")}`,
    to_wallet_id: `wal_${"2".padStart(26, "0")}`,
    created_at: at,
    refund_of: null,
    payment_request_id: null,
    entries: JSON.stringify([entry(1, "transfer_out", -1), entry(2, "transfer_in", 1)]),
  } as unknown as MovementRow;
}

/** D1's rows/s at the outbox's delivery sizes, with deliveries from several coordinators in flight. */
async function d1Part() {
  const rows = [];
  for (const movements of D1_BATCH_MOVEMENTS) {
    let written = 0;
    let inserted = 0;
    const step = async (): Promise<number> => {
      const batch = Array.from({ length: movements }, movement);
      const results = await env.DB.batch(movementInserts(env.DB, batch));
      for (const r of results) written += r.meta.rows_written ?? 0;
      inserted += movements * 3;
      return 1;
    };
    const began = performance.now();
    const deliveries_per_s = await closedLoop(D1_IN_FLIGHT, SECONDS, step);
    const seconds = (performance.now() - began) / 1_000;
    const statements = movementInserts(env.DB, Array.from({ length: movements }, movement)).length;
    synthetic -= movements;
    rows.push({
      movements_per_delivery: movements,
      table_rows_per_delivery: movements * 3,
      statements_per_delivery: statements,
      deliveries_per_s: round(deliveries_per_s),
      movements_per_s: round(deliveries_per_s * movements),
      table_rows_per_s: round(inserted / seconds),
      billed_rows_written_per_s: round(written / seconds),
      billed_rows_written_per_movement: round(written / (inserted / 3), 2),
    });
    console.log(`d1 ${movements} movements/delivery: ${round(deliveries_per_s)} deliveries/s, ${round(inserted / seconds)} rows/s`);
  }
  return { in_flight: D1_IN_FLIGHT, by_delivery_size: rows };
}

/** The transparency log's writer: leaves/s appending in its own batches, and bytes per leaf. */
async function logPart() {
  const stub: DurableObjectStub<TransparencyLog> = env.LOG.getByName("bench-parts");
  const batch = 1_000;
  const entry = (i: number) => ({
    wallet_id: `w_${(i % 1_000).toString().padStart(24, "0")}`,
    seq: Math.floor(i / 1_000) + 1,
    hash: i.toString(16).padStart(64, "0"),
    source_partition: 0,
    source_rowid: i + 1,
  });
  const began = performance.now();
  for (let at = 0; at < LOG_LEAVES; at += batch) {
    const leaves = Array.from({ length: batch }, (_, k) => entry(at + k));
    await runInDurableObject(stub, async (o) => {
      o.appendLeaves(leaves);
      await o.signIfGrown();
    });
  }
  const seconds = (performance.now() - began) / 1_000;
  const bytes = await runInDurableObject(stub, (_o, state) => state.storage.sql.databaseSize);
  return { leaves: LOG_LEAVES, batch, leaves_per_s: round(LOG_LEAVES / seconds), bytes_per_leaf: round(bytes / LOG_LEAVES, 0) };
}

it("parts bench", async () => {
  // Every audit partition is a D1 database of its own with the same schema (src/db/partitions.ts).
  for (const db of partitionDbs(env)) await applyD1Migrations(db, vars.TEST_MIGRATIONS);
  await installCounters();
  const result: Record<string, unknown> = { seconds_per_level: SECONDS };
  if (wanted("wallet")) result.wallet = await walletPart();
  if (wanted("coordinator")) result.coordinator = await coordinatorPart();
  if (wanted("rows")) result.rows = await rowsPart(ROWS_TRANSFERS);
  if (wanted("d1")) result.d1 = await d1Part();
  if (wanted("log")) result.log = await logPart();
  console.log(`BENCH ${JSON.stringify(result)}`);
});
