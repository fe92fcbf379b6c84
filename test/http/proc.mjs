// Reads the server's memory from /proc, for the fault runs that must show what the server holds: the workerd
// process that `testServer()` starts is a descendant of this test process (test → start.mjs → serve.mjs →
// workerd), so walking /proc from our own pid finds it without guessing by name among other people's servers.
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
