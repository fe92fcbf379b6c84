// `node bench/profile.mjs [scenario] [seconds]`: where a transfer's time goes inside workerd. Starts our server
// as the benchmarks do (test/http/server.mjs with BENCH_SERVER_ENV) with workerd's inspector on
// PROFILE_INSPECTOR_PORT (default 9229), funds 100 users, warms up, then records a V8 CPU profile of the Worker's
// isolate (every Durable Object of the service runs in it) while the bench driver sends transfers (uniform by
// default, 32 connections). Prints the functions with the most self time and the same grouped by source file of
// the bundle's inlined modules (by the nearest `// src/...` marker esbuild leaves), and writes the profile to
// bench/results/profile-<scenario>.cpuprofile (open it in Chrome's DevTools). Never part of `npm test`.
import { cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BENCH_SERVER_ENV, run, setup } from "./driver.mjs";
import { testServer } from "../test/http/server.mjs";

const scenario = process.argv[2] ?? "uniform";
const seconds = Number(process.argv[3] ?? 8);
const inspectorPort = Number(process.env.PROFILE_INSPECTOR_PORT ?? 9229);

// `--analyse <profile> <bundle dir> <transfers>`: only the summary of a profile recorded earlier (its bundle is
// kept beside it as bench/results/profile-<scenario>-bundle).
if (process.argv[2] === "--analyse") {
  summarise(JSON.parse(readFileSync(process.argv[3], "utf8")), Number(process.argv[5]), process.argv[4]);
  process.exit(0);
}
const server = await testServer({ env: { ...BENCH_SERVER_ENV, INSPECTOR_PORT: String(inspectorPort) } });
await server.start();
try {
  const users = await setup(server.baseUrl, { count: 100, balance: 10_000_000, prefix: `pf${Date.now() % 100_000}` });
  await run(server.baseUrl, users, { scenario, connections: 32, seconds: 3, seed: 3, amount: () => 1 });
  const targets = await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json();
  const target = targets.find((t) => !String(t.title ?? "").includes("loopback")) ?? targets[0];
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((ok, fail) => {
    ws.onopen = ok;
    ws.onerror = fail;
  });
  let id = 0;
  const waiting = new Map();
  ws.onmessage = (m) => {
    const msg = JSON.parse(String(m.data));
    if (msg.id !== undefined) waiting.get(msg.id)?.(msg);
  };
  const send = (method, params = {}) =>
    new Promise((ok) => {
      const n = ++id;
      waiting.set(n, ok);
      ws.send(JSON.stringify({ id: n, method, params }));
    });
  await send("Profiler.enable");
  await send("Profiler.setSamplingInterval", { interval: 200 });
  await send("Profiler.start");
  const result = await run(server.baseUrl, users, { scenario, connections: 32, seconds, seed: 7, amount: () => 1 });
  const { result: stopped } = await send("Profiler.stop");
  ws.close();
  const profile = stopped.profile;
  mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
  writeFileSync(new URL(`./results/profile-${scenario}.cpuprofile`, import.meta.url), JSON.stringify(profile));
  // The bundle the profile's line numbers refer to, for `--analyse` after the server's state is gone.
  cpSync(join(server.stateDir, "bundle"), new URL(`./results/profile-${scenario}-bundle/`, import.meta.url).pathname, { recursive: true });
  console.log(`${scenario}: ${result.transfers_per_s} tx/s (${result.succeeded} transfers) while profiling; targets: ${targets.length}`);
  summarise(profile, result.succeeded, join(server.stateDir, "bundle"));
} finally {
  await server.dispose();
}

