// `npm test`: every check, with one summary line at the end.
//   1. check that the web client's generated contract matches the server's schemas, and build the web client
//      (the Worker's static assets; also checks it compiles and reports its size); bundle the Worker and migrate
//      the local D1 databases (one per audit partition) once, for every test server to start from;
//   2. type-check the Worker, the tests, the web client and the plain JavaScript (scripts, HTTP and browser tests,
//      benchmarks; checkJs); lint (floating promises, any, non-null; and the .mjs files); check the formatting;
//   3. the Workers tests inside workerd (Vitest with the Cloudflare integration);
//   4. the web client's unit tests and the out-of-process HTTP tests against `npm start` (node:test);
//   5. the browser end-to-end tests, when Debian's Chromium is installed (said plainly when skipped).
//
// Checks that do not need each other run at the same time: the CPU-bound type-checks, lint and Prettier two at
// a time while the Worker is bundled and the D1 databases migrated once for every test server; then the Workers
// tests (two files at a time) beside the web unit and HTTP tests (two files at a time: most of their time is
// spent waiting on servers and timers); then the browser tests alone, since some of them time what a person
// sees. Every HTTP and browser test file starts its own server on a free port with its own state directory,
// so files run side by side without sharing anything. Each check's output is printed whole and in the order
// above, with its duration (the earliest check still running prints live), and a table of durations ends it.
//
//   npm test                      everything
//   npm test -- static workers    only some groups: static, workers, node, e2e
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name) => join(root, "node_modules", ".bin", name);
const env = {
  ...process.env,
  PATH: [dirname(process.execPath), join(root, "node_modules", ".bin"), process.env.PATH ?? ""].join(":"),
  WRANGLER_SEND_METRICS: "false",
};
const totals = { passed: 0, failed: 0, skipped: 0 };
const problems = [];
const GROUPS = ["static", "workers", "node", "e2e"];
const wanted = process.argv.slice(2);
for (const group of wanted) if (!GROUPS.includes(group)) throw new Error(`unknown group ${group}; the groups are ${GROUPS.join(", ")}`);
const runs = (group) => wanted.length === 0 || wanted.includes(group);

/** What the formatter owns (.prettierignore leaves out what is generated). */
const FORMATTED = [
  "src/**/*.{ts,tsx}",
  "web/src/**/*.{ts,tsx}",
  "web/test/**/*.ts",
  "web/vite.config.ts",
  "test/**/*.{ts,mjs}",
  "scripts/**/*.mjs",
  "bench/**/*.{ts,mjs}",
  "*.config.{js,ts}",
];
const filesUnder = (dir, suffix) =>
  existsSync(join(root, dir))
    ? readdirSync(join(root, dir))
        .filter((f) => f.endsWith(suffix))
        .map((f) => join(dir, f))
    : [];

/**
 * At most `limit` holders at once; the others wait in order.
 * @param {number} limit
 */
function semaphore(limit) {
  let free = limit;
  /** @type {(() => void)[]} */
  const waiting = [];
  return {
    async take() {
      if (free > 0) free--;
      else await new Promise((ok) => waiting.push(() => ok(undefined)));
    },
    give() {
      const next = waiting.shift();
      if (next) next();
      else free++;
    },
  };
}
// tsc, eslint and Prettier each keep one core busy: more of them at once than there are cores only adds memory.
const cpuBound = semaphore(Math.max(2, availableParallelism()));

/**
 * A check: a command with its title, the checks it waits for, and, for a test runner, how its output counts.
 * @typedef {object} Phase
 * @property {string} id
 * @property {string} title
 * @property {string} [command]
 * @property {string[]} [args]
 * @property {string[]} [after] ids of the checks that must have passed first
 * @property {string[]} [waitFor] ids of the checks that must have ended first, passed or not (to keep the machine quiet)
 * @property {boolean} [cpu] one of the CPU-bound checks, of which only a few run at once
 * @property {Record<string, string>} [extraEnv]
 * @property {(stdout: string) => void} [count] reads the test counts from the runner's output
 * @property {string} [note] printed instead of running anything (a check that is skipped, and why)
 */

/** The D1 bindings of the audit store's partitions, as wrangler.toml's AUDIT_PARTITIONS lists them (or the environment's). */
function auditPartitions() {
  const toml = readFileSync(join(root, "wrangler.toml"), "utf8");
  const raw = process.env.AUDIT_PARTITIONS ?? /^AUDIT_PARTITIONS\s*=\s*"([^"]*)"/m.exec(toml)?.[1] ?? "DB";
  return raw.split(",").map((name) => name.trim());
}

/** @type {Phase[]} */
const phases = [];
const templateDir = join(root, "test-results", "server-template");
const serverEnv = { PREBUILT_BUNDLE_DIR: join(templateDir, "bundle"), TEST_STATE_TEMPLATE: join(templateDir, "state") };
const needsServers = runs("node") || runs("e2e");
const hasWeb = existsSync(join(root, "web", "vite.config.ts"));

