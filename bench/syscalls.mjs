// `node bench/syscalls.mjs [ours|skeleton] [scenario] [seconds]`: how many fsyncs (commits reaching the disk) and
// other storage syscalls one transfer costs, counted with `strace -c` on the server's workerd while the bench
// driver sends transfers. The design's cost on this machine is mostly commits (each one an fsync on ext4), so
// this says how far ours is from the skeleton's in the currency that matters. Needs perf (or strace, for the
// breakdown by object class: BENCH_SYSCALLS_BY_FILE=1); never in `npm test`.
import { execSync, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BENCH_SERVER_ENV, run, setup } from "./driver.mjs";
import { testServer } from "../test/http/server.mjs";

const which = process.argv[2] ?? "ours";
const scenario = process.argv[3] ?? "uniform";
const seconds = Number(process.argv[4] ?? 8);
const root = new URL("..", import.meta.url).pathname;
const port = Number(process.env.BENCH_SYSCALLS_PORT ?? 8795);

async function startOurs() {
  const server = await testServer({ env: { ...BENCH_SERVER_ENV } });
  await server.start();
  return { baseUrl: server.baseUrl, stop: () => server.dispose() };
}

async function startSkeleton() {
  const { Miniflare, Log, LogLevel, convertV4MiniflareOptions } = createRequire(join(root, "node_modules", "wrangler", "package.json"))(
    "miniflare",
  );
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      host: "127.0.0.1",
      port: 0,
      cf: false,
      log: new Log(LogLevel.WARN),
      unsafeObservability: false,
      unsafeLocalExplorer: false,
      resourcePersistencePath: mkdtempSync(join(tmpdir(), "skeleton-syscalls-")),
      workers: [
        {
          name: "skeleton",
          modules: true,
          scriptPath: join(root, "bench", "skeleton", "worker.js"),
          compatibilityDate: "2026-11-01",
          bindings: { SKELETON_VARIANT: "grouped" },
          durableObjects: {
            WALLET: { className: "SkeletonWallet", useSQLite: true },
            COORDINATOR: { className: "SkeletonCoordinator", useSQLite: true },
          },
          unsafeDirectSockets: [{ host: "127.0.0.1", port }],
        },
      ],
    }),
  );
  await mf.ready;
  return { baseUrl: `http://127.0.0.1:${port}`, stop: () => mf.dispose() };
}

const target = which === "ours" ? await startOurs() : await startSkeleton();
try {
  const users = await setup(target.baseUrl, { count: 100, balance: 10_000_000, prefix: `sc${Date.now() % 100_000}` });
  await run(target.baseUrl, users, { scenario, connections: 32, seconds: 3, seed: 3 });
  const listenPort = new URL(target.baseUrl).port;
  const pid = Number(/pid=(\d+)/.exec(execSync(`ss -Hltnp 'sport = :${listenPort}'`).toString())?.[1]);
  const byFile = process.env.BENCH_SYSCALLS_BY_FILE === "1";
  // perf's syscall tracepoints count without slowing the server; strace (BENCH_SYSCALLS_BY_FILE=1) names each
  // call's file, to charge it to an object class, but at a quarter of the speed, which inflates the periodic work
  // (alarms, outbox flushes) per transfer.
  const tracer = byFile
    ? spawn("strace", ["-f", "-y", "-qq", "-e", "trace=fsync,fdatasync,pwrite64", "-p", String(pid)], {
        stdio: ["ignore", "ignore", "pipe"],
      })
    : spawn(
        "perf",
        ["stat", "-x", ",", "-e", "syscalls:sys_enter_fsync,syscalls:sys_enter_fdatasync,syscalls:sys_enter_pwrite64", "-p", String(pid)],
        {
          stdio: ["ignore", "ignore", "pipe"],
        },
      );
  let report = "";
  tracer.stderr.on("data", (d) => (report += d));
  await new Promise((r) => setTimeout(r, 500));
  const result = await run(target.baseUrl, users, { scenario, connections: 32, seconds, seed: 7 });
  tracer.kill("SIGINT");
  await new Promise((r) => tracer.on("close", r));
  console.log(`${which} ${scenario}: ${result.succeeded} transfers, ${result.transfers_per_s} tx/s while counted`);
  const counts = new Map();
  for (const line of report.split("\n")) {
    if (!byFile) {
      const m = /^(\d+),,syscalls:sys_enter_(\w+)/.exec(line);
      if (m !== null) counts.set(m[2], Number(m[1]));
      continue;
    }
    const m = /(fsync|fdatasync|pwrite64)\(\d+<([^>]*)>/.exec(line);
    if (m === null) continue;
    // The Durable Object class (or D1) from Miniflare's folder names (do/<worker>-<Class>/<id>.sqlite); writes to
    // -wal are the commits' pages, writes to the .sqlite file itself checkpoints. SQLite's temporary files (statement
    // journals, sorts) are unlinked at once, so strace shows them as /var/tmp/#<inode>.
    const path = m[2];
    const cls =
      /\/do\/[^/]*?-([A-Za-z]+)\//.exec(path)?.[1] ?? (/\/d1\//.test(path) ? "D1" : /\/var\/tmp\/#|\/tmp\/#/.test(path) ? "temp" : path);
    const part = path.endsWith("-wal") ? "wal" : path.endsWith(".sqlite") ? "db" : "";
    const key = `${m[1].padEnd(9)} ${cls} ${part}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  for (const [key, n] of [...counts].sort((a, b) => b[1] - a[1]))
    console.log(`  ${(n / result.succeeded).toFixed(2).padStart(7)} per transfer  ${key}`);
} finally {
  await target.stop();
}
