// After real use of `npm start` (registrations with phone numbers, logins, transfers by phone), every file in
// the local state directory (D1, Durable Object storage, their WAL and journal files) is scanned byte by byte
// for the phone numbers, passwords, session tokens, API keys and webhook secrets in clear. None may appear, and no
// API key appears in the server's log either.
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { client, testServer } from "./server.mjs";

let server;
let call;
before(async () => {
  server = await testServer({ env: { PASSWORD_ARGON2_MEMORY_KIB: "1024", PASSWORD_ARGON2_PASSES: "1" } });
  await server.start();
  call = client(server.baseUrl);
});
after(async () => {
  await server?.dispose();
});

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else yield path;
  }
}

// Runs first: the scan below stops the server to read its state files.
test("the web client's pages and assets carry the security headers, HSTS included (web/public/_headers)", async () => {
  for (const path of ["/", "/wallet", "/fonts/NotoSans-Regular.ttf"]) {
    const res = await fetch(`${server.baseUrl}${path}`);
    await res.arrayBuffer();
    assert.equal(res.status, 200, path);
    assert.match(res.headers.get("content-security-policy") ?? "", /default-src 'self'/, path);
    assert.match(res.headers.get("content-security-policy") ?? "", /frame-ancestors 'none'/, path);
    assert.equal(res.headers.get("x-frame-options"), "DENY", path);
    assert.equal(res.headers.get("x-content-type-options"), "nosniff", path);
    assert.equal(res.headers.get("referrer-policy"), "no-referrer", path);
    assert.match(res.headers.get("strict-transport-security") ?? "", /^max-age=\d{8,}; includeSubDomains$/, path);
  }
});