if (runs("static"))
  phases.push({
    id: "gen-api",
    title: "the web client's contract matches the server's schemas (npm run gen:api)",
    command: process.execPath,
    args: [join(root, "scripts", "gen-api.mjs"), "--check"],
  });
if (hasWeb && (runs("static") || needsServers))
  phases.push({ id: "build", title: "build the web client", command: bin("vite"), args: ["build", "--config", "web/vite.config.ts"] });
if (needsServers) {
  phases.push({
    id: "bundle",
    title: "bundle the Worker once for every test server (wrangler deploy --dry-run)",
    command: bin("wrangler"),
    args: ["deploy", "--dry-run", "--outdir", serverEnv.PREBUILT_BUNDLE_DIR],
  });
  // Every audit partition is its own local D1 database with the same migrations (docs/architecture.md,
  // "Partitioned audit store"), each a check of its own, one after the other: they share one persist directory,
  // where two `wrangler d1 migrations apply` runs at once can fail with SQLITE_BUSY (scripts/start.mjs).
  let previous = null;
  for (const binding of auditPartitions()) {
    phases.push({
      id: `migrate-${binding}`,
      title: `migrate the local D1 database ${binding} for every test server to start from`,
      command: bin("wrangler"),
      args: ["d1", "migrations", "apply", binding, "--local", "--persist-to", serverEnv.TEST_STATE_TEMPLATE],
      ...(previous === null ? {} : { after: [previous] }),
    });
    previous = `migrate-${binding}`;
  }
}
if (runs("static")) {
  const tsc = (id, title, project) => ({ id, title, command: bin("tsc"), args: ["--noEmit", "-p", project], cpu: true });
  phases.push(tsc("tsc-worker", "type-check the Worker and its tests", "."));
  if (existsSync(join(root, "web", "tsconfig.json"))) phases.push(tsc("tsc-web", "type-check the web client", "web/tsconfig.json"));
  phases.push(tsc("tsc-scripts", "type-check the scripts, HTTP and browser tests and benchmarks", "tsconfig.scripts.json"));
  phases.push(tsc("tsc-bench", "type-check the benchmarks that run inside workerd", "bench/tsconfig.json"));
  phases.push({ id: "lint", title: "lint", command: bin("eslint"), args: ["src", "scripts", "test", "bench", "web/src"], cpu: true });
  phases.push({
    id: "format",
    title: "formatting (Prettier; `npm run format` fixes it)",
    command: bin("prettier"),
    args: ["--check", ...FORMATTED],
    cpu: true,
  });
}

mkdirSync(join(root, "test-results"), { recursive: true });
const vitestJson = join(root, "test-results", "vitest.json");
if (runs("workers")) {
  rmSync(vitestJson, { force: true });
  phases.push({
    id: "workers",
    title: "Workers tests in workerd",
    command: bin("vitest"),
    // Two files at a time: a file spends much of its time waiting on workerd's timers and alarms. It starts
    // once the CPU-bound static checks have ended.
    args: ["run", "--maxWorkers=2", "--reporter=default", "--reporter=json", `--outputFile.json=${vitestJson}`],
    waitFor: phases.filter((p) => p.cpu).map((p) => p.id),
  });
}

/** Adds the pass, fail and skipped counts of a node:test run to the totals. */
function countNodeTest(out) {
  const pick = (name) => Number(new RegExp(`^ℹ ${name} (\\d+)$`, "m").exec(out)?.[1] ?? 0);
  totals.passed += pick("pass");
  totals.failed += pick("fail");
  totals.skipped += pick("skipped");
}
const serverDeps = [...(hasWeb ? ["build"] : []), "bundle", ...auditPartitions().map((binding) => `migrate-${binding}`)];
const nodeTests = [...filesUnder("web/test", ".test.ts"), ...filesUnder("test/http", ".test.mjs")];
if (runs("node") && nodeTests.length > 0)
  phases.push({
    id: "node",
    title: "web unit tests and HTTP tests against npm start",
    command: process.execPath,
    // Two files at a time, beside the Workers tests: each file has its own server, and most of their time is
    // spent waiting (the bank test waits out its payment requests' minute). More at once starved the servers of
    // CPU on two cores (a ping burst answered too slowly, a server not ready within its 90 s).
    args: ["--test", "--test-concurrency=2", ...nodeTests],
    after: serverDeps,
    extraEnv: serverEnv,
    count: countNodeTest,
  });
