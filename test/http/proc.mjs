// Reads the server's memory from /proc, for the fault runs that must show what the server holds: the workerd
// process that `testServer()` starts is a descendant of this test process (test → start.mjs → serve.mjs →
// workerd), so walking /proc from our own pid finds it without guessing by name among other people's servers.
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";

/** Every live process as pid → { ppid, comm }. */
function processTable() {
  const table = new Map();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // The command name is in parentheses and may itself contain spaces, so split after the last ")".
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      const comm = stat.slice(stat.indexOf("(") + 1, close);
      const ppid = Number(stat.slice(close + 2).split(" ")[1]);
      table.set(Number(name), { ppid, comm });
    } catch {
      // The process ended while we looked.
    }
  }
  return table;
}

/** The pids of the workerd processes below `root` (this process by default). */
export function workerdPids(root = process.pid) {
  const table = processTable();
  const below = (pid) => {
    for (let p = table.get(pid)?.ppid; p !== undefined && p > 1; p = table.get(p)?.ppid) if (p === root) return true;
    return false;
  };
  return [...table].filter(([pid, { comm }]) => comm.startsWith("workerd") && below(pid)).map(([pid]) => pid);
}

/** Resident memory of those workerd processes, in MiB (VmRSS from /proc/<pid>/status). */
export function workerdRssMiB(root = process.pid) {
  let kib = 0;
  for (const pid of workerdPids(root)) {
    try {
      const line = readFileSync(`/proc/${pid}/status`, "utf8")
        .split("\n")
        .find((l) => l.startsWith("VmRSS:"));
      kib += Number(line?.split(/\s+/)[1] ?? 0);
    } catch {
      // Exited meanwhile.
    }
  }
  return Math.round(kib / 1024);
}

/** Clock ticks per second, the unit of utime and stime in /proc/<pid>/stat. */
const CLK_TCK = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;

/**
 * CPU seconds used so far (utime + stime) and resident MiB (VmRSS) of `pids`, now; a process that exited
 * meanwhile counts nothing. The fault runs and benchmarks sample this.
 * @param {number[]} pids
 * @returns {{ cpu_s: number, rss_mib: number }}
 */
export function usage(pids) {
  let ticks = 0;
  let kib = 0;
  for (const pid of pids) {
    try {
      // The command name is in parentheses and may contain spaces: the fields start after the last ")".
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
      kib += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
    } catch {
      // Exited meanwhile.
    }
  }
  return { cpu_s: ticks / CLK_TCK, rss_mib: Math.round(kib / 1024) };
}
