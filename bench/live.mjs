// bench/live: push latency and server memory of the live feed (`npm run bench:live`).
//   1. 1,000 sockets on one wallet while transfers land on it;
//   2. 100 wallets with 10 sockets each while transfers land on random ones of them.
// Latency is measured from the moment the transfer's HTTP response arrives to the moment each socket receives
// that transfer's `entry` event (negative when the push beats the response, which it can: the recipient is
// credited before the sender's capture). Every socket must receive every event, or the run fails.
import { execSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import WebSocket from "ws";
import { BENCH_SERVER_ENV, agentFor, request, setup } from "./driver.mjs";
import { testServer } from "../test/http/server.mjs";

const TRANSFERS = Number(process.env.LIVE_TRANSFERS ?? 40);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Resident memory of the server's workerd processes, in MiB. */
function serverRssMiB() {
  const out = execSync("ps -eo rss,args | grep '[w]orkerd serve' | awk '{s+=$1} END {print s}'").toString().trim();
  return Math.round(Number(out || 0) / 1024);
}

/** The same, per workerd process (wrangler dev runs the dev proxy and the Worker in two). */
function rssByProcessMiB() {
  return execSync("ps -eo rss,args | grep '[w]orkerd serve' | awk '{print $1}'")
    .toString()
    .trim()
    .split("\n")
    .map((kb) => Math.round(Number(kb) / 1024));
}

function percentile(sorted, p) {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Opens `count` sockets on `user`'s wallet; each records when it received each entry seq. */
async function openSockets(baseUrl, user, count) {
  const sockets = [];
  for (let i = 0; i < count; i++) {
    const received = new Map();
    const ws = new WebSocket(`${baseUrl.replace("http", "ws")}/api/v1/wallets/${user.wallet_id}/live`, {
      headers: { authorization: `Bearer ${user.token}` },
    });
    ws.on("message", (data) => {
      const event = JSON.parse(String(data));
      if (event.type === "entry") received.set(event.entry.transfer_id, performance.now());
    });
    await new Promise((ok, fail) => {
      ws.once("open", ok);
      ws.once("error", fail);
      ws.once("unexpected-response", (_q, res) => fail(new Error(`upgrade refused: ${res.statusCode}`)));
    });
    sockets.push({ ws, received, user });
  }
  return sockets;
}

async function scenario(name, baseUrl, { receivers, socketsPerWallet, sender }) {
  const rssBefore = serverRssMiB();
  const sockets = [];
  for (const r of receivers) sockets.push(...(await openSockets(baseUrl, r, socketsPerWallet)));
  await sleep(500);
  const rssWithSockets = serverRssMiB();
  const rssPerProcess = rssByProcessMiB();
  let rssPeak = rssWithSockets;
  const agent = agentFor(4);
  const responses = [];
  for (let i = 0; i < TRANSFERS; i++) {
    const to = receivers[i % receivers.length];
    const sentAt = performance.now();
    const res = await request(agent, baseUrl, "/transfers", {
      method: "POST",
      token: sender.token,
      key: `live-${name}-${i}-${Date.now()}`,
      body: { from_wallet_id: sender.wallet_id, to: { wallet_id: to.wallet_id }, amount: 1 },
    });
    if (res.status !== 201) throw new Error(`transfer ${i}: ${res.status} ${res.text}`);
    responses.push({ id: res.json.transfer.id, to, at: performance.now(), sentAt });
    rssPeak = Math.max(rssPeak, serverRssMiB());
    await sleep(50);
  }
  await sleep(1_000);
  const latencies = [];
  const fromSend = [];
  let missing = 0;
  for (const r of responses) {
    for (const s of sockets.filter((x) => x.user === r.to)) {
      const got = s.received.get(r.id);
      if (got === undefined) missing++;
      else {
        latencies.push(got - r.at);
        fromSend.push(got - r.sentAt);
      }
    }
  }
  fromSend.sort((a, b) => a - b);
  for (const s of sockets) s.ws.close();
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    scenario: name,
    sockets: sockets.length,
    transfers: TRANSFERS,
    deliveries: latencies.length,
    missing,
    push_p50_ms: Number(percentile(latencies, 50).toFixed(1)),
    push_p99_ms: Number(percentile(latencies, 99).toFixed(1)),
    push_max_ms: Number((latencies[latencies.length - 1] ?? 0).toFixed(1)),
    from_request_p50_ms: Number(percentile(fromSend, 50).toFixed(1)),
    from_request_p99_ms: Number(percentile(fromSend, 99).toFixed(1)),
    server_rss_mib: { before: rssBefore, with_sockets: rssWithSockets, peak: rssPeak, per_process_with_sockets: rssPerProcess },
  };
}

// The first scenario opens 1,000 sockets on one wallet, past the shipped per-wallet limit of 100.
const server = await testServer({ env: { ...BENCH_SERVER_ENV, LIVE_MAX_SOCKETS_PER_WALLET: "1200" } });
await server.start();
try {
  const tag = Date.now() % 100_000;
  const [sender, ...wallets] = await setup(server.baseUrl, { count: 101, balance: 1_000_000, prefix: `lv${tag}` });
  const results = [
    await scenario("1000-sockets-one-wallet", server.baseUrl, { receivers: [wallets[0]], socketsPerWallet: 1_000, sender }),
    await scenario("100-wallets-x-10-sockets", server.baseUrl, { receivers: wallets, socketsPerWallet: 10, sender }),
  ];
  console.table(results.map((r) => ({ ...r, server_rss_mib: JSON.stringify(r.server_rss_mib) })));
  mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
  writeFileSync(new URL("./results/live.json", import.meta.url), JSON.stringify({ at: new Date().toISOString(), results }, null, 2));
  if (results.some((r) => r.missing > 0)) {
    console.error("FAIL: some sockets missed events");
    process.exitCode = 1;
  }
} finally {
  await server.dispose();
}
