// @ts-check
// `npm run bench:fault:d1 [-- --root <checkout>] [--lock-seconds 60] [--label <name>]`: the fault run of issue 19,
// item 3, against the real runtime. A server is started as `npm start` runs it (test/http/server.mjs of the
// checkout under test: free port, fresh state directory, the wrangler.toml delays), a modest steady load of
// transfers is driven over loopback, and the local D1 database is locked from outside for a minute, as an
// operator's console or a stuck migration would hold it. Meanwhile workerd's memory and CPU are sampled every
// second from /proc. After the lock is released the run measures how long the audit log in D1 takes to catch
// up, whether memory comes back, and whether the audit rows account for every balance.
//
// Phases: idle_before (10 s, no load) → load (20 s) → lock (60 s, load continues) → catchup (load stopped,
// until D1 holds every entry the wallets hold) → idle_after (30 s). The result is printed and stored under
// its label in bench/results/d1-locked.json (other labels in that file are kept, for before/after tables).
//
// Options: --root (this checkout), --label (the root's short commit), --lock-seconds (60), --users (10),
// --rate (transfers/s, 20), --baseline-seconds (20), --idle-seconds (30), --catchup-timeout-seconds (300),
// --out (bench/results/d1-locked.json), --no-lock (the control: the same run without the lock). Never part of
// `npm test`.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import http from "node:http";
import { dirname, join, resolve, sep } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { usage, workerdPids } from "../../test/http/proc.mjs";

const here = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const { values: args } = parseArgs({
  options: {
    root: { type: "string", default: here },
    label: { type: "string" },
    out: { type: "string", default: join(here, "bench", "results", "d1-locked.json") },
    "lock-seconds": { type: "string", default: "60" },
    users: { type: "string", default: "10" },
    rate: { type: "string", default: "20" },
    "baseline-seconds": { type: "string", default: "20" },
    "idle-seconds": { type: "string", default: "30" },
    "catchup-timeout-seconds": { type: "string", default: "300" },
    "no-lock": { type: "boolean", default: false },
  },
});
const root = resolve(args.root ?? here);
const LOCK_S = Number(args["lock-seconds"]);
const USERS = Number(args.users);
const RATE = Number(args.rate);
const LOAD_S = Number(args["baseline-seconds"]);
const IDLE_S = Number(args["idle-seconds"]);
const CATCHUP_TIMEOUT_S = Number(args["catchup-timeout-seconds"]);
/** The control run: every phase as in the fault run, but the lock is never taken. */
const NO_LOCK = args["no-lock"] === true;
const IDLE_BEFORE_S = 10;
/** Requests in flight at most: past it the generator skips a tick rather than queueing without bound. */
const MAX_IN_FLIGHT = 8;
const DEMO_PASSWORD = process.env.DEMO_PASSWORD ?? "demo-password";
const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));

// ---- Server settings --------------------------------------------------------------------------------------

/** A [vars] value from the checkout's wrangler.toml (the production default). */
function tomlVar(/** @type {string} */ name) {
  const match = new RegExp(`^${name}\\s*=\\s*"([^"]*)"`, "m").exec(readFileSync(join(root, "wrangler.toml"), "utf8"));
  if (match?.[1] === undefined) throw new Error(`${name} is not in ${root}/wrangler.toml`);
  return match[1];
}

/**
 * Production defaults, set explicitly so that nothing inherited from the environment can shorten the delays
 * that decide how hard a failing outbox retries. Only password hashing is cheaper: the setup's registrations
 * would otherwise grow workerd's WebAssembly memory, which never shrinks, and blur the memory figures.
 */
function serverEnv() {
  return {
    RECOVERY_DELAY_MS: tomlVar("RECOVERY_DELAY_MS"),
    RECOVERY_MAX_DELAY_MS: tomlVar("RECOVERY_MAX_DELAY_MS"),
    OUTBOX_FLUSH_DELAY_MS: tomlVar("OUTBOX_FLUSH_DELAY_MS"),
    OUTBOX_BATCH_MAX: tomlVar("OUTBOX_BATCH_MAX"),
    PASSWORD_ARGON2_MEMORY_KIB: "1024",
    PASSWORD_ARGON2_PASSES: "1",
    LOG_LEVEL: "warn",
  };
}

