// @ts-check
// `npm run bench:transfers`: does a page of GET /transfers cost what its own size says, whatever the filter and
// however many transfers the caller has? (Issue 14.) Never part of `npm test`.
//
// One server is started as `npm start` runs it (test/http/server.mjs, the benchmarks' settings). For each size
// (1,000 and 100,000 transfers) three users are registered: a sender S with a USD and a EUR wallet, a bulk
// recipient R (USD and EUR) and a counterparty C. With the server stopped, a year (2025) of transfers is
// written straight into the SQLite files, consistent the way the route reads them: S's coordinator gets a
// movement row for each transfer S sent (kind transfer, succeeded or failed, wallets, times), C's coordinator
// the rows of what C sent S, and every wallet involved its chained, balanced entries (transfer_out at the
// sender, transfer_in at the recipient, after one opening deposit). Each rare kind of transfer is 200 at both
// sizes, spread evenly through the year, so each filter matches as many at both: refused transfers (S to R,
// named by handle), transfers from S's EUR wallet, transfers S sent C, and transfers C sent S; the rest
// (200 at 1,000, 99,200 at 100,000) are successes from S's USD wallet to R's, which a filtered page must not
// pay for. Then 200 pages of 50 are read through the API per filter and size (following next_cursor, back to
// page 1 every 4 pages, so no filter runs out), in 4 rounds that alternate between the sizes, and p50/p99
// reported per size; the ratio of the p50s at 100,000 and at 1,000 is the claim.
//
// Output: a table on stdout and bench/results/transfer-list.json.
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { BENCH_SERVER_ENV, agentFor, request, setup } from "./driver.mjs";
import { testServer } from "../test/http/server.mjs";

const PAGES = 200;
const ROUNDS = 4;
const SIZES = [1_000, 100_000];
const PAGE = 50;
/** How many transfers of each rare kind there are, at every size. */
const RARE = 200;
const YEAR_START_MS = Date.UTC(2025, 0, 1);
const YEAR_MS = 365 * 86_400_000;
const B32 = "0123456789abcdefghjkmnpqrstvwxyz";

/**
 * A value as an SQL literal: integers as they are, null as NULL, text quoted.
 * @param {string | number | null} value
 */
function lit(value) {
  if (value === null) return "NULL";
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new Error(`not a safe integer: ${value}`);
    return String(value);
  }
  return `'${value.replace(/'/g, "''")}'`;
}

/** The rows of one SELECT on a stopped server's SQLite file. */
function queryFile(file, sql) {
  const db = new DatabaseSync(file);
  try {
    return db.prepare(sql).all();
  } finally {
    db.close();
  }
}

/** Runs `statements` on a stopped server's SQLite file, in one transaction. */
function execFile(file, statements) {
  const db = new DatabaseSync(file);
  try {
    db.exec(`BEGIN;\n${statements.join(";\n")};\nCOMMIT;`);
  } finally {
    db.close();
  }
}

/** `n` as 26 characters of the ids' base32. */
function b32(n) {
  let out = "";
  for (let v = n; out.length < 26; v = Math.floor(v / 32)) out = B32[v % 32] + out;
  return out;
}

/** The SQLite file of the Durable Object of `className` whose `probe` query returns `expected`. */
function objectFile(stateDir, className, probe, expected) {
  const dir = join(stateDir, "v3", "do", `edge-wallet-${className}`);
  for (const name of readdirSync(dir).filter((f) => f.endsWith(".sqlite") && f !== "metadata.sqlite")) {
    try {
      const rows = queryFile(join(dir, name), probe);
      if (rows.some((r) => Object.values(r)[0] === expected)) return join(dir, name);
    } catch {
      // Not an object with that table yet.
    }
  }
  throw new Error(`no ${className} storage file holds ${expected}`);
}

/**
 * Seeds a wallet's entries (an opening deposit, then `entries` in order) as statements for its file.
 * @param {string} file
 * @param {string} walletId
 * @param {{ kind: string, amount: number, transfer_id: string, counterparty: string | null, at_ms: number }[]} entries
 */
function seedWallet(file, walletId, entries) {
  const w = /** @type {any} */ (queryFile(file, "SELECT balance, last_seq, head_hash FROM wallet")[0]);
  let { balance, last_seq: seq, head_hash: prev } = w;
  const opening = { kind: "deposit", amount: entries.length + 1, transfer_id: `dep_bench_${walletId.slice(4)}`, counterparty: null };
  const statements = [];
  for (const e of [{ ...opening, at_ms: YEAR_START_MS - 86_400_000 }, ...entries]) {
    seq++;
    balance += e.amount;
    const id = `ent_${walletId.slice(4)}_${seq}`;
    const fields = [seq, id, e.kind, e.amount, balance, e.transfer_id, e.counterparty, null, new Date(e.at_ms).toISOString(), prev];
    const hash = createHash("sha256")
      .update(JSON.stringify(["v1", walletId, ...fields]))
      .digest("hex");
    statements.push(
      `INSERT INTO entries (seq, id, kind, amount, balance_after, transfer_id, counterparty, memo, created_at, prev_hash, hash) VALUES (${[...fields, hash].map(lit).join(", ")})`,
    );
    prev = hash;
  }
  statements.push(
    `UPDATE wallet SET balance = ${lit(balance)}, last_seq = ${lit(seq)}, head_hash = ${lit(prev)}, version = version + ${entries.length + 1}`,
  );
  execFile(file, statements);
}