const e2e = filesUnder("test/e2e", ".test.mjs");
if (runs("e2e") && e2e.length > 0) {
  if (existsSync("/usr/bin/chromium"))
    phases.push({
      id: "e2e",
      title: "browser end-to-end tests (Chromium)",
      command: process.execPath,
      // One file at a time, once everything else has ended: some tests time what a person sees (a payment
      // shown within a second), which a busy machine would slow down.
      args: ["--test", "--test-concurrency=1", ...e2e],
      after: serverDeps,
      waitFor: phases.filter((p) => p.id !== "e2e").map((p) => p.id),
      extraEnv: serverEnv,
      count: countNodeTest,
    });
  else
    phases.push({
      id: "e2e",
      title: "browser end-to-end tests",
      note: "SKIPPED: /usr/bin/chromium is not installed (apt-get install -y chromium); .ci/run installs it",
    });
}

// ---------------------------------------------------------------------------------------------------------
// Running: every check starts once those it waits for have passed; output is shown in the order above.

const started = Date.now();
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;
/** Per phase: its output so far, whether it ended, and how long it took. */
const state = new Map(phases.map((p) => [p.id, { text: "", ended: false, code: /** @type {number | null} */ (null), ms: 0 }]));
let head = 0;

/** Output of phase `index`: written now if it is the earliest phase not yet printed, kept for later if not. */
function write(index, chunk) {
  const s = state.get(phases[index].id);
  if (s === undefined) return;
  if (index === head) process.stdout.write(chunk);
  else s.text += chunk;
}

/** Prints every phase that has ended and has no unprinted phase before it, then starts showing the next live. */
function advance() {
  while (head < phases.length) {
    const s = state.get(phases[head].id);
    if (s === undefined || !s.ended) return;
    const verdict = phases[head].note ? "skipped" : s.code === 0 ? "passed" : `FAILED (exit ${s.code})`;
    console.log(`--- ${phases[head].title}: ${verdict} in ${seconds(s.ms)}`);
    head++;
    if (head < phases.length) {
      const next = state.get(phases[head].id);
      process.stdout.write(`\n=== ${phases[head].title}\n`);
      if (next) {
        process.stdout.write(next.text);
        next.text = "";
      }
    }
  }
}

/** @type {Map<string, Promise<number | null>>} */
const done = new Map();

/**
 * Runs one phase once its prerequisites have passed; a prerequisite that failed makes it fail too, unrun.
 * @param {Phase} phase
 * @param {number} index
 */
async function runPhase(phase, index) {
  const s = state.get(phase.id);
  if (s === undefined) throw new Error(`no state for ${phase.id}`);
  const failedBefore = [];
  for (const id of phase.after ?? []) if ((await done.get(id)) !== 0 && done.has(id)) failedBefore.push(id);
  for (const id of phase.waitFor ?? []) await done.get(id);
  if (phase.cpu) await cpuBound.take();
  const t0 = Date.now();
  /** @type {number | null} */
  let code = 0;
  if (phase.note) write(index, `${phase.note}\n`);
  else if (failedBefore.length > 0) {
    write(index, `not run: ${failedBefore.join(", ")} failed first\n`);
    code = 1;
  } else if (phase.command) {
    const command = phase.command;
    code = await new Promise((ok) => {
      const child = spawn(command, phase.args ?? [], { cwd: root, env: { ...env, ...phase.extraEnv }, stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      child.stdout.on("data", (d) => {
        stdout += d;
        write(index, String(d));
      });
      child.stderr.on("data", (d) => write(index, String(d)));
      child.on("close", (exit) => {
        phase.count?.(stdout);
        ok(exit);
      });
    });
  }
  if (phase.cpu) cpuBound.give();
  s.ms = Date.now() - t0;
  s.code = code;
  s.ended = true;
  if (code !== 0 && !phase.note) problems.push(`${phase.title} (exit ${code})`);
  advance();
  return code;
}

if (needsServers) rmSync(templateDir, { recursive: true, force: true });
if (phases.length > 0) process.stdout.write(`=== ${phases[0].title}\n`);
phases.forEach((phase, index) => done.set(phase.id, runPhase(phase, index)));
await Promise.all(done.values());

if (runs("workers") && existsSync(vitestJson)) {
  const report = JSON.parse(readFileSync(vitestJson, "utf8"));
  totals.passed += report.numPassedTests;
  totals.failed += report.numFailedTests;
  totals.skipped += report.numPendingTests + report.numTodoTests;
}
if (needsServers) rmSync(templateDir, { recursive: true, force: true });

console.log("\ndurations:");
for (const phase of phases) console.log(`  ${seconds(state.get(phase.id)?.ms ?? 0).padStart(8)}  ${phase.title}`);
console.log(`  ${seconds(Date.now() - started).padStart(8)}  in all (wall clock)`);
console.log(`\n${problems.length === 0 ? "all checks passed" : `failed: ${problems.join("; ")}`}`);
console.log(`tests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(problems.length === 0 && totals.failed === 0 ? 0 : 1);
