// `npm run bench:parts`: each part's ceiling, measured here (issue 17; docs/capacity.md uses the figures).
//   1. inside workerd (bench/parts/parts.bench-run.ts, which says what each part measures): a wallet's
//      operations/s and a coordinator's transfers/s as concurrent callers grow 1..64, D1's rows/s at the outbox's
//      delivery sizes, the rows each transfer reads and writes (by statement), bytes per transfer in Durable
//      Object storage and D1, and the transparency log's leaves/s;
//   2. the peer (../shared/peers/peer-pg, Node + Postgres) under the same driver as `npm run bench`, hot scenario
//      (100 wallets, 32 connections), for the hot wallet's yardstick;
//   3. the machine's load before and after (the machine is shared: say so beside any figure).
// Writes bench/results/parts.json and prints the measured table and the derived capacity table
// (bench/parts/capacity.mjs). Never part of `npm test`. About 4-5 minutes.
//
// Environment: BENCH_PARTS_SECONDS (3, per concurrency level), BENCH_PARTS_ONLY (wallet,coordinator,rows,d1,log),
// BENCH_PARTS_ROWS_TRANSFERS (200), BENCH_SKIP_PEER=1, BENCH_PEER_SECONDS (10), BENCH_PEER_PORT (8788).
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { conservation, run } from "./driver.mjs";
import { startPeer } from "./targets.mjs";
import { capacityTables } from "./parts/capacity.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const load = () => ({ load_1_5_15: loadavg().map((x) => Number(x.toFixed(2))), cpus: cpus().length });

/** Runs the workerd part and returns its `BENCH {json}` line, parsed. */
function workerdParts() {
  return new Promise((resolve, reject) => {
    const child = spawn("npx", ["vitest", "run", "--config", "bench/parts/vitest.config.ts"], {
      cwd: root,
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
      for (const line of String(chunk).split("\n")) if (/^(wallet|coordinator|d1) /.test(line.trim())) console.log(line.trim());
    });
    child.on("exit", (code) => {
      const line = out.split("\n").find((l) => l.includes("BENCH {"));
      if (code !== 0 || line === undefined) {
        process.stdout.write(out);
        reject(new Error(`the workerd part failed (exit ${code})`));
      } else resolve(JSON.parse(line.slice(line.indexOf("{"))));
    });
  });
}

/** peer-pg's hot figure, under the driver and settings `npm run bench` uses. */
async function peerHot() {
  const wallets = 100;
  const peer = await startPeer({ wallets, balance: 10_000_000, port: Number(process.env.BENCH_PEER_PORT ?? 8788) });
  try {
    const settings = { scenario: "hot", connections: 32, seconds: Number(process.env.BENCH_PEER_SECONDS ?? 10), seed: 7 };
    const r = await run(peer.baseUrl, peer.users, settings);
    const conserved = (await conservation(peer.baseUrl, peer.users, peer.startTotal)).conserved;
    return {
      hot: {
        wallets,
        ...settings,
        transfers_per_s: r.transfers_per_s,
        p50_ms: r.p50_ms,
        p99_ms: r.p99_ms,
        statuses: r.statuses,
        conserved,
      },
    };
  } finally {
    peer.stop();
  }
}

/** The measured figures, in Markdown. */
function measuredTables(r) {
  const lines = [];
  if (r.wallet && r.coordinator) {
    lines.push("| callers | wallet ops/s | coordinator transfers/s |", "| --- | --- | --- |");
    r.wallet.by_callers.forEach((w, i) =>
      lines.push(`| ${w.callers} | ${w.ops_per_s} | ${r.coordinator.by_callers[i]?.transfers_per_s ?? ""} |`),
    );
    const b = r.coordinator.bytes_per_transfer;
    lines.push(
      "",
      `Bytes per transfer (${b.transfers} transfers): sender wallet ${b.sender_wallet}, recipient wallets ${b.recipient_wallets}, ` +
        `sender coordinator ${b.sender_coordinator}, recipient coordinators ${b.recipient_coordinators} (Durable Objects ${b.durable_objects}); D1 ${b.d1}.`,
    );
  }
  if (r.d1) {
    lines.push(
      "",
      "| movements per D1 delivery | statements | deliveries/s | movements/s | table rows/s | billed rows written/s |",
      "| --- | --- | --- | --- | --- | --- |",
    );
    for (const d of r.d1.by_delivery_size)
      lines.push(
        `| ${d.movements_per_delivery} | ${d.statements_per_delivery} | ${d.deliveries_per_s} | ${d.movements_per_s} | ${d.table_rows_per_s} | ${d.billed_rows_written_per_s} |`,
      );
  }
  if (r.rows) {
    const t = r.rows;
    lines.push(
      "",
      `Rows per transfer (${t.transfers} transfers): Durable Objects ${t.durable_objects.per_transfer.rows_written} written, ${t.durable_objects.per_transfer.rows_read} read, ` +
        `${t.durable_objects.alarms_set_per_transfer} setAlarm; D1 ${t.d1.per_transfer.rows_written} written, ${t.d1.per_transfer.rows_read} read.`,
    );
    lines.push("", "| statement (per transfer) | calls | rows read | rows written |", "| --- | --- | --- | --- |");
    for (const [where, list] of [
      ["DO", t.durable_objects.statements],
      ["D1", t.d1.statements],
    ])
      for (const [sql, s] of Object.entries(list))
        if (s.rows_written > 0 || s.calls >= 0.5)
          lines.push(`| ${where}: \`${sql.replaceAll("|", "\\|")}\` | ${s.calls} | ${s.rows_read} | ${s.rows_written} |`);
  }
  if (r.log)
    lines.push("", `Transparency log: ${r.log.leaves_per_s} leaves/s (${r.log.leaves} leaves), ${r.log.bytes_per_leaf} bytes per leaf.`);
  if (r.peer)
    lines.push(
      "",
      `peer-pg hot: ${r.peer.hot.transfers_per_s} transfers/s, p99 ${r.peer.hot.p99_ms} ms, conserved ${r.peer.hot.conserved}.`,
    );
  return lines.join("\n");
}

const result = { at: new Date().toISOString(), machine_before: load() };
Object.assign(result, await workerdParts());
if (process.env.BENCH_SKIP_PEER !== "1") result.peer = await peerHot();
result.machine_after = load();
mkdirSync(`${root}/bench/results`, { recursive: true });
writeFileSync(`${root}/bench/results/parts.json`, `${JSON.stringify(result, null, 2)}\n`);
console.log(
  `\nMeasured (load before ${result.machine_before.load_1_5_15.join("/")}, after ${result.machine_after.load_1_5_15.join("/")} on ${result.machine_after.cpus} cores):\n`,
);
console.log(measuredTables(result));
if (result.wallet && result.coordinator && result.d1 && result.rows && result.log) {
  console.log("\nDerived (bench/parts/capacity.mjs; docs/capacity.md):\n");
  console.log(capacityTables(result));
}
if (result.peer && !result.peer.hot.conserved) {
  console.error("peer-pg did not conserve money");
  process.exitCode = 1;
}
