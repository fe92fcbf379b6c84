// `node bench/syscalls.mjs [ours|skeleton] [scenario] [seconds]`: how many fsyncs (commits reaching the disk) and
// other storage syscalls one transfer costs, counted on the server's workerd while the bench
// driver sends transfers. The design's cost on this machine is mostly commits (each one an fsync on ext4), so
// this says how far ours is from the skeleton's in the currency that matters. Needs perf (or strace, for the
// breakdown by object class: BENCH_SYSCALLS_BY_FILE=1); BENCH_SKELETON_VARIANT picks the skeleton (grouped);
// never in `npm test`.
import { execSync, spawn } from "node:child_process";
import { run } from "./driver.mjs";
import { startOurs, startSkeleton } from "./targets.mjs";

const which = process.argv[2] ?? "ours";
const scenario = process.argv[3] ?? "uniform";
const seconds = Number(process.argv[4] ?? 8);
const port = Number(process.env.BENCH_SYSCALLS_PORT ?? 8795);
const funded = { wallets: 100, balance: 10_000_000 };

const target =
  which === "ours"
    ? await startOurs(funded)
    : await startSkeleton({ variant: process.env.BENCH_SKELETON_VARIANT ?? "grouped", port, ...funded });
const stop = () => (which === "ours" ? target.server.dispose() : target.stop());
try {
  const users = target.users;
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
  await stop();
}