// ---- HTTP -------------------------------------------------------------------------------------------------

/**
 * A JSON request over `agent`, with a timeout so that a request the server never answers cannot hold the run.
 * @returns {Promise<{ status: number | string, json: any, ms: number }>}
 */
function request(
  /** @type {http.Agent} */ agent,
  /** @type {string} */ baseUrl,
  /** @type {string} */ path,
  { method = "GET", body = /** @type {unknown} */ (undefined), token = "", key = "" } = {},
) {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  /** @type {Record<string, string | number>} */
  const headers = { accept: "application/json" };
  if (payload !== undefined) Object.assign(headers, { "content-type": "application/json", "content-length": Buffer.byteLength(payload) });
  if (token) headers.authorization = `Bearer ${token}`;
  if (key) headers["idempotency-key"] = key;
  const started = performance.now();
  return new Promise((ok) => {
    const req = http.request(new URL(`/api/v1${path}`, baseUrl), { method, agent, headers, timeout: 30_000 }, (res) => {
      const chunks = /** @type {Buffer[]} */ ([]);
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => {
        let json;
        try {
          json = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        } catch {
          json = null;
        }
        ok({ status: res.statusCode ?? 0, json, ms: performance.now() - started });
      });
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (error) =>
      ok({ status: `error:${/** @type {any} */ (error).code ?? error.message}`, json: null, ms: performance.now() - started }),
    );
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

/** Registers and funds `count` users; each has one wallet with 1,000,000 minor units. */
async function setupUsers(/** @type {string} */ baseUrl, /** @type {number} */ count) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  const prefix = `d1f${Date.now().toString(36).slice(-6)}`;
  const users = [];
  for (let i = 0; i < count; i++) {
    const handle = `${prefix}_${i}`;
    const reg = await request(agent, baseUrl, "/auth/register", { method: "POST", body: { handle, password: "fault-password-1" } });
    if (reg.status !== 201) throw new Error(`register ${handle}: ${reg.status} ${JSON.stringify(reg.json)}`);
    const user = { handle, token: String(reg.json.token), wallet_id: String(reg.json.wallet.id) };
    const dep = await request(agent, baseUrl, `/wallets/${user.wallet_id}/deposits`, {
      method: "POST",
      token: user.token,
      key: `fund-${handle}`,
      body: { amount: 1_000_000 },
    });
    if (dep.status !== 201) throw new Error(`fund ${handle}: ${dep.status} ${JSON.stringify(dep.json)}`);
    users.push(user);
  }
  agent.destroy();
  return users;
}

/** The demo auditor's token (seeded by `npm start`). */
async function auditorToken(/** @type {string} */ baseUrl) {
  const agent = new http.Agent();
  const res = await request(agent, baseUrl, "/auth/login", { method: "POST", body: { handle: "auditor", password: DEMO_PASSWORD } });
  agent.destroy();
  if (res.status !== 200) throw new Error(`auditor login: ${res.status} ${JSON.stringify(res.json)}`);
  return String(res.json.token);
}

// ---- Load -------------------------------------------------------------------------------------------------

/**
 * A steady `rate` of transfers between random pairs of `users`, each counted under the phase it started in:
 * answers by status and latencies. A tick with MAX_IN_FLIGHT requests still out is skipped and counted.
 */
function startLoad(
  /** @type {string} */ baseUrl,
  /** @type {{ handle: string, token: string, wallet_id: string }[]} */ users,
  /** @type {() => string} */ phaseOf,
) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: MAX_IN_FLIGHT });
  /** @type {Record<string, { statuses: Record<string, number>, skipped: number, latencies: number[] }>} */
  const byPhase = {};
  const inFlight = new Set();
  let sequence = 0;
  const runId = Date.now().toString(36);
  const bucket = (/** @type {string} */ phase) => (byPhase[phase] ??= { statuses: {}, skipped: 0, latencies: [] });
  const send = () => {
    const phase = phaseOf();
    if (inFlight.size >= MAX_IN_FLIGHT) return void bucket(phase).skipped++;
    const from = users[Math.floor(Math.random() * users.length)];
    const others = users.filter((u) => u !== from);
    const to = others[Math.floor(Math.random() * others.length)];
    if (from === undefined || to === undefined) return;
    const body = { from_wallet_id: from.wallet_id, to: { wallet_id: to.wallet_id }, amount: 1 + Math.floor(Math.random() * 100) };
    const done = request(agent, baseUrl, "/transfers", { method: "POST", token: from.token, key: `d1f-${runId}-${sequence++}`, body }).then(
      (res) => {
        const b = bucket(phase);
        b.statuses[res.status] = (b.statuses[res.status] ?? 0) + 1;
        b.latencies.push(res.ms);
        inFlight.delete(done);
      },
    );
    inFlight.add(done);
  };
  const timer = setInterval(send, 1_000 / RATE);
  return {
    byPhase,
    /** Stops sending and waits for the answers still out. */
    async stop() {
      clearInterval(timer);
      await Promise.all([...inFlight]);
      agent.destroy();
    },
  };
}

