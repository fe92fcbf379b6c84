// The deployed service's capacity and cost, derived from bench/results/parts.json (measured here) and Cloudflare's
// published prices and limits (below, each with its page). bench/parts.mjs prints this after every run, and
// docs/capacity.md quotes it, so a re-run regenerates every number the document gives. Run alone:
// `node bench/parts/capacity.mjs` reads bench/results/parts.json and prints the tables.
import { readFileSync } from "node:fs";

/**
 * Cloudflare's prices and limits (Workers Paid, Standard usage model), read from the pages named. Included monthly
 * allowances are left out: at the volumes here they are a rounding error, and leaving them out makes the
 * cost per million transfers a marginal cost that does not depend on the rest of the account.
 */
export const PRICES = {
  // https://developers.cloudflare.com/workers/platform/pricing/ (Workers, Standard)
  worker_request_per_million: 0.3,
  worker_cpu_ms_per_million: 0.02,
  // https://developers.cloudflare.com/durable-objects/platform/pricing/ (compute; each RPC call and alarm is a request)
  do_request_per_million: 0.15,
  do_gb_s_per_million: 12.5,
  do_memory_gb: 0.128,
  // https://developers.cloudflare.com/durable-objects/platform/pricing/ (SQLite storage backend; setAlarm = 1 row written)
  do_rows_read_per_million: 0.001,
  do_rows_written_per_million: 1.0,
  do_storage_gb_month: 0.2,
  // https://developers.cloudflare.com/d1/platform/pricing/ (indexes add a written row per index touched)
  d1_rows_read_per_million: 0.001,
  d1_rows_written_per_million: 1.0,
  d1_storage_gb_month: 0.75,
};

/** https://developers.cloudflare.com/d1/platform/limits/ : 10 GB per database, which cannot be raised. */
export const D1_MAX_BYTES = 10 * 1e9;

/**
 * What is assumed, not measured. Each is named in docs/capacity.md with its reason.
 * - worker_cpu_ms: the edge Worker's CPU per transfer (routing, zod, the token's HMAC); not measured apart here.
 * - d1_commit_ms: what one D1 write batch costs the database's single thread on Cloudflare beyond its SQLite work
 *   (durable persistence "across several locations"; the D1 FAQ says writes "can take several milliseconds").
 * - do_requests: Durable Object requests per transfer, counted from the code: the edge's `transfer` call, the
 *   wallets' reserve, credit and capture, the recipient's coordinator's `appendEvents`, and at most one alarm.
 * - light_active_s: how long a coordinator with one transfer stays billable: the outbox's pending flush timer
 *   (OUTBOX_FLUSH_DELAY_MS 5 s, stretched by up to 50 %, 25 % on average) keeps it from hibernating.
 */
export const ASSUMED = { worker_cpu_ms: 2, d1_commit_ms: 5, do_requests: 6, light_active_s: 6.25 };

const n = (x, digits = 0) => Number(x).toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
const money = (x) => `$${x < 0.01 ? x.toFixed(4) : x.toFixed(2)}`;

/** The capacity and cost figures, as plain numbers (docs/capacity.md explains each). */
export function derive(parts) {
  const out = {};
  const walletBest = Math.max(...parts.wallet.by_callers.map((r) => r.ops_per_s));
  const coordinatorBest = Math.max(...parts.coordinator.by_callers.map((r) => r.transfers_per_s));
  out.hot_wallet = {
    ops_per_s: walletBest,
    // The driver's hot scenario: the hot wallet receives every transfer and sends half (1.5 operations each).
    hot_transfers_per_s: walletBest / parts.wallet.ops_per_transfer.hot_scenario_mean,
    // A merchant's wallet that only receives: one credit per transfer.
    receive_only_transfers_per_s: walletBest / parts.wallet.ops_per_transfer.recipient,
    peer_hot_transfers_per_s: parts.peer?.hot?.transfers_per_s ?? null,
  };
  out.coordinator = { transfers_per_s: coordinatorBest };
  const d1 = parts.d1.by_delivery_size;
  const one = d1.find((r) => r.movements_per_delivery === 1);
  const full = d1[d1.length - 1];
  const commit_s = ASSUMED.d1_commit_ms / 1_000;
  // A delivery's time on the database's thread: its SQLite work (measured) plus the assumed commit.
  const deployed = (r) => r.movements_per_delivery / (1 / r.deliveries_per_s + commit_s);
  out.d1 = {
    light_measured: one.movements_per_s,
    light_deployed: deployed(one),
    busy_measured: full.movements_per_s,
    busy_deployed: deployed(full),
    busy_size: full.movements_per_delivery,
    rows_written_per_transfer: parts.rows.d1.per_transfer.rows_written,
  };
  out.log = { transfers_per_s: parts.log.leaves_per_s / 2 };
  const bytes = parts.coordinator.bytes_per_transfer;
  out.fill_days = Object.fromEntries([10, 100, 1_000].map((tps) => [tps, D1_MAX_BYTES / (bytes.d1 * tps * 86_400)]));
  out.cost = costPerMillion(parts, coordinatorBest);
  return out;
}