/** A movement row for a transfer, as the coordinator writes one that has ended. */
function movementInsert(m) {
  const at = new Date(m.at_ms).toISOString();
  const values = [
    m.id,
    "transfer",
    m.user_id,
    m.state,
    null,
    "bench",
    "bench",
    m.from,
    m.to,
    JSON.stringify(m.recipient),
    1,
    m.currency,
    null,
    m.state === "failed" ? "insufficient_funds" : null,
    "[]",
    "[]",
    at,
    m.at_ms,
    at,
    0,
    m.at_ms,
    0,
  ];
  return `INSERT INTO movements (id, kind, user_id, state, idempotency_key, request_hash, request_id, from_wallet_id, to_wallet_id, recipient, amount, currency, memo, failure_code, owned_wallet_ids, entries, created_at, created_at_ms, completed_at, attempts, next_attempt_at_ms, outbox_pending) VALUES (${values.map(lit).join(", ")})`;
}

/** Registers S, R and C for one size, with the EUR wallets, and reads their user ids. */
async function people(baseUrl, size) {
  const tag = `tl${size}_${Date.now() % 100_000}`;
  const [s, r, c] = await setup(baseUrl, { count: 3, balance: 1, prefix: tag });
  const agent = agentFor(1);
  for (const u of [s, r, c]) {
    const me = await request(agent, baseUrl, "/me", { token: u.token });
    if (me.status !== 200) throw new Error(`me: ${me.status}`);
    u.id = me.json.user.id;
  }
  for (const u of [s, r]) {
    const eur = await request(agent, baseUrl, "/wallets", {
      method: "POST",
      body: { currency: "EUR" },
      token: u.token,
      key: `eur-${u.handle}`,
    });
    if (eur.status !== 201) throw new Error(`wallet: ${eur.status} ${eur.text}`);
    u.eur_wallet_id = eur.json.wallet.id;
  }
  agent.destroy();
  return { s, r, c };
}

/** Writes a year of `size` transfers for S (see the top of this file) into the stopped server's files. */
function seedYear(stateDir, size, { s, r, c }) {
  const step = size / RARE;
  const sent = [];
  const fromC = [];
  /** @type {Map<string, { kind: string, amount: number, transfer_id: string, counterparty: string | null, at_ms: number }[]>} */
  const entries = new Map([s.wallet_id, s.eur_wallet_id, r.wallet_id, r.eur_wallet_id, c.wallet_id].map((w) => [w, []]));
  const move = (from, to, id, at_ms) => {
    entries.get(from)?.push({ kind: "transfer_out", amount: -1, transfer_id: id, counterparty: to, at_ms });
    entries.get(to)?.push({ kind: "transfer_in", amount: 1, transfer_id: id, counterparty: from, at_ms });
  };
  for (let i = 0; i < size; i++) {
    const at_ms = YEAR_START_MS + Math.floor((i * YEAR_MS) / size);
    const kind = i % step;
    const id = `trf_${s.id.slice(4)}_${b32(i)}`;
    if (kind === 0) {
      sent.push({
        id,
        user_id: s.id,
        state: "failed",
        from: s.wallet_id,
        to: r.wallet_id,
        recipient: { handle: r.handle },
        currency: "USD",
        at_ms,
      });
    } else if (kind === 1) {
      sent.push({
        id,
        user_id: s.id,
        state: "succeeded",
        from: s.eur_wallet_id,
        to: r.eur_wallet_id,
        recipient: { handle: r.handle },
        currency: "EUR",
        at_ms,
      });
      move(s.eur_wallet_id, r.eur_wallet_id, id, at_ms);
    } else if (kind === 2) {
      sent.push({
        id,
        user_id: s.id,
        state: "succeeded",
        from: s.wallet_id,
        to: c.wallet_id,
        recipient: { handle: c.handle },
        currency: "USD",
        at_ms,
      });
      move(s.wallet_id, c.wallet_id, id, at_ms);
    } else if (kind === 3) {
      const cid = `trf_${c.id.slice(4)}_${b32(i)}`;
      fromC.push({
        id: cid,
        user_id: c.id,
        state: "succeeded",
        from: c.wallet_id,
        to: s.wallet_id,
        recipient: { handle: s.handle },
        currency: "USD",
        at_ms,
      });
      move(c.wallet_id, s.wallet_id, cid, at_ms);
    } else {
      sent.push({
        id,
        user_id: s.id,
        state: "succeeded",
        from: s.wallet_id,
        to: r.wallet_id,
        recipient: { handle: r.handle },
        currency: "USD",
        at_ms,
      });
      move(s.wallet_id, r.wallet_id, id, at_ms);
    }
  }
  const probe = "SELECT user_id FROM movements LIMIT 1";
  execFile(objectFile(stateDir, "TransferCoordinator", probe, s.id), sent.map(movementInsert));
  execFile(objectFile(stateDir, "TransferCoordinator", probe, c.id), fromC.map(movementInsert));
  for (const [walletId, list] of entries)
    seedWallet(objectFile(stateDir, "WalletObject", "SELECT id FROM wallet", walletId), walletId, list);
}

