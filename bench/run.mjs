// `npm run bench`: our service and the seeds' design (../shared/peers/peer-pg) under the same driver, in one
// run, so every figure can be reported as a ratio that survives a noisy machine. Never part of `npm test`.
//
//   scenarios: uniform random pairs, one hot wallet, disjoint fixed pairs (100 wallets, 32 connections);
//   a no-op request through each stack; a sweep of connections for the chart; history page reads at 10,000
//   and 100,000 entries; server CPU seconds and peak memory. Conservation is checked after every run.
//
// Environment: BENCH_SECONDS (15), BENCH_SKIP_PEER=1, BENCH_SWEEP ("8,16,32,64"), BENCH_SWEEP_SECONDS (6).
import { execSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { agentFor, conservation, request, run, setup } from "./driver.mjs";
import { seedHistory } from "./seed-history.mjs";
import { renderChart, renderTable } from "./report.mjs";
import { testServer } from "../test/http/server.mjs";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const SWEEP = (process.env.BENCH_SWEEP ?? "8,16,32,64").split(",").map(Number);
const SWEEP_SECONDS = Number(process.env.BENCH_SWEEP_SECONDS ?? 6);
const WALLETS = 100;
const CONNECTIONS = 32;
const amount = (rnd) => 1 + Math.floor(rnd() * 100);
const root = new URL("..", import.meta.url).pathname;

/** CPU seconds and resident memory of a set of processes, from /proc. */
function usage(pids) {
  let ticks = 0;
  let rssKiB = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
      ticks += Number(stat[11]) + Number(stat[12]);
      rssKiB += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
    } catch {
      // The process ended.
    }
  }
  return { cpu_s: ticks / 100, rss_mib: Math.round(rssKiB / 1024) };
}

/** Runs `fn` while sampling the processes' memory; returns its result with CPU seconds and peak RSS. */
async function measured(pidsOf, fn) {
  const before = usage(pidsOf());
  let peak = before.rss_mib;
  const timer = setInterval(() => (peak = Math.max(peak, usage(pidsOf()).rss_mib)), 250);
  const result = await fn();
  clearInterval(timer);
  const after = usage(pidsOf());
  return { ...result, server_cpu_s: Number((after.cpu_s - before.cpu_s).toFixed(1)), server_peak_rss_mib: Math.max(peak, after.rss_mib) };
}

const pidsOfGroup = (pgid) => () => execSync(`ps -o pid= -g ${pgid} || true`).toString().split("\n").map(Number).filter(Boolean);

async function noop(baseUrl, connections, seconds) {
  const agent = agentFor(connections);
  let done = 0;
  const end = performance.now() + seconds * 1_000;
  const began = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < end) {
        const res = await request(agent, baseUrl, "/health");
        if (res.status !== 200) throw new Error(`health ${res.status}`);
        done++;
      }
    }),
  );
  agent.destroy();
  return { scenario: "noop", connections, requests_per_s: Number((done / ((performance.now() - began) / 1_000)).toFixed(1)) };
}

/** The load scenarios against one target; conservation is checked after each. */
async function scenarios(name, baseUrl, pids, users, startTotal) {
  const out = [];
  out.push(await measured(pids, () => noop(baseUrl, CONNECTIONS, Math.min(SECONDS, 10))));
  for (const scenario of ["uniform", "hot", "disjoint"]) {
    const r = await measured(pids, () => run(baseUrl, users, { scenario, connections: CONNECTIONS, seconds: SECONDS, seed: 7, amount }));
    const check = await conservation(baseUrl, users);
    r.conserved = check.total === startTotal && check.problems.length === 0;
    if (!r.conserved) console.error(`${name} ${scenario}: CONSERVATION FAILED`, check);
    out.push(r);
    console.log(name, JSON.stringify(r));
  }
  const sweep = [];
  for (const connections of SWEEP) {
    const r = await run(baseUrl, users, { scenario: "uniform", connections, seconds: SWEEP_SECONDS, seed: 11, amount });
    sweep.push({ connections, transfers_per_s: r.transfers_per_s, p99_ms: r.p99_ms });
    console.log(name, "sweep", JSON.stringify(sweep.at(-1)));
  }
  const check = await conservation(baseUrl, users);
  return { target: name, runs: out, sweep, conserved_at_end: check.total === startTotal && check.problems.length === 0 };
}

