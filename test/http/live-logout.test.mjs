// The live feed ends with its session, over a real `npm start` and the `ws` client (issue 19, item 4): a socket
// opened before logout, or before "log out everywhere", is closed by the server with 4401, and a `resume` sent
// after logout replays nothing, while payments keep landing on the wallet.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import WebSocket from "ws";
import { client, testServer } from "./server.mjs";
import { frameReceiverOf } from "./ws-internals.mjs";

const SESSION_ENDED = 4401;

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
  const res = await call("/auth/register", { body: { handle, password: "logout-password-1" } });
  assert.equal(res.status, 201, res.text);
  return { handle, token: res.json.token, wallet_id: res.json.wallet.id };
}

async function login(u) {
  const res = await call("/auth/login", { body: { handle: u.handle, password: "logout-password-1" } });
  assert.equal(res.status, 200, res.text);
  return res.json.token;
}

/**
 * Opens the feed with `token`; resolves once the snapshot has arrived. `closed` resolves when the server's
 * close frame arrives: workerd ends the TCP connection of a hibernatable socket closed from outside a socket
 * event only about 10 s later, and `ws` reports its `close` event only then, so the frame is watched instead.
 */
async function live(u, token) {
  const ws = new WebSocket(`${server.baseUrl.replace("http", "ws")}/api/v1/wallets/${u.wallet_id}/live`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const events = [];
  ws.on("message", (data) => events.push(JSON.parse(String(data))));
  await new Promise((ok, fail) => {
    ws.once("open", ok);
    ws.once("error", fail);
  });
  const closed = new Promise((ok) => frameReceiverOf(ws).once("conclude", (code, reason) => ok({ code, reason: String(reason) })));
  while (events.length === 0) await new Promise((r) => setTimeout(r, 10));
  return { ws, events, closed };
}

/** The server's close frame, or a failure after five seconds. */
function closeOf(socket) {
  return Promise.race([
    socket.closed,
    new Promise((_, fail) =>
      setTimeout(() => fail(new Error(`not closed; got ${JSON.stringify(socket.events.map((e) => e.type))}`)), 5_000).unref(),
    ),
  ]);
}

const entries = (socket) => socket.events.filter((e) => e.type === "entry");

test("logout closes a socket opened before it (4401); a resume after logout replays nothing; payments reach no one", async () => {
  const suffix = Date.now() % 1_000_000;
  const payer = await user(`lo_p_${suffix}`);
  const owner = await user(`lo_o_${suffix}`);
  assert.equal(
    (await call(`/wallets/${payer.wallet_id}/deposits`, { token: payer.token, key: "fund", body: { amount: 10_000 } })).status,
    201,
  );
  const pay = () =>
    call("/transfers", {
      token: payer.token,
      key: crypto.randomUUID(),
      body: { from_wallet_id: payer.wallet_id, to: { handle: owner.handle }, amount: 1 },
    });
  for (let i = 0; i < 3; i++) assert.equal((await pay()).status, 201);

  const socket = await live(owner, owner.token);
  assert.equal((await call("/auth/logout", { method: "POST", token: owner.token })).status, 204);
  if (socket.ws.readyState === WebSocket.OPEN) socket.ws.send(JSON.stringify({ type: "resume", after_seq: 0 }));
  assert.equal((await closeOf(socket)).code, SESSION_ENDED);
  assert.equal((await pay()).status, 201);
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(entries(socket), []);
  socket.ws.terminate();
});

test("log out everywhere closes the sockets of every session (4401)", async () => {
  const suffix = Date.now() % 1_000_000;
  const owner = await user(`lo_a_${suffix}`);
  const phone = await live(owner, owner.token);
  const laptop = await live(owner, await login(owner));
  assert.equal((await call("/auth/logout-all", { method: "POST", token: owner.token })).status, 204);
  assert.equal((await closeOf(phone)).code, SESSION_ENDED);
  assert.equal((await closeOf(laptop)).code, SESSION_ENDED);
  phone.ws.terminate();
  laptop.ws.terminate();
});
