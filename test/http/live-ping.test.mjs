// What a live feed ping costs, against a real `npm start` (issue 19, item 12). Pings are answered by workerd's
// auto-response, outside the inbound rate limit, by design (docs/security.md): a burst of 2,000 is answered and
// the socket stays open. The cost that matters is memory, and a client that floods pings while it reads
// nothing gets no pong queued for it without limit: workerd stops reading a socket whose answers it cannot
// write (TCP holds the flood back in the client), and the server's memory stays flat.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import WebSocket from "ws";
import { workerdRssMiB } from "./proc.mjs";
import { client, testServer } from "./server.mjs";
import { tcpSocketOf } from "./ws-internals.mjs";

const PING = '{"type":"ping"}';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let server;
let owner;
before(async () => {
  server = await testServer({ env: { PASSWORD_ARGON2_MEMORY_KIB: "1024", PASSWORD_ARGON2_PASSES: "1", LOG_LEVEL: "error" } });
  await server.start();
  const res = await client(server.baseUrl)("/auth/register", {
    body: { handle: `ping_${Date.now() % 1_000_000}`, password: "ping-password-1" },
  });
  assert.equal(res.status, 201, res.text);
  owner = { token: res.json.token, wallet_id: res.json.wallet.id };
});
after(async () => {
  await server?.dispose();
});

async function open() {
  const ws = new WebSocket(`${server.baseUrl.replace("http", "ws")}/api/v1/wallets/${owner.wallet_id}/live`, {
    headers: { authorization: `Bearer ${owner.token}` },
  });
  const counts = { pong: 0, other: 0 };
  ws.on("message", (data) => (String(data) === '{"type":"pong"}' ? counts.pong++ : counts.other++));
  await new Promise((ok, fail) => {
    ws.once("open", ok);
    ws.once("error", fail);
  });
  return { ws, counts };
}

test("a burst of 2,000 pings is answered and does not close the socket (pings are outside the rate limit)", async () => {
  const { ws, counts } = await open();
  for (let i = 0; i < 2_000; i++) ws.send(PING);
  const deadline = Date.now() + 10_000;
  while (counts.pong < 2_000 && Date.now() < deadline) await sleep(20);
  assert.equal(counts.pong, 2_000);
  assert.equal(ws.readyState, WebSocket.OPEN);
  ws.terminate();
});

test("a client that floods pings and reads nothing does not grow the server's memory", { timeout: 60_000 }, async () => {
  const { ws, counts } = await open();
  await sleep(500);
  const before = workerdRssMiB();
  tcpSocketOf(ws).pause();
  // Keep the client's own buffer topped up for a few seconds: whatever the server reads, it must answer.
  let sent = 0;
  const until = Date.now() + 6_000;
  while (Date.now() < until) {
    if (ws.bufferedAmount < 1_000_000) {
      for (let i = 0; i < 5_000; i++) ws.send(PING);
      sent += 5_000;
    }
    await sleep(10);
  }
  const during = workerdRssMiB();
  console.log(`ping flood: ${sent} pings queued by the client, ${ws.bufferedAmount} bytes still unsent; workerd ${before} → ${during} MiB`);
  assert.ok(during - before <= 32, `workerd grew ${during - before} MiB under a ping flood`);
  // Reading again, the socket still works: the flood cost the server nothing it kept.
  tcpSocketOf(ws).resume();
  const answered = counts.pong;
  await sleep(500);
  assert.ok(counts.pong > answered || counts.pong > 0);
  assert.equal(ws.readyState, WebSocket.OPEN);
  ws.terminate();
});
