// The bank workload over HTTP, against `npm start` in another process (Jepsen's bank test, adapted):
// 8 wallets, 16 clients moving random amounts, every transfer retried with its key until its outcome is known,
// some sent three times at once, and the server killed with SIGKILL and restarted twice mid-load. Afterwards:
// the total is conserved, no balance is negative, nothing is held, every history is a gapless hash chain that
// sums to its balance, each succeeded transfer has exactly one debit and one credit, every key got exactly
// one answer, and the audit log has exactly one row per key. The mix also asks for money (requests paid from one
// or two tabs at once, declined, cancelled) and refunds (partial, repeated, racing past the amount): every request
// ends at most once and a paid one has exactly its transfer; refunds of a transfer never sum past it.
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

async function fullHistory(user, walletId) {
  const items = [];
  let cursor = null;
  do {
    const res = await untilKnown(() =>
      call(`/wallets/${walletId}/history?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, { token: user.token }),
    );
    assert.equal(res.status, 200, res.text);
    items.push(...res.json.items);
    cursor = res.json.next_cursor;
  } while (cursor);
  return items.reverse();
}

/** An API key with read and payments:write, made with the user's session (the key is shown once). */
async function apiKey(user) {
  const made = await call("/api-keys", { token: user.token, body: { name: "bank test", scopes: ["read", "payments:write"] } });
  assert.equal(made.status, 201, made.text);
  assert.match(made.json.key, /^ewk_3_usr_/);
  return made.json.key;
}

test(`bank workload with two SIGKILL restarts (seed ${seed})`, { timeout: 300_000 }, async () => {
  const users = [];
  for (let i = 0; i < WALLETS; i++) {
    const handle = `bank_${seed}_${i}`;
    const reg = await call("/auth/register", { body: { handle, password: "bank-password-1" } });
    assert.equal(reg.status, 201, reg.text);
    const user = { handle, token: reg.json.token, wallet_id: reg.json.wallet.id, wallets: { USD: reg.json.wallet.id } };
    // Half the clients run the whole workload with an API key (read + payments:write) in place of the session
    // token (issue 16): new wallet, deposits, transfers, requests, pays, refunds, reads, across both restarts.
    if (i % 2 === 0) user.token = await apiKey(user);
    // A second currency: conservation must hold in each one separately.
    const eur = await untilKnown(() => call("/wallets", { token: user.token, key: `eur-${handle}`, body: { currency: "EUR" } }));
    assert.equal(eur.status, 201, eur.text);
    user.wallets.EUR = eur.json.wallet.id;
    for (const [currency, walletId] of Object.entries(user.wallets)) {
      const dep = await untilKnown(() =>
        call(`/wallets/${walletId}/deposits`, { token: user.token, key: `seed-${handle}-${currency}`, body: { amount: START_BALANCE } }),
      );
      assert.equal(dep.status, 201, dep.text);
    }
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
  /** Succeeded transfers (not refunds) and who received them, for refunds: id -> { amount, to }. */
  const refundable = new Map();
  /** Succeeded refunds: original id -> amounts. */
  const refundedBy = new Map();
  /** Requests created: id -> { requester, payer, amount }; and every pay answer per request. */
  const requests = new Map();
  const pays = new Map();
  const pick = (list) => list[Math.floor(random() * list.length)];

  const sendTransfer = async (c, i) => {
    const from = pick(users);
    let to = pick(users);
    if (to === from) to = users[(users.indexOf(from) + 1) % WALLETS];
    const amount = 1 + Math.floor(random() * 20_000);
    const key = `bank-${seed}-${c}-${i}`;
    // A transfer by handle lands in the recipient's wallet in the sender's currency.
    const currency = random() < 0.3 ? "EUR" : "USD";
    const body = { from_wallet_id: from.wallets[currency], to: { handle: to.handle }, amount };
    const send = () => call("/transfers", { token: from.token, key, body });
    const copies = random() < 0.15 ? 3 : 1;
    const results = await Promise.all(Array.from({ length: copies }, () => untilKnown(send)));
    for (const res of results) record(key, res);
    if (results[0].status === 201) {
      assert.equal(results[0].json.transfer.to_wallet_id, to.wallets[currency], "paid into the wallet of the sender's currency");
      refundable.set(results[0].json.transfer.id, { amount, to });
    }
  };

  // A refund by the recipient of a random earlier transfer, partial, often racing another one past the amount.
  const sendRefund = async (c, i) => {
    const [id, original] = pick([...refundable]) ?? [];
    if (id === undefined) return sendTransfer(c, i);
    const amount = 1 + Math.floor(random() * original.amount * 0.7);
    const copies = random() < 0.3 ? 2 : 1;
    await Promise.all(
      Array.from({ length: copies }, async (_, n) => {
        const key = `refund-${seed}-${c}-${i}-${n}`;
        const res = await untilKnown(() => call(`/transfers/${id}/refunds`, { token: original.to.token, key, body: { amount } }));
        record(key, res);
        if (res.status === 201) refundedBy.set(id, [...(refundedBy.get(id) ?? []), amount]);
        else assert.ok(["refund_exceeds_transfer", "insufficient_funds"].includes(res.json.error.code), res.text);
      }),
    );
  };

  /** Asks for money; an expiring request ends after the contract's shortest time, a minute (checked after the load). */
  const askMoney = async (expiring = false, untouched = false) => {
    const requester = pick(users);
    let payer = pick(users);
    if (payer === requester) payer = users[(users.indexOf(requester) + 1) % WALLETS];
    const amount = 1 + Math.floor(random() * 10_000);
    const body = { wallet_id: requester.wallet_id, payer: { handle: payer.handle }, amount, ...(expiring ? { expires_in_s: 60 } : {}) };
    const res = await untilKnown(() => call("/payment-requests", { token: requester.token, body }));
    assert.equal(res.status, 201, res.text);
    const expires_at_ms = expiring ? Date.parse(res.json.payment_request.expires_at) : null;
    requests.set(res.json.payment_request.id, { requester, payer, amount, expires_at_ms, untouched });
  };

  // Pays an open request, from one or two "tabs" with their own keys at once.
  const payRequest = async (c, i) => {
    const open = [...requests].filter(([id, r]) => !r.untouched && (!pays.has(id) || pays.get(id).every((p) => p.status !== 201)));
    const [id, r] = pick(open) ?? [];
    if (id === undefined) return askMoney();
    const tabs = random() < 0.4 ? 2 : 1;
    await Promise.all(
      Array.from({ length: tabs }, async (_, n) => {
        const key = `pay-${seed}-${c}-${i}-${n}`;
        const res = await untilKnown(() =>
          call(`/payment-requests/${id}/pay`, { token: r.payer.token, key, body: { from_wallet_id: r.payer.wallet_id } }),
        );
        record(key, res);
        pays.set(id, [...(pays.get(id) ?? []), res]);
      }),
    );
  };

  const endRequest = async () => {
    const [id, r] = pick([...requests].filter(([, q]) => !q.untouched)) ?? [];
    if (id === undefined) return askMoney();
    const decline = random() < 0.5;
    const res = await untilKnown(() =>
      call(`/payment-requests/${id}/${decline ? "decline" : "cancel"}`, { token: (decline ? r.payer : r.requester).token, method: "POST" }),
    );
    assert.ok(res.status === 200 || (res.status === 409 && res.json.error.code === "request_not_open"), res.text);
  };

  const clientLoop = async (c) => {
    for (let i = 0; i < TRANSFERS_PER_CLIENT; i++) {
      const dice = random();
      if (dice < 0.6) await sendTransfer(c, i);
      else if (dice < 0.72) await sendRefund(c, i);
      else if (dice < 0.82) await askMoney();
      else if (dice < 0.95) await payRequest(c, i);
      else await endRequest();
      done++;
    }
  };

  // The expiring requests are made first, so that their minute runs during the load, not after it; the load
  // pays, declines and cancels some of them like any other.
  // The load leaves half of them alone, so that some are certainly still open when their minute ends.
  for (let i = 0; i < 12; i++) await askMoney(true, i % 2 === 0);
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
  for (const a of answers.values()) assert.ok([201, 409, 422].includes(a.status), `unexpected final status ${a.status}`);

  // Balances: conserved in each currency separately (a sum across currencies would hide errors), none negative,
  // nothing held, every history a chain that sums to its balance.
  const sums = new Map();
  const debits = new Map();
  const credits = new Map();
  for (const user of users) {
    for (const [currency, walletId] of Object.entries(user.wallets)) {
      const w = await untilKnown(() => call(`/wallets/${walletId}`, { token: user.token }));
      assert.equal(w.status, 200);
      assert.equal(w.json.currency, currency);
      assert.ok(w.json.balance >= 0, "negative balance");
      assert.equal(w.json.held, 0, `hold left on ${user.handle} ${currency}`);
      assert.equal(w.json.available, w.json.balance);
      sums.set(currency, (sums.get(currency) ?? 0) + w.json.balance);
      const history = await fullHistory(user, walletId);
      let prev = "0".repeat(64);
      let running = 0;
      history.forEach((e, i) => {
        assert.equal(e.seq, i + 1, "gap in history");
        assert.equal(e.prev_hash, prev, "broken link");
        assert.equal(entryHash(walletId, e), e.hash, "hash mismatch");
        running += e.amount;
        assert.equal(e.balance_after, running);
        prev = e.hash;
        if (e.kind === "transfer_out") debits.set(e.transfer_id, (debits.get(e.transfer_id) ?? 0) + 1);
        if (e.kind === "transfer_in") credits.set(e.transfer_id, (credits.get(e.transfer_id) ?? 0) + 1);
      });
      assert.equal(running, w.json.balance, "history does not sum to the balance");
    }
  }
  assert.deepEqual(
    Object.fromEntries(sums),
    { USD: WALLETS * START_BALANCE, EUR: WALLETS * START_BALANCE },
    "money was created or destroyed",
  );

  // Exactly one debit and one credit per succeeded transfer, and none for any other.
  assert.deepEqual(new Set(debits.keys()), succeeded);
  assert.deepEqual(new Set(credits.keys()), succeeded);
  for (const id of succeeded) assert.equal(debits.get(id) + credits.get(id), 2, `transfer ${id} posted more than once`);

  // Every request ended at most once: a paid one has exactly one succeeded pay, which is its transfer.
  for (const [id, r] of requests) {
    const now = await untilKnown(() => call(`/payment-requests/${id}`, { token: r.requester.token }));
    assert.equal(now.status, 200, now.text);
    const paid = (pays.get(id) ?? []).filter((p) => p.status === 201);
    assert.ok(paid.length <= 1, `request ${id} paid ${paid.length} times`);
    if (now.json.payment_request.status === "paid") {
      assert.equal(paid.length, 1, `request ${id} is paid without a pay answer`);
      assert.equal(paid[0].json.transfer.id, now.json.payment_request.transfer_id);
      assert.equal(paid[0].json.transfer.payment_request_id, id);
      assert.equal(paid[0].json.transfer.amount, r.amount);
    } else assert.equal(paid.length, 0, `request ${id} is ${now.json.payment_request.status} after a pay succeeded`);
    for (const p of pays.get(id) ?? [])
      if (p.status !== 201) assert.ok(["request_not_open", "insufficient_funds"].includes(p.json.error.code), p.text);
  }

  // Requests that were to expire: once their minute has passed, those still open are expired (never earlier:
  // each was open or resolved otherwise when read before), and a pay moves nothing.
  const expiring = [...requests].filter(([, r]) => r.expires_at_ms !== null);
  const lastEnd = Math.max(0, ...expiring.map(([, r]) => r.expires_at_ms));
  if (expiring.length > 0) await sleep(Math.max(0, lastEnd + 1_000 - Date.now()));
  let expiredSeen = 0;
  const leftAlone = expiring.filter(([, r]) => r.untouched).length;
  for (const [id, r] of expiring) {
    const now = await untilKnown(() => call(`/payment-requests/${id}`, { token: r.payer.token }));
    const status = now.json.payment_request.status;
    assert.ok(["expired", "paid", "declined", "cancelled"].includes(status), `request ${id} is ${status} after its end`);
    if (status !== "expired") continue;
    expiredSeen++;
    assert.ok(Date.parse(now.json.payment_request.resolved_at) >= r.expires_at_ms, "expired before its time");
    const late = await untilKnown(() =>
      call(`/payment-requests/${id}/pay`, { token: r.payer.token, key: `late-${id}`, body: { from_wallet_id: r.payer.wallet_id } }),
    );
    assert.equal(late.status, 409, late.text);
    assert.equal(late.json.error.code, "request_not_open");
  }

  assert.ok(expiredSeen >= leftAlone, `${expiredSeen} expired, but ${leftAlone} were left open to expire`);

  // Refunds of a transfer never sum past it, and its refunded_amount says what succeeded.
  for (const [id, amounts] of refundedBy) {
    const total = amounts.reduce((x, y) => x + y, 0);
    assert.ok(total <= refundable.get(id).amount, `refunds of ${id} sum to ${total}, past ${refundable.get(id).amount}`);
    const t = await untilKnown(() => call(`/transfers/${id}`, { token: refundable.get(id).to.token }));
    assert.equal(t.json.transfer.refunded_amount, total);
  }

  // The audit log has one row per key (the outbox delivers asynchronously, so wait for it).
  const login = await call("/auth/login", { body: { handle: "auditor", password: "demo-password" } });
  assert.equal(login.status, 200, login.text);
  // Every money key has its movement (a pay refused before it was recorded, request_not_open, has none).
  const transferIds = new Set(
    [...answers.values()].map((a) => (a.status === 201 ? a.json.transfer.id : a.json.error.transfer_id)).filter((id) => id !== undefined),
  );
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
  // The auditor's verify agrees: the whole ledger, conservation per currency and refunds against their transfers.
  const verified = await untilKnown(() => call("/audit/verify", { token: login.json.token }));
  assert.equal(verified.status, 200, verified.text);
  assert.deepEqual(verified.json.problems, [], verified.text);
  assert.equal(verified.json.ok, verified.json.complete);

  const paidCount = [...pays.values()].filter((list) => list.some((p) => p.status === 201)).length;
  console.log(
    `bank: ${answers.size} keys, ${succeeded.size} succeeded, ${requests.size} requests (${paidCount} paid, ${expiredSeen} expired), ${refundedBy.size} transfers refunded, seed ${seed}`,
  );
});
