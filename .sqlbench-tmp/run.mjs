import { createRequire } from "node:module";
const { Miniflare, Log, LogLevel, convertV4MiniflareOptions } = createRequire("/work/main/node_modules/wrangler/package.json")("miniflare");
const mf = new Miniflare(convertV4MiniflareOptions({
  host: "127.0.0.1", port: 0, cf: false, log: new Log(LogLevel.WARN), unsafeObservability: false, unsafeLocalExplorer: false,
  resourcePersistencePath: "/tmp/sqlbench/state",
  workers: [{ name: "b", modules: true, scriptPath: "/work/main/.sqlbench-tmp/worker.js", compatibilityDate: "2026-11-01",
    durableObjects: { BENCH: { className: "Bench", useSQLite: true } } }],
}));
await mf.ready;
const n = Number(process.argv[2] ?? 5000);
for (const round of [1, 2]) for (const k of ["noop", "select", "insert0", "insert6", "multi6", "txn6"]) {
  const r = await (await mf.dispatchFetch(`http://x/?k=${k}&n=${n}`)).json();
  if (round === 2) console.log(k.padEnd(8), (r.wall_ms * 1000 / n).toFixed(1), "µs/op wall,", (r.inner * 1000 / n).toFixed(1), "inner");
}
for (const k of ["r", "w", "r", "w"]) {
  const r = await (await mf.dispatchFetch(`http://x/?k=${k}&calls=2000`)).json();
  console.log("call+" + k, (r.wall_ms * 1000 / 2000).toFixed(1), "µs/call wall,", (r.inner * 1000 / 2000).toFixed(1), "inner exec");
}
await mf.dispose();
