// `npm run bench:skeleton`: what the product's fixed design costs on this machine before any application code.
// Runs, side by side under the same driver (100 wallets, 32 connections, uniform and hot), our service, the
// seeds' design (peer-pg), and bench/skeleton/worker.js, the transfer's bare skeleton, in four variants (and a fifth on request):
//   design     the fixed design's work only: 4 calls between objects, 4 commits;
//   no-intent  without the coordinator's intent before the money moves: 4 calls, 3 commits;
//   one-phase  a plain debit instead of reserve and capture: 3 calls, 3 commits;
//   grouped    design, with an object's concurrent operations sharing one commit (group commit);
//   audit      grouped, plus each movement's audit row in D1 through a batched outbox (the design's other fixed
//              work; not in the default list, ask for it with BENCH_VARIANTS);
//   contract   audit, plus each party's event in its user's event log before the answer (the contract's v1.1
//              events kept by each user's coordinator, as ours keeps them; on request too);
//   wallet-events  audit, with each party's event written inside the wallet commit that moves its money instead
//              (no commit or call of its own; the seq given when first read): the cheapest design that keeps the
//              contract's events (on request too).
// Each skeleton runs under Miniflare as `npm start` runs our service (direct socket, no tracing). Every figure is
// the median of BENCH_REPEATS runs alternating between the targets. Conservation is checked after every run.
// Never part of `npm test`. Results: bench/results/skeleton.json and the table it prints.
//
// Environment: BENCH_SECONDS (10), BENCH_REPEATS (3), BENCH_SKIP_PEER=1, BENCH_VARIANTS (a comma list of the
// variants to run, default all four), BENCH_SKELETON_PORT (the first variant's port, 8791; the others follow).
import { mkdirSync, writeFileSync } from "node:fs";
import { conservation, run } from "./driver.mjs";
import { alternate, measured } from "./measure.mjs";
import { startOurs, startPeer, startSkeleton } from "./targets.mjs";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
const WALLETS = 100;
const BALANCE = 10_000_000;
const CONNECTIONS = 32;
const VARIANTS = (process.env.BENCH_VARIANTS ?? "design,no-intent,one-phase,grouped").split(",");
const FIRST_PORT = Number(process.env.BENCH_SKELETON_PORT ?? 8791);
/** @type {any[]} Our service, the peer and the skeleton variants: each a target of `measure`, of its own shape. */
const targets = [await startOurs({ wallets: WALLETS, balance: BALANCE })];
/** @type {(() => Promise<unknown>)[]} */
const stops = [() => targets[0].server.dispose()];
try {
  if (process.env.BENCH_SKIP_PEER !== "1") {
    const peer = await startPeer({ wallets: WALLETS, balance: BALANCE });
    targets.push(peer);
    stops.push(async () => peer.stop());
  }
  for (const [i, variant] of VARIANTS.entries()) {
    const skeleton = await startSkeleton({ variant, port: FIRST_PORT + i, wallets: WALLETS, balance: BALANCE });
    targets.push(skeleton);
    stops.push(skeleton.stop);
  }
  const results = {
    at: new Date().toISOString(),
    seconds: SECONDS,
    repeats: REPEATS,
    wallets: WALLETS,
    connections: CONNECTIONS,
    scenarios: {},
  };
  let conserved = true;
  for (const scenario of ["uniform", "hot"]) {
    const medians = await alternate(targets, "transfers_per_s", REPEATS, async (t) => {
      const r = await measured(t.pids, () => run(t.baseUrl, t.users, { scenario, connections: CONNECTIONS, seconds: SECONDS, seed: 7 }));
      r.conserved = (await conservation(t.baseUrl, t.users, t.startTotal)).conserved;
      conserved &&= r.conserved;
      return r;
    });
    const summary = (r) => ({
      transfers_per_s: r.transfers_per_s,
      repeats: r.repeats,
      p50_ms: r.p50_ms,
      p99_ms: r.p99_ms,
      cpu_ms_per_transfer: r.succeeded > 0 ? Number(((1_000 * r.server_cpu_s) / r.succeeded).toFixed(2)) : null,
      conserved: r.conserved,
    });
    results.scenarios[scenario] = Object.fromEntries([...medians].map(([name, r]) => [name, summary(r)]));
  }
  mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
  writeFileSync(new URL("./results/skeleton.json", import.meta.url), JSON.stringify(results, null, 2));
  console.log(table(results));
  if (!conserved) {
    console.error("CONSERVATION FAILED in some run");
    process.exitCode = 1;
  }
} finally {
  for (const stop of stops.reverse()) await stop();
}

/** A Markdown table: each target's transfers/s and its ratio to peer-pg, per scenario. */
function table(results) {
  const names = Object.keys(results.scenarios.uniform);
  const peer = (scenario) => results.scenarios[scenario]["peer-pg"]?.transfers_per_s;
  const cell = (scenario, name) => {
    const r = results.scenarios[scenario][name];
    const ratio = peer(scenario) === undefined ? "" : ` (${(r.transfers_per_s / peer(scenario)).toFixed(2)}x)`;
    return `${r.transfers_per_s}${ratio}, p99 ${r.p99_ms} ms, ${r.cpu_ms_per_transfer} ms CPU`;
  };
  const lines = ["| target | uniform: tx/s (÷ peer-pg), p99, server CPU per transfer | hot: the same |", "| --- | --- | --- |"];
  for (const name of names) lines.push(`| ${name} | ${cell("uniform", name)} | ${cell("hot", name)} |`);
  // Issue 17's measure: our service over the design's skeleton with group commit, from the same run.
  const grouped = (scenario) => results.scenarios[scenario]["skeleton grouped"]?.transfers_per_s;
  if (grouped("uniform") !== undefined) {
    const ratio = (scenario) => (results.scenarios[scenario].ours.transfers_per_s / grouped(scenario)).toFixed(2);
    lines.push("", `ours ÷ skeleton grouped: uniform ${ratio("uniform")}x, hot ${ratio("hot")}x`);
  }
  // The variants that add the design's and the contract's own durable work: how near ours is to each, and what
  // that work costs the skeleton itself (the most any implementation doing it could reach against "grouped").
  const extras = {
    audit: "grouped with the D1 audit rows",
    contract: "audit with both parties' events in their coordinators",
    "wallet-events": "audit with both parties' events in the wallets' commits",
  };
  for (const [variant, what] of Object.entries(extras)) {
    const tps = (scenario) => results.scenarios[scenario][`skeleton ${variant}`]?.transfers_per_s;
    if (tps("uniform") === undefined) continue;
    const ours = (scenario) => (results.scenarios[scenario].ours.transfers_per_s / tps(scenario)).toFixed(2);
    lines.push(`ours ÷ skeleton ${variant} (${what}): uniform ${ours("uniform")}x, hot ${ours("hot")}x`);
    if (grouped("uniform") === undefined) continue;
    const floor = (scenario) => (tps(scenario) / grouped(scenario)).toFixed(2);
    lines.push(`  skeleton ${variant} ÷ skeleton grouped: uniform ${floor("uniform")}x, hot ${floor("hot")}x`);
  }
  return lines.join("\n");
}
