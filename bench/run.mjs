// `npm run bench`: our service and the seeds' design (../shared/peers/peer-pg) under the same driver, in one
// run, so every figure can be reported as a ratio that survives a noisy machine. Never part of `npm test`.
//
//   scenarios: uniform random pairs, one hot wallet, disjoint fixed pairs (100 wallets, 32 connections);
//   a no-op request through each stack; a sweep of connections for the chart; history page reads at 10,000
//   and 100,000 entries; server CPU per transfer and peak memory. Conservation is checked after every run.
//
// Both servers run side by side and every measurement alternates between them (ours, peer, peer, ours, ...),
// BENCH_REPEATS times; each figure is the median run. This machine's speed drifts by 10-20 % from minute to
// minute, so two stacks measured minutes apart would be compared on different machines.
//
// Environment: BENCH_SECONDS (10), BENCH_REPEATS (3), BENCH_SKIP_PEER=1, BENCH_SWEEP ("8,16,32,64"),
// BENCH_SWEEP_SECONDS (6).
import { execSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { agentFor, conservation, request, run, setup } from "./driver.mjs";
import { alternate, measured } from "./measure.mjs";
import { startOurs, startPeer } from "./targets.mjs";
import { seedHistory } from "./seed-history.mjs";
import { renderChart, renderTable } from "./report.mjs";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
const SWEEP = (process.env.BENCH_SWEEP ?? "8,16,32,64").split(",").map(Number);
const SWEEP_SECONDS = Number(process.env.BENCH_SWEEP_SECONDS ?? 6);
const WALLETS = 100;
const CONNECTIONS = 32;
const amount = (rnd) => 1 + Math.floor(rnd() * 100);

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

/** Targets whose money did not add up after some run (any run, not only the medians). */
const failedRuns = new Set();

/** Every scenario on every target, interleaved; conservation is checked after each transfer run. */
async function scenarios(targets) {
  const results = new Map(targets.map((t) => [t.name, { target: t.name, runs: [], sweep: [] }]));
  const noops = await alternate(targets, "requests_per_s", REPEATS, (t) =>
    measured(t.pids, () => noop(t.baseUrl, CONNECTIONS, Math.min(SECONDS, 5))),
  );
  for (const t of targets) results.get(t.name).runs.push(noops.get(t.name));
  for (const scenario of ["uniform", "hot", "disjoint"]) {
    const medians = await alternate(targets, "transfers_per_s", REPEATS, async (t) => {
      const r = await measured(t.pids, () =>
        run(t.baseUrl, t.users, { scenario, connections: CONNECTIONS, seconds: SECONDS, seed: 7, amount }),
      );
      const check = await conservation(t.baseUrl, t.users, t.startTotal);
      r.conserved = check.conserved;
      if (!r.conserved) {
        failedRuns.add(t.name);
        console.error(`${t.name} ${scenario}: CONSERVATION FAILED`, check);
      }
      return r;
    });
    for (const t of targets) results.get(t.name).runs.push(medians.get(t.name));
  }
  for (const connections of SWEEP) {
    for (const t of targets) {
      const r = await run(t.baseUrl, t.users, { scenario: "uniform", connections, seconds: SWEEP_SECONDS, seed: 11, amount });
      results.get(t.name).sweep.push({ connections, transfers_per_s: r.transfers_per_s, p99_ms: r.p99_ms });
      console.log(t.name, "sweep", JSON.stringify(results.get(t.name).sweep.at(-1)));
    }
  }
  for (const t of targets) {
    const check = await conservation(t.baseUrl, t.users, t.startTotal);
    const result = results.get(t.name);
    result.conserved_at_end = check.conserved;
    result.all_runs_conserved = !failedRuns.has(t.name);
  }
  return results;
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
      const res = await request(agent, server.baseUrl, `/wallets/${user.wallet_id}/history?limit=50${cursor ? `&cursor=${cursor}` : ""}`, {
        token: user.token,
      });
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

const results = {
  at: new Date().toISOString(),
  seconds: SECONDS,
  repeats: REPEATS,
  wallets: WALLETS,
  connections: CONNECTIONS,
  machine: `${execSync("nproc").toString().trim()} cores`,
};
const ours = await startOurs({ wallets: WALLETS, balance: 10_000_000 });
try {
  const peer = process.env.BENCH_SKIP_PEER === "1" ? null : await startPeer({ wallets: WALLETS, balance: 10_000_000 });
  try {
    const measuredTargets = await scenarios(peer === null ? [ours] : [ours, peer]);
    results.ours = measuredTargets.get("ours");
    if (peer !== null) results.peer = measuredTargets.get("peer-pg");
  } finally {
    peer?.stop();
  }
  results.ours.history = await historyReads(ours.server);
} finally {
  await ours.server.dispose();
}
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
const failed = [results.ours, results.peer]
  .filter(Boolean)
  .some((t) => !t.conserved_at_end || !t.all_runs_conserved || t.runs.some((r) => r.conserved === false));
if (failed) {
  console.error("FAIL: conservation broken in at least one run");
  process.exitCode = 1;
}
