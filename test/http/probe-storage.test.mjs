// Probes that cannot be authenticated, or that name things which do not exist, must allocate nothing, and the
// local state must be readable by its owner only. Both need the real runtime: local workerd creates a Durable
// Object's SQLite file (with its -wal and -shm) as soon as the object is addressed by name, whether or not it
// then writes, and the file modes are whatever `npm start` and workerd leave on disk.
//
// The server gets a STATE_DIR that does not exist yet, so `npm start` itself must create it (mode 0700).
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { get as httpGet } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { client, testServer } from "./server.mjs";

let server;
let call;
let parent;
let stateDir;
before(async () => {
  parent = mkdtempSync(join(tmpdir(), "wallet-probe-"));
  stateDir = join(parent, "nested", "state");
  // `env` overrides the fresh STATE_DIR that testServer() makes (left empty, and removed by dispose()).
  server = await testServer({ env: { STATE_DIR: stateDir, PASSWORD_ARGON2_MEMORY_KIB: "1024", PASSWORD_ARGON2_PASSES: "1" } });
  await server.start();
  call = client(server.baseUrl);
});
after(async () => {
  await server?.dispose();
  if (parent !== undefined) rmSync(parent, { recursive: true, force: true });
});

/** Every path under `dir`, folders included. */
function walk(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    out.push(path);
    if (e.isDirectory()) out.push(...walk(path));
  }
  return out;
}

/**
 * The Durable Objects that have storage: one `.sqlite` file each under v3/do/<class>/. Only the main files
 * count, because an object's -wal and -shm files come and go as it is evicted and woken again.
 */
function objectFiles() {
  const doDir = join(stateDir, "v3", "do");
  return new Set(
    walk(doDir)
      .filter((p) => p.endsWith(".sqlite"))
      .map((p) => p.slice(doDir.length + 1)),
  );
}

/** The objects that gained storage while `run` ran. */
async function newObjectsDuring(run) {
  const before = objectFiles();
  await run();
  // A file is created when the object is addressed, before its answer; a moment covers the file system.
  await new Promise((r) => setTimeout(r, 300));
  return [...objectFiles()].filter((f) => !before.has(f));
}

const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";
const id26 = () => Array.from(randomBytes(26), (b) => ALPHABET[b & 31]).join("");
const randomUser = () => `usr_${id26()}`;
const randomWallet = () => `wal_${id26()}`;
const randomTransfer = () => `trf_${id26()}_${id26()}`;
/** A token of the right shape for a user id of the attacker's choosing, with 32 random bytes and no valid MAC. */
const forgedToken = (user = randomUser()) => `${user}.${randomBytes(32).toString("base64url")}`;

/** A WebSocket upgrade request (fetch cannot send one); resolves with the status of the HTTP answer. */
function upgrade(path, token) {
  return new Promise((resolveStatus, fail) => {
    const req = httpGet(`${server.baseUrl}/api/v1${path}`, {
      headers: {
        connection: "Upgrade",
        upgrade: "websocket",
        "sec-websocket-version": "13",
        "sec-websocket-key": randomBytes(16).toString("base64"),
        authorization: `Bearer ${token}`,
      },
    });
    req.once("response", (res) => {
      res.resume();
      resolveStatus({ status: res.statusCode });
    });
    req.once("upgrade", (res, socket) => {
      socket.destroy();
      resolveStatus({ status: res.statusCode });
    });
    req.once("error", fail);
  });
}

async function registered(handle) {
  const reg = await call("/auth/register", { body: { handle, password: "correct horse battery" } });
  assert.equal(reg.status, 201, reg.text);
  return { id: reg.json.user.id, token: reg.json.token, wallet_id: reg.json.wallet.id };
}

