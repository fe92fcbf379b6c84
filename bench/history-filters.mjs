// @ts-check
// `npm run bench:find`: do filtered history pages and statements cost what their own size says, however long
// the wallet's history? (Issue 14.) Never part of `npm test`.
//
// One server is started as `npm start` runs it (test/http/server.mjs, the benchmarks' settings). For each size
// (1,000 and 100,000 entries) a fresh wallet gets a history appended straight into its SQLite file with the
// server stopped (chained and balanced like real entries, as bench/seed-history.mjs does): entries spread
// evenly over 2025, 500 transfer_in from and 500 transfer_out to one counterparty
// (another registered user), so that each filter matches as many entries at both sizes (yearOf below) and
// the deposits between them are what a filtered read must not pay for. Then 200 pages of 50 are read through
// the API for each filter (following next_cursor, back to the first page every 5 pages), in 4 rounds that
// alternate between the sizes, and p50/p99 reported per size; the ratio
// of the p50s at 100,000 and at 1,000 is the claim. A third wallet gets STATEMENT_MAX_ENTRIES (10,000)
// entries in one day, memos in several scripts, and its statement is fetched in each format: time, bytes,
// and workerd's resident memory before and after (VmRSS of the server's workerd processes).
//
// BENCH_FIND_ONLY=history or =statement runs one half. Output: a table on stdout and
// bench/results/history-filters.json.
import { mkdirSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { BENCH_SERVER_ENV, agentFor, request, setup } from "./driver.mjs";
import { workerdRssMiB } from "../test/http/proc.mjs";
import { testServer } from "../test/http/server.mjs";

const ONLY = process.env.BENCH_FIND_ONLY;
/** Thrown to skip the statement half. */
class Done extends Error {}
const PAGES = 200;
const ROUNDS = 4;
const SIZES = [1_000, 100_000];
const PAGE = 50;
const YEAR_START_MS = Date.UTC(2025, 0, 1);
const YEAR_MS = 365 * 86_400_000;
const MEMOS = ["rent", "家賃の支払い", "شكرا جزيلا", "Привет", "नमस्ते", "pizza 🍕", null];

function walletFile(stateDir, walletId) {
  const dir = join(stateDir, "v3", "do", "edge-wallet-WalletObject");
  for (const name of readdirSync(dir).filter((f) => f.endsWith(".sqlite") && f !== "metadata.sqlite")) {
    const db = new DatabaseSync(join(dir, name));
    try {
      if (db.prepare("SELECT id FROM wallet WHERE id = ?").get(walletId)) return join(dir, name);
    } catch {
      // Not a wallet with a schema yet.
    } finally {
      db.close();
    }
  }
  throw new Error(`no storage file for ${walletId}`);
}

/**
 * Appends `count` chained entries to `walletId`; `shape(i)` gives each one's kind, amount, counterparty, memo
 * and time.
 * @param {string} stateDir
 * @param {string} walletId
 * @param {number} count
 * @param {(i: number) => { kind: string, amount: number, counterparty: string | null, memo: string | null, created_at: string }} shape
 */
function seed(stateDir, walletId, count, shape) {
  const db = new DatabaseSync(walletFile(stateDir, walletId));
  const w = /** @type {any} */ (db.prepare("SELECT * FROM wallet").get());
  const insert = db.prepare(
    "INSERT INTO entries (seq, id, kind, amount, balance_after, transfer_id, counterparty, memo, created_at, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
  );
  let { balance, last_seq: seq, head_hash: prev } = w;
  db.exec("BEGIN");
  for (let i = 0; i < count; i++) {
    const e = shape(i);
    seq++;
    balance += e.amount;
    const id = `ent_${walletId.slice(4)}_${seq}`;
    const transfer_id = `benchfind_${walletId.slice(4)}_${seq}`;
    const fields = [seq, id, e.kind, e.amount, balance, transfer_id, e.counterparty, e.memo, e.created_at, prev];
    const hash = createHash("sha256")
      .update(JSON.stringify(["v1", walletId, ...fields]))
      .digest("hex");
    insert.run(...fields, hash);
    prev = hash;
  }
  db.prepare("UPDATE wallet SET balance = ?, last_seq = ?, head_hash = ?, version = version + ?").run(balance, seq, prev, count);
  db.exec("COMMIT");
  db.close();
}

/**
 * A year of entries in which each filter matches the same number at every size: 500 transfer_in from the
 * counterparty and 500 transfer_out to it, spread evenly; the rest (none at 1,000, 99,000 at 100,000) are
 * deposits the filtered reads must not pay for.
 */
function yearOf(count, counterparty) {
  const step = count / 500;
  return (i) => {
    const created_at = new Date(YEAR_START_MS + Math.floor((i * YEAR_MS) / count)).toISOString();
    const r = i % step;
    if (r === 0) return { kind: "transfer_in", amount: 3, counterparty, memo: "from the counterparty", created_at };
    if (r === 1) return { kind: "transfer_out", amount: -1, counterparty, memo: "to the counterparty", created_at };
    return { kind: "deposit", amount: 1, counterparty: null, memo: null, created_at };
  };
}

/** The times of `count` page reads of `query`, following cursors, back to page 1 every 5 pages. */
async function pages(baseUrl, user, query, count) {
  const agent = agentFor(1);
  const times = [];
  let cursor = null;
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const res = await request(
      agent,
      baseUrl,
      `/wallets/${user.wallet_id}/history?limit=${PAGE}&${query}${cursor ? `&cursor=${cursor}` : ""}`,
      {
        token: user.token,
      },
    );
    if (res.status !== 200 || res.json.items.length === 0) throw new Error(`history ${query}: ${res.status} ${res.json?.items?.length}`);
    times.push(performance.now() - started);
    cursor = i % 5 === 4 ? null : res.json.next_cursor;
  }
  agent.destroy();
  return times;
}

