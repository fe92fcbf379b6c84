// @ts-check
// `npm run bench:scale [-- --sizes 50,2000 --rounds 3 --seconds 20 ...]`: issue 19, item 15. Does throughput
// hold when the same load is spread over many wallets, and does the server's memory come back afterwards?
//
// One server is started as `npm start` runs it (test/http/server.mjs of the checkout under test, with the
// benchmarks' settings, bench/driver.mjs BENCH_SERVER_ENV), and one disjoint set of funded users is registered
// for each size. The uniform scenario (random pairs, bench/driver.mjs `run`) is then driven for a fixed time at
// each size, alternating sizes round by round (50, 2000, 50, 2000, ...) so that the machine's drift falls on
// both alike. Every phase takes one minute of wall-clock time, aligned to the Cron Trigger that
// scripts/serve.mjs fires at the start of each minute: the load runs from second 32 for `--seconds` (at most
// 26), and the rest of the minute is quiet. The Cron's self-audit (which visits every wallet that changed,
// spread over 30 s) and recovery sweep are meant to run in the quiet part after the load whose changes they
// follow; their work is counted with that phase (and `counters_during_load` shows what of it overlapped the
// load). The quiet part is also longer than the outbox delay and workerd's 10 s eviction of an idle object,
// so each phase starts from the same state. After the rounds the server is left idle for `--idle-seconds`,
// and then the largest size is driven once more ("reload"): if the memory held after the idle time is freed
// but not returned to the system, the reload reuses it and RSS hardly grows; if it were held by live
// objects, the idle time would have shown it coming down.
//
// Throughout, workerd's resident memory (VmRSS) is sampled from /proc every 500 ms (the workerd process found
// by walking /proc up from each candidate to this process). Counts that explain a difference come from the
// state directory (Durable Objects with storage, audit rows in D1) and, when the server under test logs them,
// from `[scale-counters] {...}` lines (a throwaway copy instrumented by bench/scale-counters.mjs: objects
// constructed, alarm runs and writes, D1 batches and reads, Cron visits), as differences over each phase.
//
// Options: --root (the checkout to start; default this one), --label (default: the root's short commit),
// --sizes (50,2000), --rounds (3), --seconds (20), --connections (32), --idle-seconds (90),
// --out (bench/results/scale-wallets.json; other labels in it are kept). A run takes about 14 minutes.
// Never part of `npm test`.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { dirname, join, resolve } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { BENCH_SERVER_ENV, conservation, run, setup } from "./driver.mjs";
import { usage, workerdPids } from "../test/http/proc.mjs";

const here = resolve(fileURLToPath(new URL("..", import.meta.url)));
const { values: args } = parseArgs({
  options: {
    root: { type: "string", default: here },
    label: { type: "string" },
    out: { type: "string", default: join(here, "bench", "results", "scale-wallets.json") },
    sizes: { type: "string", default: "50,2000" },
    rounds: { type: "string", default: "3" },
    seconds: { type: "string", default: "20" },
    connections: { type: "string", default: "32" },
    "idle-seconds": { type: "string", default: "90" },
  },
});
const root = resolve(args.root ?? here);
const SIZES = String(args.sizes).split(",").map(Number);
const ROUNDS = Number(args.rounds);
const SECONDS = Number(args.seconds);
const CONNECTIONS = Number(args.connections);
/** The second of each minute at which a load phase starts (the Cron fires at second 0 and spreads over 30 s). */
const PHASE_AT_S = 32;
const IDLE_S = Number(args["idle-seconds"]);
const BALANCE = 1_000_000_000;
const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));
if (SIZES.some((n) => !Number.isSafeInteger(n) || n < 2)) throw new Error(`--sizes must be integers of at least 2, got ${args.sizes}`);
if (!(SECONDS >= 1 && SECONDS <= 60 - PHASE_AT_S - 2))
  throw new Error(`--seconds must be 1..${60 - PHASE_AT_S - 2}, so the load ends before the next Cron run`);

/** Waits until second PHASE_AT_S of the minute (the next one if it is past). */
function untilPhaseStart() {
  const into = Date.now() % 60_000;
  const wait = PHASE_AT_S * 1_000 - into;
  return sleep(wait > 0 ? wait : wait + 60_000);
}

// ---- workerd's memory from /proc --------------------------------------------------------------------------

/** Samples workerd's RSS every 500 ms while `fn` runs; returns its result with the first, peak and last sample. */
async function sampled(/** @type {number[]} */ pids, /** @type {() => Promise<any>} */ fn) {
  const start = usage(pids);
  let peak = start.rss_mib;
  const timer = setInterval(() => (peak = Math.max(peak, usage(pids).rss_mib)), 500);
  const result = await fn();
  clearInterval(timer);
  const end = usage(pids);
  return {
    result,
    rss_start_mib: start.rss_mib,
    rss_peak_mib: Math.max(peak, end.rss_mib),
    rss_end_mib: end.rss_mib,
    cpu_s: Number((end.cpu_s - start.cpu_s).toFixed(1)),
  };
}

