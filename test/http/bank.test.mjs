// The bank workload over HTTP, against `npm start` in another process (Jepsen's bank test, adapted):
// 8 wallets, 16 clients moving random amounts, every transfer retried with its key until its outcome is known,
// some sent three times at once, and the server killed with SIGKILL and restarted twice mid-load. Afterwards:
// the total is conserved, no balance is negative, nothing is held, every history is a gapless hash chain that
// sums to its balance, each succeeded transfer has exactly one debit and one credit, every key got exactly
// one answer, and the audit log has exactly one row per key.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, test } from "node:test";
import { client, testServer } from "./server.mjs";

const WALLETS = 8;
const CLIENTS = 16;
const TRANSFERS_PER_CLIENT = Number(process.env.BANK_TRANSFERS_PER_CLIENT ?? 25);
const START_BALANCE = 50_000;
const seed = Number(process.env.BANK_SEED ?? Date.now() % 1_000_000);

function rng(s) {
  let x = s >>> 0;
  return () => (x = (x * 1_664_525 + 1_013_904_223) >>> 0) / 2 ** 32;
}
const random = rng(seed);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let server;
let call;
before(async () => {
  // Cheap password hashing keeps 8 registrations fast; the money path runs with production limits.
  server = await testServer({ env: { PASSWORD_ARGON2_MEMORY_KIB: "1024", PASSWORD_ARGON2_PASSES: "1", DAILY_LIMIT_MINOR: "1000000000" } });
  await server.start();
  call = client(server.baseUrl);
});
after(async () => {
  await server?.dispose();
});

/** Sends until the outcome is known: any answer but 409 in-progress and 5xx; network errors are retried. */
async function untilKnown(send) {
  for (let attempt = 0; ; attempt++) {
    let res;
    try {
      res = await send();
    } catch {
      // A network error: the outcome is still unknown, so this attempt counts as no answer.
      res = null;
    }
    if (res !== null && res.status < 500 && !(res.status === 409 && res.text.includes("idempotency_in_progress"))) return res;
    if (attempt > 600) throw new Error("outcome never became known");
    await sleep(Math.min(50 * 2 ** Math.min(attempt, 5), 1_000));
  }
}

function entryHash(walletId, e) {
  const canonical = JSON.stringify([
    "v1",
    walletId,
    e.seq,
    e.id,
    e.kind,
    e.amount,
    e.balance_after,
    e.transfer_id,
    e.counterparty,
    e.memo,
    e.created_at,
    e.prev_hash,
  ]);
  return createHash("sha256").update(canonical).digest("hex");
}

