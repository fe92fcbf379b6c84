// The live feed from another process, with the `ws` client against `npm start`: the way a phone app or a
// second service would use it. B watches their wallet while A pays them; a reconnect with `resume` after ten
// missed transfers gets exactly those ten; another user's token gets no socket.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import WebSocket from "ws";
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

async function user(handle) {
  const res = await call("/auth/register", { body: { handle, password: "live-password-1" } });
  assert.equal(res.status, 201, res.text);
  return { handle, token: res.json.token, wallet_id: res.json.wallet.id };
}

/**
 * A predicate for assert.rejects: the refusal `live()` rejects with, carrying the upgrade's HTTP status.
 * @param {number} status
 */
const refusedWith = (status) => (/** @type {unknown} */ error) => error instanceof Error && "status" in error && error.status === status;

function live(u, token = u.token) {
  const ws = new WebSocket(`${server.baseUrl.replace("http", "ws")}/api/v1/wallets/${u.wallet_id}/live`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const events = [];
  ws.on("message", (data) => events.push(JSON.parse(String(data))));
  const opened = new Promise((ok, fail) => {
    ws.once("open", ok);
    ws.once("unexpected-response", (_req, res) => fail(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })));
    ws.once("error", fail);
  });
  const waitFor = async (n) => {
    const deadline = Date.now() + 5_000;
    while (events.length < n) {
      if (Date.now() > deadline) throw new Error(`got ${events.length} of ${n} events: ${JSON.stringify(events)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    return events;
  };
  return { ws, events, opened, waitFor };
}

const pay = (from, to, amount) =>
  call("/transfers", {
    token: from.token,
    key: crypto.randomUUID(),
    body: { from_wallet_id: from.wallet_id, to: { handle: to.handle }, amount },
  });

test("B's socket sees A's payment, and resume replays exactly what was missed", async () => {
  const suffix = Date.now() % 1_000_000;
  const a = await user(`live_a_${suffix}`);
  const b = await user(`live_b_${suffix}`);
  assert.equal((await call(`/wallets/${a.wallet_id}/deposits`, { token: a.token, key: "fund", body: { amount: 100_000 } })).status, 201);

  const first = live(b);
  await first.opened;
  await first.waitFor(1);
  assert.equal(first.events[0].type, "snapshot");
  const sentAt = Date.now();
  assert.equal((await pay(a, b, 1_250)).status, 201);
  const events = await first.waitFor(3);
  console.log(`push after response: ${Date.now() - sentAt} ms`);
  assert.deepEqual(
    events.slice(1).map((e) => e.type),
    ["balance", "entry"],
  );
  assert.equal(events[1].wallet.balance, 1_250);
  assert.equal(events[2].entry.seq, 1);
  first.ws.close();

  for (let i = 0; i < 10; i++) assert.equal((await pay(a, b, 100 + i)).status, 201);
  const again = live(b);
  await again.opened;
  await again.waitFor(1);
  again.ws.send(JSON.stringify({ type: "resume", after_seq: 1 }));
  const replay = await again.waitFor(11);
  assert.deepEqual(
    replay.slice(1).map((e) => [e.type, e.entry.seq, e.entry.amount]),
    Array.from({ length: 10 }, (_, i) => ["entry", i + 2, 100 + i]),
  );
  assert.equal((await pay(a, b, 7)).status, 201);
  const liveAgain = await again.waitFor(13);
  assert.deepEqual(
    liveAgain.slice(11).map((e) => e.type),
    ["balance", "entry"],
  );
  assert.equal(liveAgain[12].entry.seq, 12);
  again.ws.close();
});

test("another user's token, a revoked token and no token get no socket", async () => {
  const suffix = Date.now() % 1_000_000;
  const owner = await user(`live_o_${suffix}`);
  const other = await user(`live_x_${suffix}`);
  await assert.rejects(live(owner, other.token).opened, refusedWith(403));
  await assert.rejects(live(owner, "").opened, refusedWith(401));
  assert.equal((await call("/auth/logout", { method: "POST", token: owner.token })).status, 204);
  await assert.rejects(live(owner).opened, refusedWith(401));
});