/** RSS once a second for `seconds` of idle time: the series and where it ended. */
async function idle(/** @type {number[]} */ pids, /** @type {number} */ seconds) {
  /** @type {number[]} */
  const series = [];
  for (let s = 0; s < seconds; s++) {
    series.push(usage(pids).rss_mib);
    await sleep(1_000);
  }
  series.push(usage(pids).rss_mib);
  return {
    seconds,
    rss_first_mib: series[0],
    rss_min_mib: Math.min(...series),
    rss_last_mib: series[series.length - 1],
    every_10s_mib: series.filter((_, i) => i % 10 === 0),
  };
}

// ---- Counts from the state directory and the server's log -------------------------------------------------

/** Durable Objects with storage, per namespace folder, and audit rows in D1. */
function stateCounts(/** @type {string} */ stateDir) {
  const doDir = join(stateDir, "v3", "do");
  /** @type {Record<string, number>} */
  const objects = {};
  if (existsSync(doDir)) {
    for (const ns of readdirSync(doDir))
      objects[ns] = readdirSync(join(doDir, ns)).filter((f) => f.endsWith(".sqlite") && f !== "metadata.sqlite").length;
  }
  let audit_rows = null;
  const d1Dir = join(stateDir, "v3", "d1", "miniflare-D1DatabaseObject");
  for (const file of existsSync(d1Dir) ? readdirSync(d1Dir).filter((f) => f.endsWith(".sqlite") && f !== "metadata.sqlite") : []) {
    try {
      const db = new DatabaseSync(join(d1Dir, file), { readOnly: true });
      const row = /** @type {{ n: number } | undefined} */ (db.prepare("SELECT count(*) AS n FROM audit_log").get());
      db.close();
      if (row !== undefined) audit_rows = row.n;
    } catch {
      // Not the database with the audit log (or busy): leave it unknown.
    }
  }
  return { objects, audit_rows };
}

/** The last `[scale-counters]` line in the log (cumulative counts), or null when the server does not log them. */
function countersNow(/** @type {string} */ log) {
  const at = log.lastIndexOf("[scale-counters] ");
  if (at < 0) return null;
  const line = log.slice(at + "[scale-counters] ".length).split("\n")[0] ?? "";
  try {
    return /** @type {Record<string, number>} */ (JSON.parse(line));
  } catch {
    return null;
  }
}

/** `after - before`, key by key, and per succeeded transfer. */
function counterDelta(
  /** @type {Record<string, number> | null} */ before,
  /** @type {Record<string, number> | null} */ after,
  /** @type {number} */ transfers,
) {
  if (after === null) return null;
  /** @type {Record<string, { total: number, per_transfer: number }>} */
  const out = {};
  for (const [key, value] of Object.entries(after)) {
    const total = value - (before?.[key] ?? 0);
    out[key] = { total, per_transfer: transfers > 0 ? Number((total / transfers).toFixed(3)) : 0 };
  }
  return out;
}

// ---- The run ----------------------------------------------------------------------------------------------

/** Registers `count` funded users, eight registrations at a time (bench/driver.mjs `setup`, in eight slices). */
async function users(/** @type {string} */ baseUrl, /** @type {number} */ count, /** @type {string} */ prefix) {
  const slices = 8;
  const per = Math.ceil(count / slices);
  const parts = await Promise.all(
    Array.from({ length: slices }, (_, i) =>
      setup(baseUrl, { count: Math.max(0, Math.min(per, count - i * per)), balance: BALANCE, prefix: `${prefix}${i}` }),
    ),
  );
  return parts.flat();
}