/**
 * `GET /health` twice a second, by phase: it touches no storage, so its latency is how long workerd's event
 * loop keeps a request waiting (a synchronous wait on a locked file would show here, not only in transfers).
 */
function startHealthProbe(/** @type {string} */ baseUrl, /** @type {() => string} */ phaseOf) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  /** @type {Record<string, number[]>} */
  const byPhase = {};
  let out = /** @type {Promise<void> | null} */ (null);
  const timer = setInterval(() => {
    if (out !== null) return;
    const phase = phaseOf();
    out = request(agent, baseUrl, "/health").then((res) => {
      (byPhase[phase] ??= []).push(res.status === 200 ? res.ms : 30_000);
      out = null;
    });
  }, 500);
  return {
    /** Per phase: probes, median and max latency in ms. */
    summary() {
      return Object.fromEntries(
        Object.entries(byPhase).map(([phase, ms]) => [
          phase,
          { probes: ms.length, p50_ms: Number((median(ms) ?? 0).toFixed(1)), max_ms: Number(Math.max(...ms).toFixed(1)) },
        ]),
      );
    },
    async stop() {
      clearInterval(timer);
      await out;
      agent.destroy();
    },
  };
}

/** A phase's answers: ok (201), failed by status, skipped ticks, latency percentiles. */
function loadSummary(/** @type {{ statuses: Record<string, number>, skipped: number, latencies: number[] } | undefined} */ b) {
  if (b === undefined) return { ok: 0, failed: 0, failed_by_status: {}, skipped: 0, p50_ms: null, p99_ms: null };
  const sorted = [...b.latencies].sort((x, y) => x - y);
  const at = (/** @type {number} */ p) => Number((sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0).toFixed(1));
  const failed = Object.fromEntries(Object.entries(b.statuses).filter(([s]) => s !== "201"));
  return {
    ok: b.statuses["201"] ?? 0,
    failed: Object.values(failed).reduce((a, n) => a + n, 0),
    failed_by_status: failed,
    skipped: b.skipped,
    p50_ms: at(0.5),
    p99_ms: at(0.99),
  };
}

// ---- workerd from /proc -----------------------------------------------------------------------------------

