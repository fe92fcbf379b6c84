// The local server behind `npm start`: the Worker exactly as `wrangler deploy` bundles it, run in workerd by
// Miniflare (wrangler's own copy, so it is the same runtime `wrangler dev` uses), with the bindings, [vars],
// Durable Object classes and assets of wrangler.toml, and its state in STATE_DIR in the layout
// `wrangler dev --persist-to STATE_DIR` and `wrangler d1 migrations apply --local --persist-to` use.
//
// It differs from `wrangler dev` in three ways, each measured (docs/performance.md): PORT is a socket that
// goes straight to the Worker's SiteEntrypoint (which routes /api/* and the assets the way Cloudflare does),
// not through wrangler's dev proxy (a second workerd process and an HTTP hop per request) and the local asset
// router (two more isolates per request); local tracing is off (wrangler dev stores a trace of every
// invocation, Durable Object call and SQL statement in a local SQLite database); and there is no file
// watcher. It also runs the Cron Trigger every minute, as Cloudflare would (wrangler dev does not).
// `npm run dev` is still there for live reloading while editing.
//
//   node scripts/serve.mjs
// Environment: PORT, STATE_DIR, BUNDLE_DIR (the output of `wrangler deploy --dry-run --outdir`), SECRETS_FILE,
// INSPECTOR_PORT (optional, for CPU profiles), LOG_LEVEL (error|warn|info|debug), SEED_DEMO=1 with DEMO_PASSWORD
// (seed the demo users before PORT answers anything; scripts/start.mjs sets them on a fresh state), and any
// [vars] name.
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { readEnvFile } from "./env-file.mjs";
import { seedDemo } from "./seed.mjs";

const root = resolve(fileURLToPath(new URL("..", import.meta.url)));
// Durable Object and D1 files hold balances, histories and session hashes: readable by this user only, also
// when this script is run on its own rather than by scripts/start.mjs (which sets the same umask).
process.umask(0o077);
const required = (name) => {
  const value = process.env[name];
  if (value === undefined || value === "") throw new Error(`serve: ${name} is required`);
  return value;
};
const port = Number(required("PORT"));
const stateDir = resolve(required("STATE_DIR"));
const bundleDir = resolve(required("BUNDLE_DIR"));
const secretsFile = required("SECRETS_FILE");
const inspectorPort = process.env.INSPECTOR_PORT === undefined ? undefined : Number(process.env.INSPECTOR_PORT);
const logLevel = process.env.LOG_LEVEL ?? "warn";

// Miniflare is wrangler's own dependency; loading it through wrangler guarantees the same version (and so the
// same workerd) that `wrangler dev` and `wrangler d1 ... --local` use on this state.
const { Miniflare, Log, LogLevel, convertV4MiniflareOptions } = createRequire(join(root, "node_modules", "wrangler", "package.json"))(
  "miniflare",
);

/** The options wrangler derives from wrangler.toml, minus those that only apply to an unbundled source. */
function workerOptionsFromConfig() {
  const { workerOptions } = unstable_getMiniflareWorkerOptions(join(root, "wrangler.toml"));
  const defined = Object.entries(workerOptions).filter(([name, value]) => value !== undefined && name !== "modulesRules");
  const options = Object.fromEntries(defined);
  // wrangler's published types leave `bindings` (the [vars], name -> value) as unknown: it is an object or absent.
  const bindings = typeof options.bindings === "object" && options.bindings !== null ? options.bindings : {};
  const overrides = Object.fromEntries(
    Object.keys(bindings)
      .filter((name) => process.env[name] !== undefined)
      .map((name) => [name, process.env[name]]),
  );
  options.bindings = { ...bindings, ...overrides, ...readEnvFile(secretsFile) };
  return options;
}

const levels = { error: LogLevel.ERROR, warn: LogLevel.WARN, info: LogLevel.INFO, debug: LogLevel.DEBUG };
/** Miniflare's options; PORT is served only when `open` (before that, only Miniflare's own loopback entry answers). */
const options = (open) =>
  convertV4MiniflareOptions({
    rootPath: root,
    host: "127.0.0.1",
    port: 0,
    cf: false,
    inspectorPort,
    log: new Log(levels[logLevel] ?? LogLevel.WARN),
    logRequests: false,
    unsafeObservability: false,
    unsafeLocalExplorer: false,
    resourcePersistencePath: join(stateDir, "v3"),
    workers: [
      {
        ...workerOptionsFromConfig(),
        name: "edge-wallet",
        modules: true,
        scriptPath: join(bundleDir, "worker.js"),
        modulesRoot: bundleDir,
        // Straight to the Worker's SiteEntrypoint (src/worker.ts), which routes /api/* and assets itself.
        unsafeDirectSockets: open ? [{ host: "127.0.0.1", port, serviceName: "edge-wallet", entrypoint: "SiteEntrypoint" }] : [],
      },
    ],
  });

// With SEED_DEMO=1 the demo users are made before PORT answers anything, health included, so a client that
// logs in as soon as health answers finds them. Seeding goes through Miniflare's loopback entry, then PORT is
// added, which restarts workerd on the same state (about 7 s on the test machine); scripts/start.mjs asks for
// this only on a state that has never been seeded, so restarts open PORT at once.
const seedFirst = process.env.SEED_DEMO === "1";
const mf = new Miniflare(options(!seedFirst));
const loopback = await mf.ready;
if (seedFirst) {
  const log = (line) => console.log(`[serve] ${line}`);
  await seedDemo({ baseUrl: loopback.origin, password: required("DEMO_PASSWORD"), adminToken: readEnvFile(secretsFile).ADMIN_TOKEN, log });
  await mf.setOptions(options(true));
}
console.log(`[serve] listening on http://127.0.0.1:${port}`);

// Wake the transparency log once at start: its constructor arms its feeding alarm. Deployed, the Cron arms it
// within a minute and the alarm then re-arms itself; here a server killed and restarted (the tests do it) would
// otherwise sign nothing until the next minute's Cron, and entries could pass the 30 s coverage promise.
fetch(`${(await mf.ready).origin}/api/v1/log/checkpoint`).catch((error) =>
  console.error(`[serve] waking the log failed: ${String(error)}`),
);

// The Cron Trigger ("* * * * *"): the continuous self-audit, at the start of every minute.
const worker = await mf.getWorker();
const MINUTE_MS = 60_000;
function scheduleCron() {
  const next_ms = Math.ceil((Date.now() + 1) / MINUTE_MS) * MINUTE_MS;
  setTimeout(async () => {
    try {
      await worker.scheduled({ cron: "* * * * *", scheduledTime: new Date(next_ms) });
    } catch (error) {
      console.error(`[serve] scheduled run failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    scheduleCron();
  }, next_ms - Date.now());
}
scheduleCron();

const stop = async () => {
  await mf.dispose();
  process.exit(0);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