const server = await testServer({ env: BENCH_SERVER_ENV });
await server.start();
/**
 * @type {{ at: string, page: number, pages: number,
 *   history: { entries: number, filter: string, p50_ms: number, p99_ms: number }[],
 *   statement: { entries: number, format: string, ms: number, bytes: number, rss_before_mib: number, rss_after_mib: number }[] }}
 */
const results = { at: new Date().toISOString(), page: PAGE, pages: PAGES, history: [], statement: [] };
try {
  const [counterparty] = await setup(server.baseUrl, { count: 1, balance: 1, prefix: `fcp${Date.now() % 100_000}` });
  const filters = {
    unfiltered: "",
    "kind=transfer_in (500 match)": "kind=transfer_in",
    "counterparty (1,000 match)": `counterparty=${counterparty.handle}`,
    "counterparty + kind=transfer_out (500 match)": `counterparty=${counterparty.handle}&kind=transfer_out`,
    "from/to (Apr-Sep) + kind=transfer_in (about 250 match)": "from=2025-04-01T00:00:00Z&to=2025-10-01T00:00:00Z&kind=transfer_in",
  };
  if (ONLY !== "statement") {
    const users = new Map();
    for (const size of SIZES)
      users.set(size, (await setup(server.baseUrl, { count: 1, balance: 1, prefix: `fh${size}_${Date.now() % 10_000}` }))[0]);
    await server.stop();
    for (const size of SIZES) seed(server.stateDir, users.get(size).wallet_id, size, yearOf(size, counterparty.wallet_id));
    await server.start();
    // Rounds alternate between the sizes (1,000, 100,000, 1,000, ...) for every filter, so the machine's
    // drift from minute to minute falls on both alike; each round reads PAGES / ROUNDS pages.
    const times = new Map();
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, query] of Object.entries(filters)) {
        for (const size of round % 2 === 0 ? SIZES : [...SIZES].reverse()) {
          const key = `${size} ${name}`;
          times.set(key, [...(times.get(key) ?? []), ...(await pages(server.baseUrl, users.get(size), query, PAGES / ROUNDS))]);
        }
      }
    }
    for (const size of SIZES) {
      for (const name of Object.keys(filters)) {
        const sorted = [...times.get(`${size} ${name}`)].sort((x, y) => x - y);
        const at = (q) => Number(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))].toFixed(2));
        results.history.push({ entries: size, filter: name, p50_ms: at(0.5), p99_ms: at(0.99) });
        console.log("history", JSON.stringify(results.history.at(-1)));
      }
    }
  }

  if (ONLY === "history") throw new Done();
  const [big] = await setup(server.baseUrl, { count: 1, balance: 1, prefix: `fst${Date.now() % 100_000}` });
  await server.stop();
  seed(server.stateDir, big.wallet_id, 10_000, (i) => ({
    kind: i % 2 === 0 ? "deposit" : "transfer_out",
    amount: i % 2 === 0 ? 1_999 : -1_000,
    counterparty: i % 2 === 0 ? null : counterparty.wallet_id,
    memo: MEMOS[i % MEMOS.length] ?? null,
    created_at: new Date(Date.UTC(2025, 2, 1) + i * 8_000).toISOString(),
  }));
  await server.start();
  const agent = agentFor(1);
  for (const format of ["json", "csv", "pdf"]) {
    const rss_before_mib = workerdRssMiB();
    const started = performance.now();
    const res = await fetch(`${server.baseUrl}/api/v1/wallets/${big.wallet_id}/statement?from=2025-03-01&to=2025-03-01&format=${format}`, {
      headers: { authorization: `Bearer ${big.token}` },
    });
    const bytes = (await res.arrayBuffer()).byteLength;
    const ms = performance.now() - started;
    if (res.status !== 200) throw new Error(`statement ${format}: ${res.status}`);
    results.statement.push({ entries: 10_000, format, ms: Math.round(ms), bytes, rss_before_mib, rss_after_mib: workerdRssMiB() });
    console.log("statement", JSON.stringify(results.statement.at(-1)));
  }
  agent.destroy();
} catch (error) {
  if (!(error instanceof Done)) throw error;
} finally {
  await server.dispose();
}

const byFilter = new Map();
for (const h of results.history) byFilter.set(h.filter, [...(byFilter.get(h.filter) ?? []), h]);
console.log("\n| filter | p50 ms at 1,000 | p50 ms at 100,000 | ratio | p99 ms at 100,000 |\n| --- | --- | --- | --- | --- |");
for (const [filter, [small, large]] of byFilter) {
  console.log(`| ${filter} | ${small.p50_ms} | ${large.p50_ms} | ${(large.p50_ms / small.p50_ms).toFixed(2)}x | ${large.p99_ms} |`);
}
console.log("\n| statement of 10,000 entries | ms | bytes | workerd RSS before / after MiB |\n| --- | --- | --- | --- |");
for (const s of results.statement) console.log(`| ${s.format} | ${s.ms} | ${s.bytes} | ${s.rss_before_mib} / ${s.rss_after_mib} |`);
mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
writeFileSync(new URL("./results/history-filters.json", import.meta.url), JSON.stringify(results, null, 2));