async function ours() {
  const server = await testServer({ env: { PASSWORD_ARGON2_MEMORY_KIB: "1024", PASSWORD_ARGON2_PASSES: "1", DAILY_LIMIT_MINOR: "9000000000000000", LOG_LEVEL: "error" } });
  await server.start();
  try {
    const pgid = Number(readFileSync(join(server.stateDir, "server.pid"), "utf8"));
    const users = await setup(server.baseUrl, { count: WALLETS, balance: 10_000_000, prefix: `bn${Date.now() % 100_000}` });
    const result = await scenarios("ours", server.baseUrl, pidsOfGroup(pgid), users, WALLETS * 10_000_000);
    result.history = await historyReads(server);
    return result;
  } finally {
    await server.dispose();
  }
}

/** Page reads of one wallet's history at 10,000 and 100,000 entries, through the normal API path. */
async function historyReads(server) {
  const out = [];
  for (const entries of [10_000, 100_000]) {
    const [user] = await setup(server.baseUrl, { count: 1, balance: 1, prefix: `hist${entries}_${Date.now() % 10_000}` });
    await server.stop();
    seedHistory(server.stateDir, user.wallet_id, entries);
    await server.start();
    const agent = agentFor(1);
    const times = [];
    let cursor = null;
    for (let i = 0; i < 200; i++) {
      const started = performance.now();
      const res = await request(agent, server.baseUrl, `/wallets/${user.wallet_id}/history?limit=50${cursor ? `&cursor=${cursor}` : ""}`, { token: user.token });
      if (res.status !== 200 || res.json.items.length !== 50) throw new Error(`history ${res.status}`);
      times.push(performance.now() - started);
      cursor = i % 20 === 19 ? null : res.json.next_cursor;
    }
    agent.destroy();
    times.sort((a, b) => a - b);
    out.push({ entries, page: 50, p50_ms: Number(times[100].toFixed(2)), p99_ms: Number(times[198].toFixed(2)) });
    console.log("history", JSON.stringify(out.at(-1)));
  }
  return out;
}

async function peer() {
  const peerDir = join(tmpdir(), "wallet-bench-peers");
  if (!existsSync(join(peerDir, "node_modules", "pg"))) {
    cpSync(join(root, "..", "shared", "peers"), peerDir, { recursive: true });
    const npm = spawnSync("npm", ["install", "--no-audit", "--no-fund"], { cwd: peerDir, stdio: "inherit" });
    if (npm.status !== 0) throw new Error("npm install for the peer failed");
  }
  const port = 8788;
  const start = spawnSync(join(peerDir, "peer-pg", "start.sh"), [String(port), "--fresh"], { env: { ...process.env, NODE: process.execPath }, stdio: "inherit" });
  if (start.status !== 0) throw new Error("peer-pg did not start (is postgresql installed? apt-get install -y postgresql)");
  try {
    const baseUrl = `http://127.0.0.1:${port}`;
    const nodePid = Number(readFileSync("/tmp/peer-pg-data/server.pid", "utf8"));
    const pids = () => [nodePid, ...execSync("pgrep -u postgres || true").toString().split("\n").map(Number).filter(Boolean)];
    const users = await setup(baseUrl, { count: WALLETS, balance: 10_000_000, prefix: `pp${Date.now() % 100_000}` });
    return await scenarios("peer-pg", baseUrl, pids, users, WALLETS * 10_000_000);
  } finally {
    spawnSync(join(peerDir, "peer-pg", "stop.sh"), [], { stdio: "inherit" });
  }
}

const results = { at: new Date().toISOString(), seconds: SECONDS, wallets: WALLETS, connections: CONNECTIONS, machine: `${execSync("nproc").toString().trim()} cores` };
results.ours = await ours();
if (process.env.BENCH_SKIP_PEER !== "1") results.peer = await peer();
mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
writeFileSync(new URL("./results/latest.json", import.meta.url), JSON.stringify(results, null, 2));
writeFileSync(new URL("../docs/performance-chart.svg", import.meta.url), renderChart(results));
const table = renderTable(results);
console.log(`\n${table}`);
const doc = new URL("../docs/performance.md", import.meta.url);
if (existsSync(doc)) {
  const text = readFileSync(doc, "utf8");
  const updated = text.replace(/<!-- bench:start -->[\s\S]*<!-- bench:end -->/, `<!-- bench:start -->\n${table}\n<!-- bench:end -->`);
  writeFileSync(doc, updated);
}
const failed = [results.ours, results.peer].filter(Boolean).some((t) => !t.conserved_at_end || t.runs.some((r) => r.conserved === false));
if (failed) {
  console.error("FAIL: conservation broken in at least one run");
  process.exitCode = 1;
}

