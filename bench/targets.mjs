// The servers a benchmark compares, each started with `wallets` funded users: our service as `npm start` runs
// it, and the seeds' design (../shared/peers/peer-pg: Node + Postgres from apt, `SELECT ... FOR UPDATE`).
// Shared by `npm run bench` and `npm run bench:skeleton`.
import { execSync, spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BENCH_SERVER_ENV, setup } from "./driver.mjs";
import { testServer } from "../test/http/server.mjs";

const root = new URL("..", import.meta.url).pathname;

/** The processes of a process group (our server's start script and everything it spawned). */
export const pidsOfGroup = (pgid) => () => execSync(`ps -o pid= -g ${pgid} || true`).toString().split("\n").map(Number).filter(Boolean);

/** Our server, as `npm start` runs it with the benchmarks' settings; `server.dispose()` ends it and deletes its state. */
export async function startOurs({ wallets, balance }) {
  const server = await testServer({ env: BENCH_SERVER_ENV });
  await server.start();
  const pgid = Number(readFileSync(join(server.stateDir, "server.pid"), "utf8"));
  const users = await setup(server.baseUrl, { count: wallets, balance, prefix: `bn${Date.now() % 100_000}` });
  return { name: "ours", server, baseUrl: server.baseUrl, pids: pidsOfGroup(pgid), users, startTotal: wallets * balance };
}

/** Starts peer-pg on `port` with `wallets` users of `balance` each; `stop()` ends it. */
export async function startPeer({ wallets, balance, port = 8788 }) {
  const peerDir = join(tmpdir(), "wallet-bench-peers");
  if (!existsSync(join(peerDir, "node_modules", "pg"))) {
    cpSync(join(root, "..", "shared", "peers"), peerDir, { recursive: true });
    const npm = spawnSync("npm", ["install", "--no-audit", "--no-fund"], { cwd: peerDir, stdio: "inherit" });
    if (npm.status !== 0) throw new Error("npm install for the peer failed");
  }
  const start = spawnSync(join(peerDir, "peer-pg", "start.sh"), [String(port), "--fresh"], {
    env: { ...process.env, NODE: process.execPath },
    stdio: "inherit",
  });
  if (start.status !== 0) throw new Error("peer-pg did not start (is postgresql installed? apt-get install -y postgresql)");
  const baseUrl = `http://127.0.0.1:${port}`;
  const nodePid = Number(readFileSync("/tmp/peer-pg-data/server.pid", "utf8"));
  const pids = () => [nodePid, ...execSync("pgrep -u postgres || true").toString().split("\n").map(Number).filter(Boolean)];
  const users = await setup(baseUrl, { count: wallets, balance, prefix: `pp${Date.now() % 100_000}` });
  return {
    name: "peer-pg",
    baseUrl,
    pids,
    users,
    startTotal: wallets * balance,
    stop: () => spawnSync(join(peerDir, "peer-pg", "stop.sh"), [], { stdio: "inherit" }),
  };
}

const { Miniflare, Log, LogLevel, convertV4MiniflareOptions } = createRequire(join(root, "node_modules", "wrangler", "package.json"))(
  "miniflare",
);

/** One skeleton variant (bench/skeleton/worker.js) on its own port, in its own workerd process, with funded users. */
export async function startSkeleton({ variant, port, wallets, balance }) {
  const stateDir = mkdtempSync(join(tmpdir(), `skeleton-${variant}-`));
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      host: "127.0.0.1",
      port: 0,
      cf: false,
      log: new Log(LogLevel.WARN),
      unsafeObservability: false,
      unsafeLocalExplorer: false,
      // On disk, as our service's state is: every commit is a real SQLite commit with its fsync.
      resourcePersistencePath: stateDir,
      workers: [
        {
          name: "skeleton",
          modules: true,
          scriptPath: join(root, "bench", "skeleton", "worker.js"),
          compatibilityDate: "2026-11-01",
          bindings: { SKELETON_VARIANT: variant },
          d1Databases: { AUDIT: `skeleton-audit-${variant}` },
          durableObjects: {
            WALLET: { className: "SkeletonWallet", useSQLite: true },
            COORDINATOR: { className: "SkeletonCoordinator", useSQLite: true },
          },
          unsafeDirectSockets: [{ host: "127.0.0.1", port }],
        },
      ],
    }),
  );
  await mf.ready;
  const baseUrl = `http://127.0.0.1:${port}`;
  const users = await setup(baseUrl, { count: wallets, balance, prefix: `sk${Date.now() % 100_000}` });
  // Miniflare starts one workerd per instance; the one listening on this port is this variant's.
  const pid = Number(/pid=(\d+)/.exec(execSync(`ss -Hltnp 'sport = :${port}'`).toString())?.[1]);
  if (!Number.isSafeInteger(pid)) throw new Error(`no process listens on ${port}`);
  const pids = () => [pid];
  const stop = async () => {
    await mf.dispose();
    rmSync(stateDir, { recursive: true, force: true });
  };
  return { name: `skeleton ${variant}`, baseUrl, pids, users, startTotal: wallets * balance, stop };
}