/** Prints self time by function and by bundled source module, in µs per transfer. */
function summarise(profile, transfers, bundleDir) {
  const total = profile.endTime - profile.startTime;
  const dt = new Map();
  // A sample stands for the time from it to the next one (as DevTools charges it): `timeDeltas[i]` is the gap
  // *before* sample i, which after an idle wait would charge the whole wait to whatever ran first when the
  // thread woke (an alarm's outbox read looked like 13 % of the thread that way).
  const at = [];
  profile.timeDeltas.reduce((t, delta, i) => (at[i] = t + delta), profile.startTime);
  profile.samples.forEach((node, i) => dt.set(node, (dt.get(node) ?? 0) + ((at[i + 1] ?? profile.endTime) - at[i])));
  const byFn = new Map();
  const byFile = new Map();
  const modules = moduleIndex(bundleDir);
  for (const node of profile.nodes) {
    const self = dt.get(node.id) ?? 0;
    if (self === 0) continue;
    const f = node.callFrame;
    const where = f.url ? `${f.url.split("/").pop()}:${f.lineNumber + 1}` : "";
    const key = `${f.functionName || "(anonymous)"} ${where} ${f.url ? (modules(f.url, f.lineNumber) ?? "") : ""}`;
    byFn.set(key, (byFn.get(key) ?? 0) + self);
    const file = f.url ? (modules(f.url, f.lineNumber) ?? f.url.split("/").pop()) : f.functionName;
    byFile.set(file, (byFile.get(file) ?? 0) + self);
  }
  // Each node's time charged to the nearest enclosing function of our own code (src/...), with its name.
  const parent = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const ownFrame = (id) => {
    for (let at = id; at !== undefined; at = parent.get(at)) {
      const f = byId.get(at).callFrame;
      const mod = f.url ? modules(f.url, f.lineNumber) : null;
      // The storage wrappers are plumbing: charge their callers.
      if (mod?.startsWith("src/") && mod !== "src/db/faults.ts" && mod !== "src/db/group-commit.ts")
        return `${f.functionName || "(anonymous)"} ${mod}:${f.lineNumber + 1}`;
    }
    return "(outside our code)";
  };
  const byOwn = new Map();
  for (const node of profile.nodes) {
    const self = dt.get(node.id) ?? 0;
    if (self === 0 || ["(idle)", "(program)", "(garbage collector)"].includes(node.callFrame.functionName)) continue;
    const k = ownFrame(node.id);
    byOwn.set(k, (byOwn.get(k) ?? 0) + self);
  }
  // Each library's time (Drizzle, Hono, zod, ...) charged to the function of ours that called into it.
  const moduleOf = (id) => {
    const f = byId.get(id).callFrame;
    return f.url ? modules(f.url, f.lineNumber) : null;
  };
  const byLibraryCaller = new Map();
  for (const node of profile.nodes) {
    const self = dt.get(node.id) ?? 0;
    const mod = self === 0 ? null : moduleOf(node.id);
    if (!mod?.startsWith("node_modules/")) continue;
    const k = `${mod.slice("node_modules/".length)} from ${ownFrame(node.id)}`;
    byLibraryCaller.set(k, (byLibraryCaller.get(k) ?? 0) + self);
  }
  const top = (map, n) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, v]) => `${((100 * v) / total).toFixed(1).padStart(5)} %  ${(v / transfers).toFixed(1).padStart(7)} µs/tx  ${k}`)
      .join("\n");
  console.log(`\nprofile ${(total / 1e6).toFixed(1)} s; self time by function:\n${top(byFn, 45)}`);
  console.log(`\nby module:\n${top(byFile, 40)}`);
  console.log(`\ncharged to the nearest function of our own code (native calls, libraries and all below it):\n${top(byOwn, 60)}`);
  console.log(`\nlibraries' own time, by the function of ours that called them:\n${top(byLibraryCaller, 30)}`);
}

/** Maps a line of the deploy bundle to the `// src/...` or `// node_modules/...` module esbuild put it in. */
function moduleIndex(bundleDir) {
  const cache = new Map();
  return (url, line) => {
    if (!cache.has(url)) {
      let markers;
      try {
        const text = readFileSync(join(bundleDir, url.split("/").pop()), "utf8").split("\n");
        markers = text.flatMap((l, i) => (/^\/\/ (src\/|(\.\.\/)*[^ ]*node_modules\/)/.test(l) ? [[i, l.slice(3)]] : []));
      } catch {
        // Not a file of the bundle (a runtime-internal script): no modules to name.
        markers = [];
      }
      cache.set(url, markers);
    }
    const markers = cache.get(url);
    let found = null;
    for (const [i, name] of markers) {
      if (i > line) break;
      found = name;
    }
    return found?.replace(/^.*node_modules\/((@[^/]+\/)?[^/]+).*/, "node_modules/$1");
  };
}