/** The times of `count` page reads of `query`, following cursors, back to page 1 every 4 pages. */
async function pages(baseUrl, user, query, count) {
  const agent = agentFor(1);
  const times = [];
  let cursor = null;
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const res = await request(agent, baseUrl, `/transfers?limit=${PAGE}&${query}${cursor ? `&cursor=${cursor}` : ""}`, {
      token: user.token,
    });
    if (res.status !== 200 || res.json.items.length !== PAGE)
      throw new Error(`transfers ${query}: ${res.status} ${res.json?.items?.length} ${res.text.slice(0, 200)}`);
    times.push(performance.now() - started);
    cursor = i % 4 === 3 ? null : res.json.next_cursor;
  }
  agent.destroy();
  return times;
}

const server = await testServer({ env: BENCH_SERVER_ENV });
await server.start();
/** @type {{ at: string, page: number, pages: number, rows: { transfers: number, filter: string, p50_ms: number, p99_ms: number }[] }} */
const results = { at: new Date().toISOString(), page: PAGE, pages: PAGES, rows: [] };
try {
  const cast = new Map();
  for (const size of SIZES) cast.set(size, await people(server.baseUrl, size));
  await server.stop();
  for (const size of SIZES) {
    const started = performance.now();
    seedYear(server.stateDir, size, cast.get(size));
    console.log(`seeded ${size} transfers in ${Math.round(performance.now() - started)} ms`);
  }
  await server.start();
  /** @type {Record<string, (p: { s: any, r: any, c: any }) => string>} */
  const filters = {
    none: () => "",
    "direction=out": () => "direction=out",
    "direction=in (200 match)": () => "direction=in",
    "status=failed (200 match)": () => "status=failed",
    "counterparty (400 match)": ({ c }) => `counterparty=${c.handle}`,
    "wallet_id, the EUR one (200 match)": ({ s }) => `wallet_id=${s.eur_wallet_id}`,
    "from/to (Apr-Sep)": () => "from=2025-04-01T00:00:00Z&to=2025-10-01T00:00:00Z",
  };
  // Rounds alternate between the sizes (1,000, 100,000, 1,000, ...) for every filter, so the machine's drift
  // from minute to minute falls on both alike; each round reads PAGES / ROUNDS pages.
  const times = new Map();
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, query] of Object.entries(filters)) {
      for (const size of round % 2 === 0 ? SIZES : [...SIZES].reverse()) {
        const key = `${size} ${name}`;
        const who = cast.get(size);
        times.set(key, [...(times.get(key) ?? []), ...(await pages(server.baseUrl, who.s, query(who), PAGES / ROUNDS))]);
      }
    }
  }
  for (const size of SIZES) {
    for (const name of Object.keys(filters)) {
      const sorted = [...times.get(`${size} ${name}`)].sort((x, y) => x - y);
      const at = (q) => Number(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))].toFixed(2));
      results.rows.push({ transfers: size, filter: name, p50_ms: at(0.5), p99_ms: at(0.99) });
      console.log("transfers", JSON.stringify(results.rows.at(-1)));
    }
  }
} finally {
  await server.dispose();
}

const byFilter = new Map();
for (const row of results.rows) byFilter.set(row.filter, [...(byFilter.get(row.filter) ?? []), row]);
console.log(
  "\n| filter | p50 ms at 1,000 | p50 ms at 100,000 | ratio | p99 ms at 1,000 | p99 ms at 100,000 |\n| --- | --- | --- | --- | --- | --- |",
);
for (const [filter, [small, large]] of byFilter) {
  console.log(
    `| ${filter} | ${small.p50_ms} | ${large.p50_ms} | ${(large.p50_ms / small.p50_ms).toFixed(2)}x | ${small.p99_ms} | ${large.p99_ms} |`,
  );
}
mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
writeFileSync(new URL("./results/transfer-list.json", import.meta.url), JSON.stringify(results, null, 2));
