// `npm start`: run the service locally with demo data, the way `wrangler deploy` would run it, on one machine.
//
//   1. make the local secrets once (phone keys, the operator token) in STATE_DIR/secrets.env, never in the repo;
//   2. apply the D1 migrations to the local database in STATE_DIR;
//   3. build the web client into web/dist;
//   4. bundle the Worker as `wrangler deploy` would (`--dry-run --outdir`) and serve it with scripts/serve.mjs
//      on PORT, with its state in STATE_DIR (data survives restarts, even `kill -9`), passing any [vars] limit
//      that is set in the environment as an override; `npm run dev` (DEV=1) runs `wrangler dev` instead, with
//      live reloading and wrangler's dev proxy (slower: see docs/performance.md);
//   5. seed the demo users (idempotent: a second run changes nothing) and keep serving. On a state that has never
//      been seeded, scripts/serve.mjs seeds them before PORT answers at all, so health never answers before a
//      demo login works (SEED_BEFORE_OPEN=0 skips that, for tests that wait for the "ready" line anyway).
//
// Environment: PORT (8787), STATE_DIR (.wrangler/state), DEMO_PASSWORD (demo-password), DEV, SEED_BEFORE_OPEN (1),
// any [vars] name, and
// PREBUILT_BUNDLE_DIR: a bundle that `wrangler deploy --dry-run --outdir` already made from this same tree, served
// instead of bundling again (`npm test` bundles once for all its test servers).
import { spawn, spawnSync } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { fileURLToPath } from "node:url";
import { readEnvFile } from "./env-file.mjs";
import { seedDemo } from "./seed.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const port = Number(process.env.PORT ?? 8787);
const stateDir = resolve(root, process.env.STATE_DIR ?? ".wrangler/state");
const demoPassword = process.env.DEMO_PASSWORD ?? "demo-password";
// Local runs may deliver webhooks to a receiver on this machine (`npm run webhook:listen`): http to loopback is
// allowed here, never in a deployment (wrangler.toml keeps it "off"). An explicit WEBHOOK_ALLOW_LOCAL=off wins.
process.env.WEBHOOK_ALLOW_LOCAL ??= "on";
const bin = (name) => join(root, "node_modules", ".bin", name);
const say = (text) => console.log(`[start] ${text}`);
// Tools are run with this same Node (the pinned one), whoever started this script and with whatever PATH.
const childEnv = {
  ...process.env,
  PATH: [dirname(process.execPath), join(root, "node_modules", ".bin"), process.env.PATH ?? ""].join(":"),
  WRANGLER_SEND_METRICS: "false",
};

if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new Error(`PORT must be 1..65535, got ${process.env.PORT}`);
if (demoPassword.length < 10 || demoPassword.length > 128) throw new Error("DEMO_PASSWORD must be 10..128 characters");
// The state holds balances, histories, session hashes, sealed phone numbers and the local secrets: nobody but
// this user may read it. The umask covers every file this process and its children (wrangler, workerd)
// create from here on; the chmod covers a state directory made by an older version, whose files stay
// unreachable to others once their folder is closed.
process.umask(0o077);
mkdirSync(stateDir, { recursive: true, mode: 0o700 });
chmodSync(stateDir, 0o700);

/** Local secrets, generated once per state directory (mode 600) and reused, so stored phone data stays readable. */
function ensureSecrets() {
  const file = join(stateDir, "secrets.env");
  const key = () => randomBytes(32).toString("base64url");
  const wanted = {
    PHONE_ENC_KEY_ID: () => "local1",
    PHONE_ENC_KEY: key,
    PHONE_INDEX_KEY: key,
    ADMIN_TOKEN: key,
    RECEIPT_KEY_ID: () => "local1",
    RECEIPT_SIGNING_KEY: () => generateKeyPairSync("ed25519").privateKey.export({ format: "der", type: "pkcs8" }).toString("base64url"),
    SESSION_TOKEN_KEY: key,
    // The transparency log's checkpoint key, distinct from the receipt key (a log key signs only checkpoints).
    LOG_SIGNING_KEY: () => generateKeyPairSync("ed25519").privateKey.export({ format: "der", type: "pkcs8" }).toString("base64url"),
  };
  // Existing secrets are kept (stored phone numbers stay readable); any that a newer version needs are added.
  const values = readEnvFile(file);
  const added = Object.keys(wanted).filter((name) => values[name] === undefined);
  for (const name of added) values[name] = wanted[name]();
  if (added.length > 0) {
    writeFileSync(
      file,
      Object.entries(values)
        .map(([k, v]) => `${k}=${v}`)
        .join("\n") + "\n",
      { mode: 0o600 },
    );
    say(`generated local secrets (${added.join(", ")}) in ${file}`);
  }
  return { file, values };
}

