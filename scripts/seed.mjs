// Demo data for `npm start`: alice, bob and charlie with funded wallets, and an auditor. Idempotent: a user who
// exists is logged in instead of registered, deposits carry fixed Idempotency-Keys (a rerun replays them), and
// the auditor role is granted through the operator endpoint, which is a no-op when already granted.

const DEMO_USERS = [
  { handle: "alice", display_name: "Alice", phone: "+14155550101", deposit_minor: 100_000 },
  { handle: "bob", display_name: "Bob", phone: "+14155550102", deposit_minor: 50_000 },
  { handle: "charlie", display_name: "Charlie", phone: "+14155550103", deposit_minor: 25_000 },
  { handle: "auditor", display_name: "Auditor", phone: null, deposit_minor: 0 },
];

/**
 * One JSON call to the API.
 * @param {string} baseUrl
 * @param {string} path under /api/v1
 * @param {{ method?: string, body?: unknown, token?: string, headers?: Record<string, string> }} [options] POST by
 *   default; `body` is sent as JSON and `token` as a bearer token
 * @returns {Promise<{ status: number, json: any }>} `json` is the parsed body, or null when it is empty
 */
async function call(baseUrl, path, { method = "POST", body, token, headers = {} } = {}) {
  const res = await fetch(`${baseUrl}/api/v1${path}`, {
    method,
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

/**
 * Registers (or logs in) the demo users and funds them.
 * @param {{ baseUrl: string, password: string, adminToken: string, log: (line: string) => void }} options
 */
export async function seedDemo({ baseUrl, password, adminToken, log }) {
  for (const user of DEMO_USERS) {
    const body = { handle: user.handle, password, display_name: user.display_name, ...(user.phone ? { phone: user.phone } : {}) };
    let res = await call(baseUrl, "/auth/register", { body });
    if (res.status === 409) res = await call(baseUrl, "/auth/login", { body: { handle: user.handle, password } });
    if (res.status !== 200 && res.status !== 201) throw new Error(`seed ${user.handle}: ${res.status} ${JSON.stringify(res.json)}`);
    const token = res.json.token;
    const me = await call(baseUrl, "/me", { method: "GET", token });
    const wallet = me.json.wallets[0];
    if (user.deposit_minor > 0) {
      const dep = await call(baseUrl, `/wallets/${wallet.id}/deposits`, {
        token,
        body: { amount: user.deposit_minor },
        headers: { "idempotency-key": `seed-deposit-${user.handle}` },
      });
      if (dep.status !== 201) throw new Error(`seed deposit ${user.handle}: ${dep.status} ${JSON.stringify(dep.json)}`);
    }
    if (user.handle === "auditor") {
      const grant = await call(baseUrl, "/admin/auditors", { body: { handle: user.handle }, headers: { "x-admin-token": adminToken } });
      if (grant.status !== 200) throw new Error(`seed auditor role: ${grant.status} ${JSON.stringify(grant.json)}`);
    }
    await call(baseUrl, "/auth/logout", { token });
  }
  log(`seeded ${DEMO_USERS.map((u) => u.handle).join(", ")}`);
}