/** Samples workerd every second: {t_s, phase, rss_mib, cpu_s (cumulative), cpu_pct (of one core, last second)}. */
function startSampler(/** @type {() => string} */ phaseOf, /** @type {number} */ t0) {
  let pids = workerdPids();
  if (pids.length === 0) throw new Error("no workerd process found below this process");
  /** @type {{ t_s: number, phase: string, rss_mib: number, cpu_s: number, cpu_pct: number }[]} */
  const samples = [];
  const take = () => {
    if (!pids.every((pid) => existsSync(`/proc/${pid}`))) pids = workerdPids();
    const now = (performance.now() - t0) / 1_000;
    const u = usage(pids);
    const prev = samples.at(-1);
    const cpu_pct = prev === undefined ? 0 : (100 * (u.cpu_s - prev.cpu_s)) / (now - prev.t_s);
    samples.push({
      t_s: Number(now.toFixed(2)),
      phase: phaseOf(),
      rss_mib: u.rss_mib,
      cpu_s: u.cpu_s,
      cpu_pct: Number(cpu_pct.toFixed(1)),
    });
  };
  take();
  const timer = setInterval(take, 1_000);
  return { samples, pids: () => pids, stop: () => clearInterval(timer), take };
}

// ---- The D1 file ------------------------------------------------------------------------------------------

/** Every .sqlite file under a `d1` folder of the state directory. */
function d1Candidates(/** @type {string} */ dir, depth = 0) {
  /** @type {string[]} */
  const found = [];
  if (depth > 6) return found;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...d1Candidates(path, depth + 1));
    else if (entry.name.endsWith(".sqlite") && path.includes(`${sep}d1${sep}`)) found.push(path);
  }
  return found;
}