/** The [vars] names in wrangler.toml, so an environment variable of the same name can override each. */
function varNames() {
  const toml = readFileSync(join(root, "wrangler.toml"), "utf8");
  const section = toml.split(/^\[vars\]\s*$/m)[1] ?? "";
  const body = section.split(/^\[/m)[0] ?? "";
  return [...body.matchAll(/^([A-Z0-9_]+)\s*=/gm)].map((m) => m[1]);
}

function run(command, args, what, { quiet = false } = {}) {
  say(what);
  const result = spawnSync(command, args, { cwd: root, stdio: quiet ? ["ignore", "ignore", "inherit"] : "inherit", env: childEnv });
  if (result.status !== 0) throw new Error(`${what} failed (exit ${result.status})`);
}

/** `run`, without waiting: resolves when the command has succeeded, rejects naming it when it fails. */
function runAsync(command, args, what) {
  say(what);
  return new Promise((ok, fail) => {
    const child = spawn(command, args, { cwd: root, stdio: ["ignore", "inherit", "inherit"], env: childEnv });
    child.once("error", fail);
    child.once("exit", (code) => (code === 0 ? ok(undefined) : fail(new Error(`${what} failed (exit ${code})`))));
  });
}

function portFree(p) {
  return new Promise((ok) => {
    const server = createServer().once("error", () => ok(false));
    server.listen(p, "127.0.0.1", () => server.close(() => ok(true)));
  });
}

/** Stops a server left behind by an earlier `npm start` that was killed (its pid is in STATE_DIR). */
async function stopStaleServer() {
  const pidFile = join(stateDir, "server.pid");
  if (existsSync(pidFile)) {
    const pid = Number(readFileSync(pidFile, "utf8"));
    try {
      process.kill(-pid, "SIGKILL");
      say(`stopped a server left running by an earlier start (process group ${pid})`);
    } catch {
      // Already gone.
    }
  }
  for (let i = 0; i < 100 && !(await portFree(port)); i++) await new Promise((r) => setTimeout(r, 100));
  if (!(await portFree(port))) throw new Error(`port ${port} is in use`);
}

async function waitForHealth(child) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/api/v1/health`);
      if (res.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error("the server did not become healthy within 60 s");
}

/** The D1 bindings of the audit store's partitions: AUDIT_PARTITIONS from the environment, else from wrangler.toml. */
function auditPartitions() {
  const toml = readFileSync(join(root, "wrangler.toml"), "utf8");
  const raw = process.env.AUDIT_PARTITIONS ?? /^AUDIT_PARTITIONS\s*=\s*"([^"]*)"/m.exec(toml)?.[1] ?? "DB";
  return raw.split(",").map((name) => name.trim());
}

/**
 * Whether every local D1 database in STATE_DIR (one per audit partition) already records every migration in
 * migrations/, read from their SQLite files. Then `wrangler d1 migrations apply` would apply nothing, and
 * skipping it spares a restart the seconds that wrangler and its workerd take to say so. Any doubt (fewer or
 * more files than partitions, no table, a file that cannot be read) answers false, and wrangler decides as before.
 */
function migrationsCurrent(partitions) {
  const dir = join(stateDir, "v3", "d1", "miniflare-D1DatabaseObject");
  try {
    const files = readdirSync(dir).filter((f) => f.endsWith(".sqlite") && f !== "metadata.sqlite");
    if (files.length !== partitions) return false;
    const wanted = readdirSync(join(root, "migrations")).filter((f) => f.endsWith(".sql"));
    return files.every((file) => {
      const db = new DatabaseSync(join(dir, file), { readOnly: true });
      try {
        const applied = new Set(
          db
            .prepare("SELECT name FROM d1_migrations")
            .all()
            .map((row) => String(row.name)),
        );
        return wanted.every((f) => applied.has(f));
      } finally {
        db.close();
      }
    });
  } catch {
    // No database yet, or not one wrangler made: let wrangler look.
    return false;
  }
}

const secrets = ensureSecrets();
const partitions = auditPartitions();
// Every audit partition (AUDIT_PARTITIONS, main DB first) has the same schema, so each gets every migration.
// One after the other: the partitions are separate databases, but every one lives in the same local persist
// directory, and two `wrangler d1 migrations apply` runs side by side there fail with SQLITE_BUSY on a fresh
// state directory (seen in test/http/probe-storage.test.mjs, which starts from an empty one).
if (migrationsCurrent(partitions.length)) say("D1 migrations are up to date");
else
  for (const binding of partitions)
    await runAsync(
      bin("wrangler"),
      ["d1", "migrations", "apply", binding, "--local", "--persist-to", stateDir],
      `applying D1 migrations to ${binding}`,
    );
if (process.env.SKIP_WEB_BUILD !== "1")
  run(bin("vite"), ["build", "--config", "web/vite.config.ts", "--logLevel", "warn"], "building the web client");
await stopStaleServer();

const overrides = varNames().filter((name) => process.env[name] !== undefined);
if (overrides.length > 0) say(`limits overridden from the environment: ${overrides.join(", ")}`);

/** `wrangler dev`, with live reloading (DEV=1). */
function wranglerDev() {
  const args = [
    "dev",
    "--port",
    String(port),
    "--ip",
    "127.0.0.1",
    "--persist-to",
    stateDir,
    "--env-file",
    secrets.file,
    "--show-interactive-dev-session=false",
    "--log-level",
    process.env.LOG_LEVEL ?? "warn",
    ...(process.env.INSPECTOR_PORT ? ["--inspector-port", process.env.INSPECTOR_PORT] : []),
  ];
  for (const name of overrides) args.push("--var", `${name}:${process.env[name]}`);
  return spawn(bin("wrangler"), args, { cwd: root, stdio: "inherit", detached: true, env: childEnv });
}

// Written once the demo users exist in this state: later starts open PORT at once and seed again (a no-op).
const seededMarker = join(stateDir, "demo-seeded");
const seedBeforeOpen = process.env.DEV !== "1" && process.env.SEED_BEFORE_OPEN !== "0" && !existsSync(seededMarker);

/** The deploy bundle, served by scripts/serve.mjs (the default). */
function bundledServer() {
  const prebuilt = process.env.PREBUILT_BUNDLE_DIR;
  const bundleDir = prebuilt ? resolve(root, prebuilt) : join(stateDir, "bundle");
  if (prebuilt) say(`serving the Worker bundled already in ${bundleDir}`);
  else
    run(bin("wrangler"), ["deploy", "--dry-run", "--outdir", bundleDir], "bundling the Worker as wrangler deploy would", { quiet: true });
  const seeding = seedBeforeOpen ? { SEED_DEMO: "1", DEMO_PASSWORD: demoPassword } : {};
  const env = { ...childEnv, PORT: String(port), STATE_DIR: stateDir, BUNDLE_DIR: bundleDir, SECRETS_FILE: secrets.file, ...seeding };
  return spawn(process.execPath, [join(root, "scripts", "serve.mjs")], { cwd: root, stdio: "inherit", detached: true, env });
}

// The server runs in its own process group, so it and workerd can be stopped together; a watchdog in this
// process group kills that group if this process dies, even by SIGKILL (see scripts/watchdog.mjs).
const child = process.env.DEV === "1" ? wranglerDev() : bundledServer();
writeFileSync(join(stateDir, "server.pid"), String(child.pid));
const watchdog = spawn(process.execPath, [join(root, "scripts", "watchdog.mjs"), String(child.pid)], {
  stdio: ["pipe", "ignore", "ignore"],
});
const stop = (signal) => {
  // No pid means the spawn itself failed: there is no process group to stop.
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already stopped.
  }
};
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => stop("SIGTERM"));
child.on("exit", (code) => {
  watchdog.stdin.destroy();
  process.exit(code ?? 0);
});

await waitForHealth(child);
if (!seedBeforeOpen)
  await seedDemo({ baseUrl: `http://127.0.0.1:${port}`, password: demoPassword, adminToken: secrets.values.ADMIN_TOKEN, log: say });
writeFileSync(seededMarker, "");
say(`ready on http://127.0.0.1:${port}  (users alice, bob, charlie, auditor; password ${JSON.stringify(demoPassword)})`);
