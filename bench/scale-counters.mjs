// @ts-check
// `node bench/scale-counters.mjs [<dir>]`: makes a throwaway copy of this checkout whose server logs counts
// for bench/scale-wallets.mjs (issue 19, item 15): Durable Objects constructed (a cold object pays its
// constructor, schema check and first statements), coordinator alarm runs, alarm writes, D1 batches and the
// movements they carry, D1 reads of the recipient directory, outbox flushes by timer, and the Cron jobs'
// visits (self-audit wallets, recovery-sweep wakes). The counts are module-level in the Worker's isolate
// (which every object of the Worker shares) and are logged cumulatively as `[scale-counters] {...}` at most
// every 200 ms while they change.
//
// Nothing here is ever part of the service: the copy is made in a temporary folder (node_modules is linked,
// not copied), each counter is inserted at a line found by its exact text, and the script fails if any such
// line is missing, rather than measure a copy that counts less than it says. Then:
//
//   npm run bench:scale -- --root <the printed folder> --label counters
import { cpSync, existsSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = resolve(fileURLToPath(new URL("..", import.meta.url)));
const dest = resolve(process.argv[2] ?? mkdtempSync(join(tmpdir(), "scale-counters-")));

const COUNTERS_TS = `// Throwaway counters for bench/scale-wallets.mjs (made by bench/scale-counters.mjs; never in the service).
const counts: Record<string, number> = {};
let lastLog = 0;
export function count(name: string, by = 1): void {
  counts[name] = (counts[name] ?? 0) + by;
  const now = Date.now();
  if (now - lastLog < 200) return;
  lastLog = now;
  console.log("[scale-counters] " + JSON.stringify(counts));
}
`;

/** Insertions: file, the exact text to find (once), and what goes right after it. */
const EDITS = [
  ["src/transfer-coordinator.ts", 'import { DurableObject } from "cloudflare:workers";', '\nimport { count } from "./scale-counters";'],
  [
    "src/transfer-coordinator.ts",
    "    super(ctx, env);\n    this.storage = faultableStorage(ctx.storage, this.faults);",
    '\n    count("coordinators_constructed");',
  ],
  ["src/transfer-coordinator.ts", "  override async alarm(): Promise<void> {", '\n    count("alarm_runs");'],
  [
    "src/coordinator/alarm-clock.ts",
    'import { errorText, log } from "../observability/log";',
    '\nimport { count } from "../scale-counters";',
  ],
  ["src/coordinator/alarm-clock.ts", "    this.atMs = at_ms;\n    try {", '\n      count("alarm_writes");'],
  ["src/wallet-object.ts", 'import { DurableObject } from "cloudflare:workers";', '\nimport { count } from "./scale-counters";'],
  ["src/wallet-object.ts", "    super(ctx, env);\n    this.db = drizzle(ctx.storage);", '\n    count("wallets_constructed");'],
  ["src/coordinator/outbox.ts", 'import { jittered } from "../domain/delays";', '\nimport { count } from "../scale-counters";'],
  // One delivery of the outbox (its movements), sent as one D1 batch per audit partition it touches.
  [
    "src/coordinator/outbox.ts",
    "export async function deliver(dbs: readonly D1Database[], movements: readonly MovementRow[]): Promise<void> {",
    '\n  count("d1_deliveries");\n  count("d1_batch_movements", movements.length);',
  ],
  [
    "src/coordinator/outbox.ts",
    "    const statements = [...AUDIT_INSERT.bind(db, rows.audit), ...ENTRY_INSERT.bind(db, rows.entries)];",
    '\n    count("d1_batches");',
  ],
  ["src/coordinator/outbox.ts", "      this.timer = null;", '\n      count("outbox_timer_flushes");'],
  ["src/coordinator/directory.ts", 'import type { Recipient } from "./rpc";', '\nimport { count } from "../scale-counters";'],
  ["src/coordinator/directory.ts", "  async walletExists(walletId: string): Promise<boolean> {", '\n    count("d1_directory_reads");'],
  ["src/audit/self-audit.ts", 'import { sleep } from "../domain/delays";', '\nimport { count } from "../scale-counters";'],
  ["src/audit/self-audit.ts", "): Promise<{ advanced: boolean; problems: Problem[] }> {", '\n  count("self_audit_wallets");'],
  ["src/cron/recovery-sweep.ts", 'import { sleep } from "../domain/delays";', '\nimport { count } from "../scale-counters";'],
  ["src/cron/recovery-sweep.ts", "      const answer = await env.COORDINATOR.getByName(user.id).wake();", '\n      count("sweep_wakes");'],
];

for (const name of ["src", "scripts", "test", "migrations", "web", "wrangler.toml", "package.json", "tsconfig.json"]) {
  const from = join(here, name);
  if (!existsSync(from)) continue;
  cpSync(from, join(dest, name), { recursive: true, filter: (src) => !src.includes(`${join("web", "node_modules")}`) });
}
symlinkSync(join(here, "node_modules"), join(dest, "node_modules"));
writeFileSync(join(dest, "src", "scale-counters.ts"), COUNTERS_TS);
for (const [file, anchor, insert] of EDITS) {
  const path = join(dest, file);
  const text = readFileSync(path, "utf8");
  const at = text.indexOf(anchor);
  if (at < 0 || text.indexOf(anchor, at + 1) >= 0) throw new Error(`${file}: the line to count at is not there exactly once:\n${anchor}`);
  writeFileSync(path, text.slice(0, at + anchor.length) + insert + text.slice(at + anchor.length));
}
console.log(dest);