test("no phone number, password, token, API key or webhook secret is stored in clear", async () => {
  const suffix = String(Date.now() % 10_000_000).padStart(7, "0");
  const secrets = [];
  const users = [];
  for (const [i, name] of ["scan_a", "scan_b"].entries()) {
    const phone = `+1646${i}${suffix.slice(1)}`;
    const password = `clear-text-password-${name}-${suffix}`;
    const reg = await call("/auth/register", { body: { handle: `${name}_${suffix}`, password, phone } });
    assert.equal(reg.status, 201, reg.text);
    const login = await call("/auth/login", { body: { handle: `${name}_${suffix}`, password } });
    assert.equal(login.status, 200);
    secrets.push(phone, phone.slice(1), password, reg.json.token, login.json.token);
    users.push({ token: login.json.token, wallet_id: reg.json.wallet.id, phone });
  }
  const [a, b] = users;
  assert.equal((await call(`/wallets/${a.wallet_id}/deposits`, { token: a.token, key: "scan-1", body: { amount: 5_000 } })).status, 201);
  const paid = await call("/transfers", {
    token: a.token,
    key: "scan-2",
    body: { from_wallet_id: a.wallet_id, to: { phone: b.phone }, amount: 1_234, memo: "by phone" },
  });
  assert.equal(paid.status, 201, paid.text);
  // A webhook secret (registered under a key, so its replayable answer is stored too) must not rest in clear either.
  const hook = await call("/webhook-endpoints", {
    token: a.token,
    key: "scan-3",
    body: { url: "https://hooks.example.com/in", types: ["transfer.succeeded"] },
  });
  assert.equal(hook.status, 201, hook.text);
  secrets.push(hook.json.secret, hook.json.secret.slice("whsec_".length));
  // Payment requests and a split naming a payer by phone, under Idempotency-Keys (their stored answers), with the
  // events both sides get (and a decline, whose event is the second of each side): the phone is shown to the
  // requester, so it is in the answers and the events served, but must rest sealed.
  const asked = await call("/payment-requests", {
    token: a.token,
    key: "scan-req-1",
    body: { wallet_id: a.wallet_id, payer: { phone: b.phone }, amount: 300 },
  });
  assert.equal(asked.status, 201, asked.text);
  assert.deepEqual(asked.json.payment_request.payer, { phone: b.phone });
  const split = await call("/splits", {
    token: a.token,
    key: "scan-split-1",
    body: {
      wallet_id: a.wallet_id,
      shares: [
        { payer: { phone: b.phone }, amount: 1 },
        { payer: { handle: "alice" }, amount: 2 },
      ],
    },
  });
  assert.equal(split.status, 201, split.text);
  const replayed = await call("/payment-requests", {
    token: a.token,
    key: "scan-req-1",
    body: { wallet_id: a.wallet_id, payer: { phone: b.phone }, amount: 300 },
  });
  assert.equal(replayed.text, asked.text);
  const declined = await call(`/payment-requests/${asked.json.payment_request.id}/decline`, {
    method: "POST",
    token: b.token,
    key: "scan-decline-1",
  });
  assert.equal(declined.status, 200, declined.text);
  const byPhone = split.json.split.requests.find((r) => "phone" in r.payer);
  const cancelled = await call(`/payment-requests/${byPhone.id}/cancel`, { method: "POST", token: a.token, key: "scan-cancel-1" });
  assert.equal(cancelled.status, 200, cancelled.text);
  assert.deepEqual(cancelled.json.payment_request.payer, { phone: b.phone });
  for (const user of [a, b]) {
    const events = await call("/events?types=payment_request.created,payment_request.declined", { token: user.token });
    assert.equal(events.status, 200, events.text);
    const mine = events.json.items.filter((e) => e.data.object.id === asked.json.payment_request.id);
    assert.equal(mine.length, 2, events.text);
    for (const e of mine) assert.deepEqual(e.data.object.payer, { phone: b.phone });
  }
  const me = await call("/me", { token: b.token });
  assert.match(me.json.user.phone, /^\+•+\d{4}$/);
  // API keys: one made plainly, one under an Idempotency-Key (whose stored answer, replayed, must not hold it),
  // both used, one refused beyond its scope and one revoked. The key and its secret part are searched for.
  const keys = [];
  for (const [i, idem] of [undefined, "scan-key-1"].entries()) {
    const made = await call("/api-keys", { token: a.token, key: idem, body: { name: `scan ${i}`, scopes: ["read", "payments:write"] } });
    assert.equal(made.status, 201, made.text);
    keys.push(made.json);
    secrets.push(made.json.key, made.json.key.slice(-43));
  }
  const replay = await call("/api-keys", {
    token: a.token,
    key: "scan-key-1",
    body: { name: "scan 1", scopes: ["read", "payments:write"] },
  });
  assert.equal(replay.json.key, null);
  for (const { key } of keys) {
    assert.equal(
      (await call(`/wallets/${a.wallet_id}/deposits`, { token: key, key: `scan-dep-${key.slice(-6)}`, body: { amount: 1 } })).status,
      201,
    );
    assert.equal((await call("/me", { token: key })).status, 200);
    assert.equal((await call("/auth/logout", { method: "POST", token: key })).status, 403);
  }
  assert.equal((await call(`/api-keys/${keys[0].api_key.id}`, { method: "DELETE", token: a.token })).status, 204);
  assert.equal((await call("/me", { token: keys[0].key })).status, 401);
  await new Promise((r) => setTimeout(r, 500));
  await server.stop();

  // A positive control: the memo is stored in clear by design, so the scan must find it, or it reads nothing.
  const control = Buffer.from(`by phone`);
  let controlFound = false;
  let scanned = 0;
  for (const path of files(server.stateDir)) {
    if (path.endsWith("secrets.env")) continue;
    const bytes = readFileSync(path);
    scanned++;
    if (bytes.includes(control)) controlFound = true;
    for (const secret of secrets) {
      assert.equal(bytes.includes(Buffer.from(secret)), false, `${secret.slice(0, 6)}… found in clear in ${path}`);
    }
  }
  assert.ok(scanned > 5, `only ${scanned} files scanned`);
  for (const { key } of keys) assert.equal(server.log.includes(key.slice(-43)), false, "an API key found in the server's log");
  assert.ok(controlFound, "the scan did not find the memo, so it cannot be trusted to find a secret");
});