/** The cost of a million transfers, by item; `light` when every transfer is its user's only one for a while. */
function costPerMillion(parts, coordinatorBest) {
  const P = PRICES;
  const rows = parts.rows;
  const bytes = parts.coordinator.bytes_per_transfer;
  const M = 1_000_000;
  const busy_active_s = 1 / coordinatorBest; // A busy coordinator's active time, shared by its transfers.
  const common = {
    "Workers requests (1 per transfer)": P.worker_request_per_million,
    [`Workers CPU (${ASSUMED.worker_cpu_ms} ms per transfer, assumed)`]: ASSUMED.worker_cpu_ms * P.worker_cpu_ms_per_million,
    [`Durable Object requests (${ASSUMED.do_requests} per transfer)`]: ASSUMED.do_requests * P.do_request_per_million,
    [`SQLite in Durable Objects: ${n(rows.durable_objects.per_transfer.rows_written + rows.durable_objects.alarms_set_per_transfer, 1)} rows written`]:
      (rows.durable_objects.per_transfer.rows_written + rows.durable_objects.alarms_set_per_transfer) * P.do_rows_written_per_million,
    [`SQLite in Durable Objects: ${n(rows.durable_objects.per_transfer.rows_read, 1)} rows read`]:
      rows.durable_objects.per_transfer.rows_read * P.do_rows_read_per_million,
    [`D1: ${n(rows.d1.per_transfer.rows_written, 1)} rows written`]: rows.d1.per_transfer.rows_written * P.d1_rows_written_per_million,
    [`D1: ${n(rows.d1.per_transfer.rows_read, 1)} rows read`]: rows.d1.per_transfer.rows_read * P.d1_rows_read_per_million,
    [`Storage, per month kept: ${n(bytes.durable_objects)} B in Durable Objects`]:
      ((bytes.durable_objects * M) / 1e9) * P.do_storage_gb_month,
    [`Storage, per month kept: ${n(bytes.d1)} B in D1`]: ((bytes.d1 * M) / 1e9) * P.d1_storage_gb_month,
  };
  const duration = (active_s) => active_s * P.do_memory_gb * P.do_gb_s_per_million;
  const busy = { ...common, [`Durable Object duration (busy: ${n(busy_active_s * 1000, 1)} ms shared)`]: duration(busy_active_s) };
  const light = {
    ...common,
    [`Durable Object duration (light: ${ASSUMED.light_active_s} s per transfer)`]: duration(ASSUMED.light_active_s),
  };
  const total = (items) => Object.values(items).reduce((a, b) => a + b, 0);
  return { busy, light, busy_total: total(busy), light_total: total(light) };
}

/** The derived tables, in Markdown. */
export function capacityTables(parts) {
  const d = derive(parts);
  const lines = [];
  lines.push("| shared part | transfers/s it carries (measured here) | deployed estimate |", "| --- | --- | --- |");
  lines.push(
    `| one D1 database, light users (1 movement per delivery) | ${n(d.d1.light_measured)} | ${n(d.d1.light_deployed)} (+${ASSUMED.d1_commit_ms} ms commit per batch, assumed) |`,
  );
  lines.push(
    `| one D1 database, busy coordinators (${d.d1.busy_size} per delivery) | ${n(d.d1.busy_measured)} | ${n(d.d1.busy_deployed)} (same assumption) |`,
  );
  lines.push(`| the transparency log (one object, 2 leaves per transfer) | ${n(d.log.transfers_per_s)} | same: one object's thread |`);
  lines.push("", "| one object, alone | measured here | peer-pg hot, same machine |", "| --- | --- | --- |");
  const peer = d.hot_wallet.peer_hot_transfers_per_s;
  lines.push(
    `| hot wallet: ${n(d.hot_wallet.ops_per_s)} ops/s | ${n(d.hot_wallet.hot_transfers_per_s)} transfers/s (hot scenario, 1.5 ops each); ${n(d.hot_wallet.receive_only_transfers_per_s)} receiving only | ${peer === null ? "not run" : `${n(peer)} transfers/s (ratio ${(d.hot_wallet.hot_transfers_per_s / peer).toFixed(2)})`} |`,
  );
  lines.push(`| one user's coordinator (whole transfer on one thread) | ${n(d.coordinator.transfers_per_s)} transfers/s | |`);
  lines.push("", "| transfers/s | days until one D1 database holds 10 GB |", "| --- | --- |");
  for (const [tps, days] of Object.entries(d.fill_days)) lines.push(`| ${n(Number(tps))} | ${n(days, 1)} |`);
  lines.push("", "| cost of a million transfers | busy users | light users |", "| --- | --- | --- |");
  const keys = Object.keys(d.cost.busy);
  const lightKeys = Object.keys(d.cost.light);
  keys.forEach((k, i) => {
    const lk = lightKeys[i] ?? k;
    // The duration rows differ by their detail in parentheses; every other row is the same item in both columns.
    const detail = (key) => (key === lk && key === k ? "" : ` (${key.slice(key.indexOf("(") + 1, key.lastIndexOf(")"))})`);
    const label = k === lk ? k : k.slice(0, k.indexOf("(")).trim();
    lines.push(`| ${label} | ${money(d.cost.busy[k])}${detail(k)} | ${money(d.cost.light[lk])}${detail(lk)} |`);
  });
  lines.push(`| **total** | **${money(d.cost.busy_total)}** | **${money(d.cost.light_total)}** |`);
  return lines.join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const parts = JSON.parse(readFileSync(new URL("../results/parts.json", import.meta.url), "utf8"));
  console.log(capacityTables(parts));
}
