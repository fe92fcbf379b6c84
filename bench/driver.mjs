// The load driver: speaks the contract over keep-alive HTTP/1.1 connections, the same way for our service and
// for the peer, so their figures can be compared as ratios from one run.
//
// setup(baseUrl, wallets) registers users and funds each wallet; run(...) keeps `connections` requests in
// flight for `seconds`, each a transfer chosen by the scenario, and reports transfers/s and latency
// percentiles; conservation is checked by the caller afterwards (a fast wrong answer is a failure).
import http from "node:http";

/**
 * The server settings every benchmark runs our service with: production defaults, except cheaper password
 * hashing for the setup's registrations and a daily limit the benchmark cannot reach.
 */
export const BENCH_SERVER_ENV = Object.freeze({
  PASSWORD_ARGON2_MEMORY_KIB: "1024",
  PASSWORD_ARGON2_PASSES: "1",
  DAILY_LIMIT_MINOR: "9000000000000000",
  LOG_LEVEL: "error",
});

/** One keep-alive agent per target, `connections` sockets at most. */
export function agentFor(connections) {
  return new http.Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections });
}

/**
 * @typedef {object} RequestOptions
 * @property {string} [method]
 * @property {unknown} [body]
 * @property {string} [token] a bearer session token
 * @property {string} [key] an Idempotency-Key
 */

/**
 * A JSON request over `agent`; resolves with status and parsed body.
 * @param {http.Agent} agent
 * @param {string} baseUrl
 * @param {string} path
 * @param {RequestOptions} [options]
 * @returns {Promise<{ status: number | undefined, json: any, text: string }>}
 */
export function request(agent, baseUrl, path, { method = "GET", body, token, key } = {}) {
  const url = new URL(`/api/v1${path}`, baseUrl);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const headers = { accept: "application/json" };
  if (payload !== undefined) {
    headers["content-type"] = "application/json";
    headers["content-length"] = Buffer.byteLength(payload);
  }
  if (token) headers.authorization = `Bearer ${token}`;
  if (key) headers["idempotency-key"] = key;
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent, headers }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let json;
        try {
          json = text ? JSON.parse(text) : null;
        } catch {
          json = null;
        }
        resolve({ status: res.statusCode, json, text });
      });
    });
    req.on("error", reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

/** Registers `count` users, each with one wallet funded with `balance`. */
export async function setup(baseUrl, { count, balance, prefix }) {
  const agent = agentFor(8);
  const users = [];
  for (let i = 0; i < count; i++) {
    const handle = `${prefix}_${i}`.slice(0, 32);
    const reg = await request(agent, baseUrl, "/auth/register", { method: "POST", body: { handle, password: "bench-password-1" } });
    if (reg.status !== 201) throw new Error(`register ${handle}: ${reg.status} ${reg.text}`);
    const user = { handle, token: reg.json.token, wallet_id: reg.json.wallet.id };
    const dep = await request(agent, baseUrl, `/wallets/${user.wallet_id}/deposits`, {
      method: "POST",
      body: { amount: balance },
      token: user.token,
      key: `fund-${handle}`,
    });
    if (dep.status !== 201) throw new Error(`fund ${handle}: ${dep.status} ${dep.text}`);
    users.push(user);
  }
  agent.destroy();
  return users;
}

/** Scenarios: which wallets a transfer moves money between. */
export const SCENARIOS = {
  /** Uniform random pairs. */
  uniform: (users, rnd) => {
    const from = users[Math.floor(rnd() * users.length)];
    let to = users[Math.floor(rnd() * users.length)];
    if (to === from) to = users[(users.indexOf(from) + 1) % users.length];
    return [from, to];
  },
  /** One hot wallet (users[0]) receives every transfer and sends half of them. */
  hot: (users, rnd) => {
    const hot = users[0];
    const other = users[1 + Math.floor(rnd() * (users.length - 1))];
    return rnd() < 0.5 ? [hot, other] : [other, hot];
  },
  /** Fixed disjoint pairs (0→1, 2→3, ...): no two transfers in different pairs share a wallet. */
  disjoint: (users, rnd, slot) => {
    const pairs = Math.floor(users.length / 2);
    const p = slot % pairs;
    return rnd() < 0.5 ? [users[2 * p], users[2 * p + 1]] : [users[2 * p + 1], users[2 * p]];
  },
};

function percentile(sorted, p) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/**
 * Runs `scenario` with `connections` requests in flight for `seconds`.
 * @param {string} baseUrl
 * @param {any[]} users
 * @param {{ scenario: string, connections: number, seconds: number, seed?: number, amount?: (rnd: () => number) => number }} options
 */
export async function run(baseUrl, users, { scenario, connections, seconds, seed = 1, amount = () => 1 }) {
  const agent = agentFor(connections);
  let x = seed >>> 0;
  const rnd = () => (x = (x * 1_664_525 + 1_013_904_223) >>> 0) / 2 ** 32;
  const pick = SCENARIOS[scenario];
  const latencies = [];
  const statuses = {};
  let sequence = 0;
  // Keys are unique per run: a key reused by a later run with another body would be refused (422) or, worse,
  // replayed (201 without moving money) and counted as a transfer.
  const run_id = `${scenario}-${connections}-${Date.now().toString(36)}`;
  const deadline = performance.now() + seconds * 1_000;
  const worker = async (slot) => {
    while (performance.now() < deadline) {
      const [from, to] = pick(users, rnd, slot);
      const key = `b-${run_id}-${slot}-${sequence++}`;
      const started = performance.now();
      let res;
      try {
        res = await request(agent, baseUrl, "/transfers", {
          method: "POST",
          token: from.token,
          key,
          body: { from_wallet_id: from.wallet_id, to: { wallet_id: to.wallet_id }, amount: amount(rnd) },
        });
      } catch (error) {
        const e = /** @type {{ code?: string, message?: string }} */ (error);
        res = { status: `error:${e.code ?? e.message}` };
      }
      latencies.push(performance.now() - started);
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
    }
  };
  const began = performance.now();
  await Promise.all(Array.from({ length: connections }, (_, slot) => worker(slot)));
  const elapsed_s = (performance.now() - began) / 1_000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const ok = statuses[201] ?? 0;
  return {
    scenario,
    connections,
    seconds: Number(elapsed_s.toFixed(2)),
    requests: latencies.length,
    succeeded: ok,
    // Every 201 must be a new movement: a replayed key would count without moving money.
    statuses,
    transfers_per_s: Number((ok / elapsed_s).toFixed(1)),
    p50_ms: Number(percentile(latencies, 50).toFixed(1)),
    p95_ms: Number(percentile(latencies, 95).toFixed(1)),
    p99_ms: Number(percentile(latencies, 99).toFixed(1)),
  };
}

/**
 * Sum of the users' balances (owner reads), whether any is negative or held, and (given the total the users
 * started with) whether money was conserved: the same total, and no problem.
 */
export async function conservation(baseUrl, users, startTotal) {
  const agent = agentFor(8);
  let total = 0;
  const problems = [];
  for (const u of users) {
    const w = await request(agent, baseUrl, `/wallets/${u.wallet_id}`, { token: u.token });
    if (w.status !== 200) {
      problems.push(`${u.handle}: ${w.status}`);
      continue;
    }
    total += w.json.balance;
    if (w.json.balance < 0) problems.push(`${u.handle} negative`);
    if ((w.json.held ?? 0) !== 0) problems.push(`${u.handle} holds ${w.json.held}`);
  }
  agent.destroy();
  return { total, problems, conserved: total === startTotal && problems.length === 0 };
}
