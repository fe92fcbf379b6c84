import { DurableObject } from "cloudflare:workers";
export class Bench extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    const sql = ctx.storage.sql;
    sql.exec(`CREATE TABLE IF NOT EXISTS t0 (id INTEGER PRIMARY KEY, a TEXT, b TEXT, c INTEGER, d INTEGER) STRICT`);
    sql.exec(`CREATE TABLE IF NOT EXISTS t6 (id INTEGER PRIMARY KEY, a TEXT, b TEXT, c INTEGER, d INTEGER) STRICT`);
    for (const [i, cols] of ["a", "b", "c", "d", "a,c", "b,d"].entries()) sql.exec(`CREATE INDEX IF NOT EXISTS t6_${i} ON t6 (${cols})`);
  }
  one(kind) {
    const sql = this.ctx.storage.sql;
    const t = performance.now();
    if (kind === "w") sql.exec("INSERT INTO t6 VALUES (?, ?, ?, ?, ?)", Math.floor(Math.random() * 1e15), "x" + Math.random(), "y", 1, 2);
    if (kind === "r") sql.exec("SELECT * FROM t0 WHERE id = ?", 5).toArray();
    return performance.now() - t;
  }
  run(kind, n) {
    const sql = this.ctx.storage.sql;
    const base = Math.floor(Math.random() * 1e12);
    const t = performance.now();
    if (kind === "insert0") for (let i = 0; i < n; i++) sql.exec("INSERT INTO t0 VALUES (?, ?, ?, ?, ?)", base + i, "x" + i, "y" + (i * 7), i, i * 3);
    if (kind === "insert6") for (let i = 0; i < n; i++) sql.exec("INSERT INTO t6 VALUES (?, ?, ?, ?, ?)", base + i, "x" + (base+i), "y" + (i * 7), i, i * 3);
    if (kind === "select") for (let i = 0; i < n; i++) sql.exec("SELECT * FROM t0 WHERE id = ?", i).toArray();
    if (kind === "noop") for (let i = 0; i < n; i++) sql.exec("SELECT 1").toArray();
    if (kind === "multi6") for (let i = 0; i < n; i += 10) {
      const args = []; for (let j = 0; j < 10; j++) args.push(base + i + j, "x" + (base+i+j), "y", i, j);
      sql.exec("INSERT INTO t6 VALUES " + Array(10).fill("(?, ?, ?, ?, ?)").join(", "), ...args);
    }
    if (kind === "txn6") this.ctx.storage.transactionSync(() => { for (let i = 0; i < n; i++) sql.exec("INSERT INTO t6 VALUES (?, ?, ?, ?, ?)", base + i, "x" + (base+i), "y" + (i * 7), i, i * 3); });
    return performance.now() - t;
  }
}
export default {
  async fetch(req, env) {
    const u = new URL(req.url);
    const stub = env.BENCH.getByName("one");
    const t = Date.now();
    if (u.searchParams.get("calls")) {
      let inner = 0;
      const calls = Number(u.searchParams.get("calls"));
      for (let i = 0; i < calls; i++) inner += await stub.one(u.searchParams.get("k"));
      return new Response(JSON.stringify({ wall_ms: Date.now() - t, inner }));
    }
    const inner = await stub.run(u.searchParams.get("k"), Number(u.searchParams.get("n")));
    return new Response(JSON.stringify({ wall_ms: Date.now() - t, inner }));
  },
};