const { testServer } = await import(pathToFileURL(join(root, "test", "http", "server.mjs")).href);
const label = args.label ?? execFileSync("git", ["-C", root, "rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
const server = await testServer({ env: BENCH_SERVER_ENV });
const began = new Date();
const load_before = loadavg().map((x) => Number(x.toFixed(2)));
try {
  await server.start();
  const pids = workerdPids();
  if (pids.length === 0) throw new Error("no workerd process found below this one");
  const rss_started_mib = usage(pids).rss_mib;
  const setupStarted = performance.now();
  /** @type {Map<number, any[]>} */
  const sets = new Map();
  for (const size of SIZES) sets.set(size, await users(server.baseUrl, size, `sc${size}x${Date.now().toString(36).slice(-4)}`));
  const setup_s = Number(((performance.now() - setupStarted) / 1_000).toFixed(1));
  const startTotal = [...sets.values()].reduce((sum, set) => sum + set.length * BALANCE, 0);
  console.log(`setup: ${[...sets.values()].reduce((n, s) => n + s.length, 0)} users in ${setup_s} s; workerd ${usage(pids).rss_mib} MiB`);
  await untilPhaseStart();
  const rss_after_setup_mib = usage(pids).rss_mib;

  /**
   * One phase, starting at second PHASE_AT_S: load at `size` for SECONDS, then quiet until the next phase's
   * start. Counters cover both: the alarms, outbox flushes and Cron visits a phase causes come after its load.
   */
  const phase = async (/** @type {number} */ size, /** @type {string} */ name, /** @type {number} */ seed) => {
    const set = /** @type {any[]} */ (sets.get(size));
    const c0 = countersNow(server.log);
    const s0 = stateCounts(server.stateDir);
    const load = await sampled(pids, () =>
      run(server.baseUrl, set, { scenario: "uniform", connections: CONNECTIONS, seconds: SECONDS, seed }),
    );
    const cLoad = countersNow(server.log);
    const settle = await sampled(pids, () => untilPhaseStart());
    const c1 = countersNow(server.log);
    const s1 = stateCounts(server.stateDir);
    const r = load.result;
    const out = {
      phase: name,
      wallets: size,
      transfers_per_s: r.transfers_per_s,
      succeeded: r.succeeded,
      statuses: r.statuses,
      p50_ms: r.p50_ms,
      p99_ms: r.p99_ms,
      cpu_ms_per_transfer: r.succeeded > 0 ? Number((((load.cpu_s + settle.cpu_s) * 1_000) / r.succeeded).toFixed(2)) : null,
      rss_start_mib: load.rss_start_mib,
      rss_peak_mib: Math.max(load.rss_peak_mib, settle.rss_peak_mib),
      rss_after_settle_mib: settle.rss_end_mib,
      audit_rows_added: s0.audit_rows === null || s1.audit_rows === null ? null : s1.audit_rows - s0.audit_rows,
      counters: counterDelta(c0, c1, r.succeeded),
      // The same counts during the load alone: work of the Cron (or of an earlier phase) that overlaps the load
      // shows here, and the rest of `counters` came in the quiet part after it.
      counters_during_load: counterDelta(c0, cLoad, r.succeeded),
    };
    console.log(JSON.stringify(out));
    return out;
  };

  /** @type {any[]} */
  const phases = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (const size of SIZES) phases.push(await phase(size, `round ${round + 1}`, 7 + round));
  }
  const idle_after = await idle(pids, IDLE_S);
  await untilPhaseStart();
  console.log(`idle: ${JSON.stringify(idle_after)}`);
  const largest = Math.max(...SIZES);
  const reload = await phase(largest, "reload after idle", 99);
  const check = await conservation(server.baseUrl, [...sets.values()].flat(), startTotal);

  /** @type {Record<string, any>} */
  const bySize = {};
  for (const size of SIZES) {
    const runs = phases.filter((p) => p.wallets === size);
    const sorted = [...runs].sort((a, b) => a.transfers_per_s - b.transfers_per_s);
    const median = sorted[Math.floor(sorted.length / 2)];
    bySize[size] = {
      transfers_per_s_median: median.transfers_per_s,
      transfers_per_s_runs: runs.map((p) => p.transfers_per_s),
      p99_ms_median_run: median.p99_ms,
      cpu_ms_per_transfer_median_run: median.cpu_ms_per_transfer,
      rss_peak_mib: Math.max(...runs.map((p) => p.rss_peak_mib)),
      counters_median_run: median.counters,
    };
  }
  const [small, big] = [Math.min(...SIZES), largest];
  const result = {
    label,
    root,
    date: began.toISOString(),
    machine: { cores: cpus().length, loadavg_at_start: load_before, loadavg_at_end: loadavg().map((x) => Number(x.toFixed(2))) },
    settings: {
      sizes: SIZES,
      rounds: ROUNDS,
      seconds: SECONDS,
      connections: CONNECTIONS,
      phase_starts_at_second: PHASE_AT_S,
      idle_s: IDLE_S,
      server_env: BENCH_SERVER_ENV,
    },
    setup_s,
    by_size: bySize,
    ratio_large_to_small: Number((bySize[big].transfers_per_s_median / bySize[small].transfers_per_s_median).toFixed(2)),
    rss_mib: {
      started: rss_started_mib,
      after_setup: rss_after_setup_mib,
      peak_during_rounds: Math.max(...phases.map((p) => p.rss_peak_mib)),
      idle: idle_after,
      reload_peak: reload.rss_peak_mib,
      reload_growth_over_idle: reload.rss_peak_mib - idle_after.rss_last_mib,
    },
    objects_with_storage: stateCounts(server.stateDir).objects,
    conserved: check.conserved,
    conservation_problems: check.problems.slice(0, 5),
    phases: [...phases, reload],
  };
  console.log(
    JSON.stringify(
      {
        by_size: Object.fromEntries(Object.entries(bySize).map(([k, v]) => [k, v.transfers_per_s_median])),
        ratio: result.ratio_large_to_small,
        rss_mib: result.rss_mib,
        conserved: result.conserved,
      },
      null,
      1,
    ),
  );
  mkdirSync(dirname(args.out ?? ""), { recursive: true });
  const outFile = String(args.out);
  const stored = existsSync(outFile) ? JSON.parse(readFileSync(outFile, "utf8")) : {};
  stored[label] = result;
  writeFileSync(outFile, JSON.stringify(stored, null, 2) + "\n");
  console.log(`written under "${label}" to ${outFile}`);
  if (!check.conserved) process.exitCode = 1;
} finally {
  await server.dispose();
}