async function fullHistory(user) {
  const items = [];
  let cursor = null;
  do {
    const res = await untilKnown(() =>
      call(`/wallets/${user.wallet_id}/history?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, { token: user.token }),
    );
    assert.equal(res.status, 200, res.text);
    items.push(...res.json.items);
    cursor = res.json.next_cursor;
  } while (cursor);
  return items.reverse();
}

test(`bank workload with two SIGKILL restarts (seed ${seed})`, { timeout: 300_000 }, async () => {
  const users = [];
  for (let i = 0; i < WALLETS; i++) {
    const handle = `bank_${seed}_${i}`;
    const reg = await call("/auth/register", { body: { handle, password: "bank-password-1" } });
    assert.equal(reg.status, 201, reg.text);
    const user = { handle, token: reg.json.token, wallet_id: reg.json.wallet.id };
    const dep = await untilKnown(() =>
      call(`/wallets/${user.wallet_id}/deposits`, { token: user.token, key: `seed-${handle}`, body: { amount: START_BALANCE } }),
    );
    assert.equal(dep.status, 201, dep.text);
    users.push(user);
  }

  /** key -> every distinct response body seen for it, and the outcome. */
  const answers = new Map();
  const record = (key, res) => {
    const seen = answers.get(key) ?? { bodies: new Set(), status: res.status, json: res.json };
    seen.bodies.add(res.text);
    answers.set(key, seen);
  };

  let done = 0;
  const clientLoop = async (c) => {
    for (let i = 0; i < TRANSFERS_PER_CLIENT; i++) {
      const from = users[Math.floor(random() * WALLETS)];
      let to = users[Math.floor(random() * WALLETS)];
      if (to === from) to = users[(users.indexOf(from) + 1) % WALLETS];
      const amount = 1 + Math.floor(random() * 20_000);
      const key = `bank-${seed}-${c}-${i}`;
      const body = { from_wallet_id: from.wallet_id, to: { handle: to.handle }, amount };
      const send = () => call("/transfers", { token: from.token, key, body });
      const copies = random() < 0.15 ? 3 : 1;
      const results = await Promise.all(Array.from({ length: copies }, () => untilKnown(send)));
      for (const res of results) record(key, res);
      done++;
    }
  };

  const load = Promise.all(Array.from({ length: CLIENTS }, (_, c) => clientLoop(c)));
  const total = CLIENTS * TRANSFERS_PER_CLIENT;
  for (const fraction of [0.25, 0.6]) {
    while (done < total * fraction) await sleep(20);
    await server.kill();
    await server.start();
  }
  await load;

  // One answer per key: every copy and every retry saw the same bytes.
  for (const [key, seen] of answers) assert.equal(seen.bodies.size, 1, `key ${key} got ${seen.bodies.size} different answers`);
  const succeeded = new Set([...answers.values()].filter((a) => a.status === 201).map((a) => a.json.transfer.id));
  for (const a of answers.values()) assert.ok([201, 422].includes(a.status), `unexpected final status ${a.status}`);

  // Balances: conserved, none negative, nothing held.
  let sum = 0;
  const debits = new Map();
  const credits = new Map();
  for (const user of users) {
    const w = await untilKnown(() => call(`/wallets/${user.wallet_id}`, { token: user.token }));
    assert.equal(w.status, 200);
    assert.ok(w.json.balance >= 0, "negative balance");
    assert.equal(w.json.held, 0, `hold left on ${user.handle}`);
    assert.equal(w.json.available, w.json.balance);
    sum += w.json.balance;
    const history = await fullHistory(user);
    let prev = "0".repeat(64);
    let running = 0;
    history.forEach((e, i) => {
      assert.equal(e.seq, i + 1, "gap in history");
      assert.equal(e.prev_hash, prev, "broken link");
      assert.equal(entryHash(user.wallet_id, e), e.hash, "hash mismatch");
      running += e.amount;
      assert.equal(e.balance_after, running);
      prev = e.hash;
      if (e.kind === "transfer_out") debits.set(e.transfer_id, (debits.get(e.transfer_id) ?? 0) + 1);
      if (e.kind === "transfer_in") credits.set(e.transfer_id, (credits.get(e.transfer_id) ?? 0) + 1);
    });
    assert.equal(running, w.json.balance, "history does not sum to the balance");
  }
  assert.equal(sum, WALLETS * START_BALANCE, "money was created or destroyed");

  // Exactly one debit and one credit per succeeded transfer, and none for any other.
  assert.deepEqual(new Set(debits.keys()), succeeded);
  assert.deepEqual(new Set(credits.keys()), succeeded);
  for (const id of succeeded) assert.equal(debits.get(id) + credits.get(id), 2, `transfer ${id} posted more than once`);

  // The audit log has one row per key (the outbox delivers asynchronously, so wait for it).
  const login = await call("/auth/login", { body: { handle: "auditor", password: "demo-password" } });
  assert.equal(login.status, 200, login.text);
  const transferIds = new Set([...answers.values()].map((a) => (a.status === 201 ? a.json.transfer.id : a.json.error.transfer_id)));
  const deadline = Date.now() + 30_000;
  for (;;) {
    const rows = [];
    let cursor = null;
    do {
      const page = await call(`/audit?kind=transfer&limit=200${cursor ? `&cursor=${cursor}` : ""}`, { token: login.json.token });
      assert.equal(page.status, 200, page.text);
      rows.push(...page.json.items.filter((r) => transferIds.has(r.transfer_id)));
      cursor = page.json.next_cursor;
    } while (cursor);
    if (rows.length === transferIds.size || Date.now() > deadline) {
      assert.equal(rows.length, transferIds.size, "audit rows do not match the keys");
      assert.equal(new Set(rows.map((r) => r.transfer_id)).size, rows.length, "duplicate audit rows");
      for (const r of rows) assert.equal(r.status === "succeeded", succeeded.has(r.transfer_id));
      break;
    }
    await sleep(250);
  }
  console.log(`bank: ${answers.size} keys, ${succeeded.size} succeeded, seed ${seed}`);
});