test("a burst of forged tokens, random ids and random recipients allocates no Durable Object storage", async () => {
  const user = await registered("probe_owner");
  const paid = await call(`/wallets/${user.wallet_id}/deposits`, { token: user.token, key: "probe-dep", body: { amount: 10_000 } });
  assert.equal(paid.status, 201, paid.text);
  const key = () => crypto.randomUUID();
  // Each probe with its expected status: the contract's codes stay as they were.
  /** @type {Array<[name: string, expected: number, probe: () => Promise<{ status: number | undefined }>]>} */
  const probes = [
    ["GET /me, forged bearer", 401, () => call("/me", { token: forgedToken() })],
    ["GET /me, forged cookie", 401, () => call("/me", { headers: { cookie: `sid=${forgedToken()}` } })],
    ["GET /me, real user id, forged secret", 401, () => call("/me", { token: forgedToken(user.id) })],
    [
      "POST /transfers, forged",
      401,
      () =>
        call("/transfers", {
          token: forgedToken(),
          key: key(),
          body: { from_wallet_id: randomWallet(), to: { handle: "bob" }, amount: 1 },
        }),
    ],
    [
      "POST deposit, forged",
      401,
      () => call(`/wallets/${randomWallet()}/deposits`, { token: forgedToken(), key: key(), body: { amount: 1 } }),
    ],
    ["GET wallet, forged", 401, () => call(`/wallets/${randomWallet()}`, { token: forgedToken() })],
    ["GET live, forged", 401, () => upgrade(`/wallets/${randomWallet()}/live`, forgedToken())],
    ["GET transfer, forged", 401, () => call(`/transfers/${randomTransfer()}`, { token: forgedToken() })],
    ["POST logout, forged", 401, () => call("/auth/logout", { method: "POST", token: forgedToken() })],
    ["GET transfer, random id", 404, () => call(`/transfers/${randomTransfer()}`, { token: user.token })],
    ["GET receipt, random id", 404, () => call(`/transfers/${randomTransfer()}/receipt`, { token: user.token })],
    ["GET wallet, random id", 404, () => call(`/wallets/${randomWallet()}`, { token: user.token })],
    ["GET history, random id", 404, () => call(`/wallets/${randomWallet()}/history`, { token: user.token })],
    ["GET live, random id", 404, () => upgrade(`/wallets/${randomWallet()}/live`, user.token)],
    [
      "POST deposit, random wallet",
      404,
      () => call(`/wallets/${randomWallet()}/deposits`, { token: user.token, key: key(), body: { amount: 1 } }),
    ],
    [
      "POST transfer to a random wallet id",
      404,
      () =>
        call("/transfers", {
          token: user.token,
          key: key(),
          body: { from_wallet_id: user.wallet_id, to: { wallet_id: randomWallet() }, amount: 1 },
        }),
    ],
    [
      "POST transfer to a random handle",
      404,
      () =>
        call("/transfers", {
          token: user.token,
          key: key(),
          body: { from_wallet_id: user.wallet_id, to: { handle: `nobody_${id26().slice(0, 10)}` }, amount: 1 },
        }),
    ],
  ];
  const statuses = [];
  const created = await newObjectsDuring(async () => {
    for (let round = 0; round < 3; round++) {
      for (const [name, expected, probe] of probes) statuses.push([name, (await probe()).status, expected]);
    }
  });
  for (const [name, status, expected] of statuses) assert.equal(status, expected, name);
  assert.deepEqual(created, [], `${statuses.length} probes created storage for ${created.length} objects`);
  // Nothing was held or lost on the way: the refused transfer to a random wallet never reserved money.
  const wallet = await call(`/wallets/${user.wallet_id}`, { token: user.token });
  assert.deepEqual([wallet.json.balance, wallet.json.held], [10_000, 0]);
});

test("positive control: a real registration creates its coordinator's and its wallet's storage", async () => {
  let user;
  const created = await newObjectsDuring(async () => {
    user = await registered("probe_control");
  });
  const classes = created.map((f) => f.split("/")[0]).sort();
  assert.deepEqual(classes, ["edge-wallet-TransferCoordinator", "edge-wallet-WalletObject"], `created: ${created.join(", ")}`);
  // And the listing sees an object that already exists as nothing new: a real session's requests add nothing.
  assert.deepEqual(await newObjectsDuring(() => call("/me", { token: user.token })), []);
});

test("logins for random handles from fresh addresses allocate no storage beyond the fixed address shards", async () => {
  // The address shards (src/api/rate-limits.ts, ADDRESS_SHARDS) are a fixed set that real traffic creates
  // anyway: first make every shard exist, with one login from an address that lands in each; then probe with
  // 30 addresses never seen before. An object per address (as before) would create one for each of them.
  const SHARDS = 64;
  // Each address below is its own IPv6 /64, the unit rate limits count, and its own /48, which has a bucket of
  // its own in a second fixed set of shards (src/domain/address-group.ts, enforceClient): a shard is chosen by
  // the hash of that group, so priming fills both sets.
  const groupOf = (address) => `${address.replace(/::1$/, "")}:0::/64`;
  const networkOf = (address) => `${address.replace(/::1$/, "")}::/48`;
  const shardOf = (group) => Number.parseInt(createHash("sha256").update(group).digest("hex").slice(0, 8), 16) % SHARDS;
  const attempt = (address) =>
    call("/auth/login", {
      body: { handle: `ghost_${id26().slice(0, 12)}`, password: "not the password" },
      headers: { "cf-connecting-ip": address },
    });
  const primed = new Set();
  const primed48 = new Set();
  for (let i = 0; (primed.size < SHARDS || primed48.size < SHARDS) && i < 10_000; i++) {
    const address = `2001:db8:${i.toString(16)}::1`;
    const [shard, shard48] = [shardOf(groupOf(address)), shardOf(networkOf(address))];
    if (primed.has(shard) && primed48.has(shard48)) continue;
    primed.add(shard);
    primed48.add(shard48);
    await attempt(address);
  }
  assert.equal(primed.size, SHARDS);
  assert.equal(primed48.size, SHARDS);
  const statuses = [];
  const created = await newObjectsDuring(async () => {
    for (let i = 0; i < 30; i++) statuses.push((await attempt(`2001:db9:${i.toString(16)}::1`)).status);
  });
  assert.ok(
    statuses.every((s) => s === 401),
    statuses.join(","),
  );
  assert.deepEqual(created, [], `${statuses.length} login probes created storage for ${created.length} objects`);
});

test("the state directory is created 0700 and nothing in it is readable by group or others", async () => {
  // Some real use first, so that D1, Durable Objects, WAL files and the bundle all exist.
  await registered("probe_modes");
  assert.equal(statSync(stateDir).mode & 0o777, 0o700, "the state directory itself");
  // A SQLite -shm or -journal file can vanish between the listing and its stat (its database was closed): it is
  // skipped, since a file that no longer exists exposes nothing.
  const open = walk(stateDir)
    .map((path) => [path.slice(stateDir.length + 1), statSync(path, { throwIfNoEntry: false })?.mode])
    .filter(([, mode]) => mode !== undefined && (mode & 0o077) !== 0);
  assert.deepEqual(
    open.map(([p, m]) => `${((m ?? 0) & 0o777).toString(8)} ${p}`),
    [],
  );
  assert.ok(objectFiles().size >= 2, "no Durable Object files were found, so the check saw nothing");
});
