// @ts-check
// `node bench/history-filters-sql.mjs`: the SQL of one filtered history page (time range + kind), alone, at
// 1,000 and 100,000 entries, in node:sqlite with the wallet's table and indexes (src/wallet/schema.ts) and
// the queries of src/wallet/history-queries.ts: the two bound lookups on the created_at index and one walk
// of the kind index. It separates what SQLite does from what a page over HTTP also pays (the Worker, RPC,
// JSON, workerd's page cache), which bench/history-filters.mjs measures. Never part of `npm test`.
import { DatabaseSync } from "node:sqlite";

for (const n of [1000, 100000]) {
  const db = new DatabaseSync(":memory:");
  db.exec(`CREATE TABLE entries (seq INTEGER PRIMARY KEY, id TEXT, kind TEXT, amount INTEGER, balance_after INTEGER, transfer_id TEXT, counterparty TEXT, memo TEXT, created_at TEXT, prev_hash TEXT, hash TEXT) STRICT;
  CREATE INDEX entries_created_at ON entries (created_at, seq);
  CREATE INDEX entries_kind_seq ON entries (kind, seq);`);
  const ins = db.prepare("INSERT INTO entries VALUES (?,?,?,?,?,?,?,?,?,?,?)");
  db.exec("BEGIN");
  const step = n / 500;
  for (let i = 0; i < n; i++) {
    const r = i % step;
    const kind = r === 0 ? "transfer_in" : r === 1 ? "transfer_out" : "deposit";
    ins.run(
      i + 1,
      "e" + i,
      kind,
      1,
      i,
      "t" + i,
      r < 2 ? "wal_cp" : null,
      null,
      new Date(Date.UTC(2025, 0, 1) + Math.floor((i * 365 * 86400000) / n)).toISOString(),
      "x".repeat(64),
      "y".repeat(64),
    );
  }
  db.exec("COMMIT");
  const lo = db.prepare("SELECT seq FROM entries INDEXED BY entries_created_at WHERE created_at >= ? ORDER BY created_at, seq LIMIT 1");
  const hi = db.prepare(
    "SELECT seq FROM entries INDEXED BY entries_created_at WHERE created_at < ? ORDER BY created_at DESC, seq DESC LIMIT 1",
  );
  const page = db.prepare(
    "SELECT * FROM entries INDEXED BY entries_kind_seq WHERE kind = ? AND seq BETWEEN ? AND ? AND created_at >= ? AND created_at < ? ORDER BY seq DESC LIMIT 51",
  );
  console.log(
    db
      .prepare(
        "EXPLAIN QUERY PLAN SELECT * FROM entries INDEXED BY entries_kind_seq WHERE kind = ? AND seq BETWEEN ? AND ? AND created_at >= ? AND created_at < ? ORDER BY seq DESC LIMIT 51",
      )
      .all("a", 1, 2, "a", "b")
      .map((r) => r.detail),
  );
  const t0 = performance.now();
  for (let k = 0; k < 2000; k++) {
    const a = Number(lo.get("2025-04-01T00:00:00.000Z")?.seq);
    const b = Number(hi.get("2025-10-01T00:00:00.000Z")?.seq);
    page.all("transfer_in", a, b, "2025-04-01T00:00:00.000Z", "2025-10-01T00:00:00.000Z");
  }
  console.log(n, (((performance.now() - t0) / 2000) * 1000).toFixed(1), "µs per filtered page");
}