/** Runs `fn` on a read-only connection to `file` (a WAL reader: it neither takes nor waits for the writer's lock). */
function readD1(/** @type {string} */ file, /** @type {(db: DatabaseSync) => any} */ fn) {
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

/** The service's D1 database: the candidate that has the `audit_log` table. */
function findD1(/** @type {string} */ stateDir) {
  const file = d1Candidates(stateDir).find((f) =>
    readD1(f, (db) => db.prepare("SELECT 1 AS y FROM sqlite_master WHERE type = 'table' AND name = 'audit_log'").get() !== undefined),
  );
  if (file === undefined) throw new Error(`no D1 file with audit_log under ${stateDir}`);
  return file;
}

/** Per wallet of ours, how many ledger entries D1 holds; and the audit rows that touch our wallets. */
function d1Counts(/** @type {string} */ file, /** @type {string[]} */ walletIds) {
  const list = JSON.stringify(walletIds);
  return readD1(file, (db) => {
    const entries = new Map(
      db
        .prepare(
          "SELECT wallet_id, count(*) AS n FROM ledger_entries WHERE wallet_id IN (SELECT value FROM json_each(?)) GROUP BY wallet_id",
        )
        .all(list)
        .map((r) => [String(r.wallet_id), Number(r.n)]),
    );
    const audit = db
      .prepare(
        "SELECT kind, status, from_wallet_id, to_wallet_id, amount FROM audit_log WHERE from_wallet_id IN (SELECT value FROM json_each(?1)) OR to_wallet_id IN (SELECT value FROM json_each(?1))",
      )
      .all(list);
    return { entries, audit };
  });
}

// ---- The lock ---------------------------------------------------------------------------------------------

/**
 * Python's sqlite3 holding `BEGIN EXCLUSIVE` on the file until its stdin closes or `seconds` pass (a cap, so
 * that it never outlives the run), then rolling back: a process outside the service holding the write lock.
 * Opening is retried: one run of ten saw "unable to open database file" once, while workerd was writing.
 */
const LOCK_HOLDER = `
import select, sqlite3, sys, time
for attempt in range(1, 11):
    try:
        con = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
        con.execute("BEGIN EXCLUSIVE")
        break
    except sqlite3.OperationalError as error:
        print(f"lock attempt {attempt}: {error}", file=sys.stderr, flush=True)
        if attempt == 10:
            raise
        time.sleep(1)
print("locked", flush=True)
select.select([sys.stdin], [], [], float(sys.argv[2]))
con.execute("ROLLBACK")
con.close()
print("released", flush=True)
`;

/** Takes the lock; resolves once it is held, with `release()` (resolves once it is let go) and `kill()`. */
async function lockD1(/** @type {string} */ file, /** @type {number} */ capSeconds) {
  const child = spawn("python3", ["-c", LOCK_HOLDER, file, String(capSeconds)], { stdio: ["pipe", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  const exited = new Promise((r) => child.once("exit", r));
  const until = async (/** @type {string} */ word) => {
    for (let i = 0; i < 600 && !out.includes(word); i++) {
      if (child.exitCode !== null) throw new Error(`the lock holder exited ${child.exitCode} before "${word}"`);
      await sleep(100);
    }
    if (!out.includes(word)) throw new Error(`the lock holder did not say "${word}"`);
  };
  await until("locked");
  return {
    async release() {
      child.stdin.end();
      await until("released");
      await exited;
    },
    kill() {
      if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, "SIGKILL");
    },
  };
}

// ---- Figures ----------------------------------------------------------------------------------------------

const median = (/** @type {number[]} */ xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? null;

/** RSS and CPU of one phase, from the samples taken during it (CPU from the cumulative counter, end to end). */
function phaseFigures(
  /** @type {ReturnType<typeof startSampler>["samples"]} */ samples,
  /** @type {string} */ phase,
  lastSeconds = Infinity,
) {
  const inPhase = samples.filter((s) => s.phase === phase);
  const first = samples[samples.indexOf(inPhase[0] ?? samples[0]) - 1] ?? inPhase[0];
  const last = inPhase.at(-1);
  if (first === undefined || last === undefined) return null;
  const tail = inPhase.filter((s) => s.t_s >= last.t_s - lastSeconds);
  return {
    seconds: Number((last.t_s - first.t_s).toFixed(1)),
    rss_mib_median: median(tail.map((s) => s.rss_mib)),
    rss_mib_max: Math.max(...inPhase.map((s) => s.rss_mib)),
    rss_mib_end: last.rss_mib,
    cpu_pct: Number(((100 * (last.cpu_s - first.cpu_s)) / Math.max(0.001, last.t_s - first.t_s)).toFixed(1)),
  };
}

/** The first log line matching `pattern` (the service's structured log: ids and codes, never secrets). */
const firstMatch = (/** @type {string} */ log, /** @type {RegExp} */ pattern) => log.split("\n").find((line) => pattern.test(line)) ?? null;

/** Occurrences of `pattern` in the server's log between two offsets. */
const countIn = (/** @type {string} */ log, /** @type {RegExp} */ pattern, /** @type {number} */ from, to = log.length) =>
  (log.slice(from, to).match(new RegExp(pattern, "g")) ?? []).length;

/** What the wallets hold (the truth): balance and newest entry seq of each. */
async function walletTruth(/** @type {string} */ baseUrl, /** @type {{ token: string, wallet_id: string }[]} */ users) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  /** @type {Map<string, { balance: number, seq: number }>} */
  const truth = new Map();
  for (const u of users) {
    const w = await request(agent, baseUrl, `/wallets/${u.wallet_id}`, { token: u.token });
    const h = await request(agent, baseUrl, `/wallets/${u.wallet_id}/history?limit=1`, { token: u.token });
    if (w.status !== 200 || h.status !== 200) throw new Error(`reading wallet ${u.wallet_id}: ${w.status} ${h.status}`);
    truth.set(u.wallet_id, { balance: Number(w.json.balance), seq: Number(h.json.items[0]?.seq ?? 0) });
  }
  agent.destroy();
  return truth;
}

/** Entries the wallets hold that D1 does not have yet. */
function behind(/** @type {string} */ file, /** @type {Map<string, { balance: number, seq: number }>} */ truth) {
  const { entries } = d1Counts(file, [...truth.keys()]);
  let missing = 0;
  for (const [id, t] of truth) missing += Math.max(0, t.seq - (entries.get(id) ?? 0));
  return missing;
}

/**
 * Conservation as the audit log sees it: every wallet's balance recomputed from the succeeded audit rows
 * (deposits and transfers in, minus transfers out) equals what the wallet holds, and the succeeded transfer
 * rows number the transfers that were answered 201.
 */
function auditConservation(
  /** @type {string} */ file,
  /** @type {Map<string, { balance: number, seq: number }>} */ truth,
  /** @type {number} */ answered201,
) {
  const { audit } = d1Counts(file, [...truth.keys()]);
  const fromAudit = new Map([...truth.keys()].map((id) => [id, 0]));
  let transferRows = 0;
  let failedRows = 0;
  for (const r of audit) {
    if (r.status !== "succeeded") {
      failedRows++;
      continue;
    }
    if (r.kind === "transfer") transferRows++;
    const amount = Number(r.amount);
    if (fromAudit.has(String(r.to_wallet_id))) fromAudit.set(String(r.to_wallet_id), (fromAudit.get(String(r.to_wallet_id)) ?? 0) + amount);
    if (fromAudit.has(String(r.from_wallet_id)))
      fromAudit.set(String(r.from_wallet_id), (fromAudit.get(String(r.from_wallet_id)) ?? 0) - amount);
  }
  const mismatched = [...truth].filter(([id, t]) => fromAudit.get(id) !== t.balance).map(([id]) => id);
  return {
    audit_transfer_rows_succeeded: transferRows,
    audit_rows_failed: failedRows,
    transfers_answered_201: answered201,
    balances_match_audit: mismatched.length === 0,
    wallets_mismatched: mismatched.length,
    conserved: mismatched.length === 0 && transferRows === answered201,
  };
}

/** `GET /audit/verify` as the auditor: ok, entries pending, and the problems counted by kind. */
async function verify(/** @type {string} */ baseUrl, /** @type {string} */ token) {
  const agent = new http.Agent();
  const res = await request(agent, baseUrl, "/audit/verify", { token });
  agent.destroy();
  if (res.status !== 200) return { status: res.status };
  const problems = /** @type {{ kind?: string }[]} */ (res.json.problems ?? []);
  /** @type {Record<string, number>} */
  const codes = {};
  for (const p of problems) codes[p.kind ?? "?"] = (codes[p.kind ?? "?"] ?? 0) + 1;
  return {
    ok: res.json.ok,
    wallets_checked: res.json.wallets_checked,
    entries_checked: res.json.entries_checked,
    pending: res.json.pending,
    problems: codes,
  };
}

// ---- The run ----------------------------------------------------------------------------------------------

/** The checkout's short commit, with "+dirty" when its tracked files differ from it. */
function commitOf(/** @type {string} */ dir) {
  try {
    const sha = execFileSync("git", ["-C", dir, "rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["-C", dir, "status", "--porcelain", "--untracked-files=no"], { encoding: "utf8" }).trim() !== "";
    return dirty ? `${sha}+dirty` : sha;
  } catch {
    return "unknown";
  }
}

async function main() {
  const { testServer } = await import(pathToFileURL(join(root, "test", "http", "server.mjs")).href);
  const env = serverEnv();
  const server = await testServer({ env });
  /** @type {{ kill(): void } | null} */
  let lock = null;
  /** @type {{ stop(): Promise<void> } | null} */
  let load = null;
  /** @type {ReturnType<typeof startSampler> | null} */
  let sampler = null;
  /** @type {ReturnType<typeof startHealthProbe> | null} */
  let probe = null;
  const started = Date.now();
  try {
    await server.start();
    const startup_s = (Date.now() - started) / 1_000;
    const users = await setupUsers(server.baseUrl, USERS);
    const auditor = await auditorToken(server.baseUrl);
    const d1 = findD1(server.stateDir);
    const journal_mode = readD1(d1, (db) => String(db.prepare("PRAGMA journal_mode").get()?.journal_mode));
    console.log(
      `[d1-locked] ${root} (${commitOf(root)}) on ${server.baseUrl}; D1 ${d1} (${journal_mode}); ${USERS} users at ${RATE} transfers/s`,
    );

    let phase = "idle_before";
    const t0 = performance.now();
    const at = () => (performance.now() - t0) / 1_000;
    /** @type {Record<string, number>} */
    const logAt = {};
    /** @type {Record<string, number>} */
    const phaseStart = {};
    const enter = (/** @type {string} */ name) => {
      phase = name;
      logAt[name] = server.log.length;
      phaseStart[name] = Number(at().toFixed(2));
      console.log(`[d1-locked] ${at().toFixed(1)} s: ${name}`);
    };
    enter("idle_before");
    sampler = startSampler(() => phase, t0);
    probe = startHealthProbe(server.baseUrl, () => phase);
    await sleep(IDLE_BEFORE_S * 1_000);

    enter("load");
    const running = startLoad(server.baseUrl, users, () => phase);
    load = running;
    await sleep(LOAD_S * 1_000);

    const held = NO_LOCK ? null : await lockD1(d1, LOCK_S + 30);
    lock = held;
    enter("lock");
    await sleep(LOCK_S * 1_000);
    await held?.release();
    lock = null;
    const released = at();
    enter("catchup");
    await running.stop();
    load = null;

    const truth = await walletTruth(server.baseUrl, users);
    /** @type {{ t_s: number, behind: number }[]} */
    const trace = [];
    let catchup_s = null;
    // What the auditor's verifier says while D1 catches up: entries older than OUTBOX_GRACE_MS that D1 lacks
    // are reported as problems, so a long catch-up shows here as false alarms.
    /** @type {any[]} */
    const verifyDuringCatchup = [];
    let verifiedAt = -Infinity;
    while (at() - released < CATCHUP_TIMEOUT_S) {
      if (at() - verifiedAt >= 15) {
        verifiedAt = at();
        verifyDuringCatchup.push({ t_after_release_s: Number((at() - released).toFixed(1)), ...(await verify(server.baseUrl, auditor)) });
      }
      const missing = behind(d1, truth);
      if (trace.length === 0 || at() - (trace.at(-1)?.t_s ?? 0) >= 5 || missing === 0)
        trace.push({ t_s: Number(at().toFixed(1)), behind: missing });
      if (missing === 0) {
        catchup_s = Number((at() - released).toFixed(1));
        break;
      }
      await sleep(500);
    }
    enter("idle_after");
    await sleep(IDLE_S * 1_000);
    sampler.take();
    enter("done");
    sampler.stop();
    await probe.stop();

    const finalTruth = await walletTruth(server.baseUrl, users);
    const answered201 = Object.values(running.byPhase).reduce((n, b) => n + (b.statuses["201"] ?? 0), 0);
    const log = server.log;
    const d1Failures = (/** @type {string} */ p) =>
      countIn(log, /outbox delivery failed/, logAt[p] ?? 0, logAt[nextPhase(p)] ?? log.length);
    const result = {
      label: args.label ?? commitOf(root),
      root,
      commit: commitOf(root),
      date: new Date().toISOString(),
      machine: `${execFileSync("nproc", { encoding: "utf8" }).trim()} cores, Node ${process.version}`,
      settings: {
        lock_taken: !NO_LOCK,
        lock_seconds: LOCK_S,
        users: USERS,
        transfers_per_s: RATE,
        max_in_flight: MAX_IN_FLIGHT,
        server_env: env,
        journal_mode,
      },
      startup_s,
      rss_mib: {
        idle_before: phaseFigures(sampler.samples, "idle_before")?.rss_mib_median ?? null,
        load_before_lock: phaseFigures(sampler.samples, "load", 5)?.rss_mib_median ?? null,
        lock_max: phaseFigures(sampler.samples, "lock")?.rss_mib_max ?? null,
        lock_end: phaseFigures(sampler.samples, "lock")?.rss_mib_end ?? null,
        idle_after: phaseFigures(sampler.samples, "idle_after", 10)?.rss_mib_median ?? null,
      },
      cpu_pct_of_a_core: {
        idle_before: phaseFigures(sampler.samples, "idle_before")?.cpu_pct ?? null,
        load_before_lock: phaseFigures(sampler.samples, "load")?.cpu_pct ?? null,
        lock: phaseFigures(sampler.samples, "lock")?.cpu_pct ?? null,
        catchup: phaseFigures(sampler.samples, "catchup")?.cpu_pct ?? null,
        idle_after: phaseFigures(sampler.samples, "idle_after")?.cpu_pct ?? null,
      },
      transfers: {
        load_before_lock: loadSummary(running.byPhase.load),
        lock: loadSummary(running.byPhase.lock),
        after_release: loadSummary(running.byPhase.catchup),
      },
      health_latency: probe.summary(),
      d1_error_sample: firstMatch(log, /outbox delivery failed/),
      failed_d1_batches_logged: {
        load: d1Failures("load"),
        lock: d1Failures("lock"),
        catchup: d1Failures("catchup"),
        idle_after: d1Failures("idle_after"),
      },
      catchup_s,
      catchup_trace: trace,
      verify_during_catchup: verifyDuringCatchup,
      // Read again at the end: a transfer answered 503 during the lock may have been finished by recovery since.
      audit: auditConservation(d1, finalTruth, answered201),
      behind_at_end: behind(d1, finalTruth),
      verify: await verify(server.baseUrl, auditor),
      phases_started_at_s: phaseStart,
      samples: sampler.samples.map(({ t_s, phase: p, rss_mib, cpu_pct }) => ({ t_s, phase: p, rss_mib, cpu_pct })),
    };
    report(result);
    store(result);
    if (catchup_s === null || !result.audit.conserved) process.exitCode = 1;
  } finally {
    sampler?.stop();
    await probe?.stop();
    lock?.kill();
    await load?.stop();
    await (server.dispose ?? server.stop).call(server);
  }
}

/** The phase after `p`, for slicing the log. */
function nextPhase(/** @type {string} */ p) {
  const order = ["idle_before", "load", "lock", "catchup", "idle_after", "done"];
  return order[order.indexOf(p) + 1] ?? "done";
}

/** The figures as a few lines. */
function report(/** @type {any} */ r) {
  const lock = r.transfers.lock;
  console.log(
    `\n[d1-locked] ${r.label} (${r.commit}), D1 ${r.settings.lock_taken ? "locked" : "NOT locked (control)"} ${r.settings.lock_seconds} s under ${r.settings.transfers_per_s} transfers/s`,
  );
  console.log(
    `  RSS MiB     idle before ${r.rss_mib.idle_before} | load ${r.rss_mib.load_before_lock} | lock max ${r.rss_mib.lock_max}, end ${r.rss_mib.lock_end} | idle after ${r.rss_mib.idle_after}`,
  );
  console.log(
    `  CPU % core  idle before ${r.cpu_pct_of_a_core.idle_before} | load ${r.cpu_pct_of_a_core.load_before_lock} | lock ${r.cpu_pct_of_a_core.lock} | catch-up ${r.cpu_pct_of_a_core.catchup} | idle after ${r.cpu_pct_of_a_core.idle_after}`,
  );
  console.log(
    `  transfers during the lock: ${lock.ok} ok, ${lock.failed} failed ${JSON.stringify(lock.failed_by_status)}, p50 ${lock.p50_ms} ms, p99 ${lock.p99_ms} ms`,
  );
  console.log(
    `  failed D1 batches logged: ${JSON.stringify(r.failed_d1_batches_logged)}; health latency ${JSON.stringify(r.health_latency)}`,
  );
  console.log(`  catch-up after release: ${r.catchup_s === null ? "NOT within the timeout" : `${r.catchup_s} s`}`);
  console.log(`  audit: ${JSON.stringify(r.audit)}; verify: ${JSON.stringify(r.verify)}`);
}

/** Stores the run under its label, keeping the other labels' runs. */
function store(/** @type {any} */ result) {
  const out = resolve(args.out ?? "");
  mkdirSync(dirname(out), { recursive: true });
  let all = { runs: /** @type {Record<string, unknown>} */ ({}) };
  try {
    all = JSON.parse(readFileSync(out, "utf8"));
  } catch {
    // First run, or an unreadable file: start afresh.
  }
  all.runs = { ...all.runs, [result.label]: result };
  writeFileSync(out, JSON.stringify(all, null, 2) + "\n");
  console.log(`  written to ${out} as "${result.label}"`);
}

await main();
