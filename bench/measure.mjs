// Measuring helpers shared by the benchmarks: CPU and memory of a server's processes from /proc, and runs that
// alternate between targets and keep each one's median.
import { readFileSync } from "node:fs";

/** CPU seconds and resident memory of a set of processes, from /proc. */
export function usage(pids) {
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
export async function measured(pidsOf, fn) {
  const before = usage(pidsOf());
  let peak = before.rss_mib;
  const timer = setInterval(() => (peak = Math.max(peak, usage(pidsOf()).rss_mib)), 250);
  const result = await fn();
  clearInterval(timer);
  const after = usage(pidsOf());
  return { ...result, server_cpu_s: Number((after.cpu_s - before.cpu_s).toFixed(1)), server_peak_rss_mib: Math.max(peak, after.rss_mib) };
}

/** The run with the median value of `key`, with every repeat's value beside it. */
export function median(runs, key) {
  const sorted = [...runs].sort((a, b) => a[key] - b[key]);
  return { ...sorted[Math.floor(sorted.length / 2)], repeats: runs.map((r) => r[key]) };
}

/**
 * Runs `measure(target)` on every target `repeats` times, alternating the order each round (A, B, B, A, ...),
 * and keeps each target's median: this machine drifts 10-20 % from minute to minute, so targets measured
 * minutes apart would be compared on different machines.
 */
export async function alternate(targets, key, repeats, measure) {
  const runs = new Map(targets.map((t) => [t.name, []]));
  for (let round = 0; round < repeats; round++) {
    const order = round % 2 === 0 ? targets : [...targets].reverse();
    for (const target of order) {
      const r = await measure(target);
      runs.get(target.name).push(r);
      console.log(target.name, JSON.stringify(r));
    }
  }
  return new Map(targets.map((t) => [t.name, median(runs.get(t.name), key)]));
}
