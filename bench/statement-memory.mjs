// @ts-check
// `npm run bench:statement-memory`: the JavaScript heap a statement of STATEMENT_MAX_ENTRIES (10,000) entries
// takes to render, per format, measured in Node on the Worker's own rendering code (src/statements/*,
// bundled with esbuild) with V8's heap statistics: workerd's resident memory (bench/history-filters.mjs)
// includes the runtime and its caches, while a Worker's limit (128 MB) is on its isolate's heap. Memos cycle
// through several scripts, so the PDF embeds six fonts (the worst case). Never part of `npm test`.
import { build } from "esbuild";
import { readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { getHeapStatistics } from "node:v8";

const ENTRIES = Number(process.env.ENTRIES ?? 10_000);
const MEMOS = ["rent", "家賃の支払い", "شكرا جزيلا", "Привет", "नमस्ते", "pizza 🍕", null];
const root = new URL("..", import.meta.url);

const bundle = await build({
  stdin: {
    contents: `export { statementPdf } from "./src/statements/pdf"; export { statementCsv } from "./src/statements/csv"; export { assembleStatement } from "./src/audit/statements";`,
    resolveDir: root.pathname,
    loader: "ts",
  },
  bundle: true,
  platform: "node",
  format: "esm",
  write: false,
});
const mod = await import(`data:text/javascript;base64,${Buffer.from(bundle.outputFiles[0].text).toString("base64")}`);
const FONTS = {
  latin: "NotoSans-Regular.ttf",
  arabic: "NotoSansArabic-Regular.ttf",
  hebrew: "NotoSansHebrew-Regular.ttf",
  devanagari: "NotoSansDevanagari-Regular.ttf",
  cjk: "NotoSansJP-Regular.ttf",
  emoji: "NotoEmoji-Regular.ttf",
};
const loader = async (name) => new Uint8Array(readFileSync(new URL(`web/dist/fonts/${FONTS[name]}`, root)));

function entries() {
  const out = [];
  let balance = 0;
  let prev = "0".repeat(64);
  for (let i = 0; i < ENTRIES; i++) {
    const amount = i % 2 === 0 ? 1_999 : -1_000;
    balance += amount;
    const e = {
      id: `ent_x_${i + 1}`,
      seq: i + 1,
      kind: i % 2 === 0 ? "deposit" : "transfer_out",
      amount,
      balance_after: balance,
      transfer_id: `trf_usr_abcdefghijklmnopqrstuvwxyz_${i}`,
      counterparty: i % 2 === 0 ? null : "wal_counterpartycounterpartyxx",
      memo: MEMOS[i % MEMOS.length] ?? null,
      created_at: new Date(Date.UTC(2025, 2, 1) + i * 8_000).toISOString(),
      prev_hash: prev,
    };
    prev = createHash("sha256").update(String(i)).digest("hex");
    out.push({ ...e, hash: prev });
  }
  return out;
}

/** Peak heap used while `fn` runs (sampled every 5 ms and at the end), above the heap before it. */
async function peakHeap(fn) {
  global.gc?.();
  const base = getHeapStatistics().used_heap_size;
  let peak = base;
  const timer = setInterval(() => (peak = Math.max(peak, getHeapStatistics().used_heap_size)), 5);
  const started = performance.now();
  const result = await fn();
  peak = Math.max(peak, getHeapStatistics().used_heap_size);
  clearInterval(timer);
  return { ms: Math.round(performance.now() - started), peak_mib: Number(((peak - base) / 2 ** 20).toFixed(1)), result };
}

const list = entries();
const parts = { wallet_id: "wal_x", currency: "USD", from: "2025-03-01", to: "2025-03-01", lo: 1, opening_balance: 0 };
const last = list[list.length - 1];
const statement = mod.assembleStatement({ ...parts, chain_head: { seq: last.seq, hash: last.hash }, entries: list });
console.log(`| format | ms | peak heap above baseline, MiB | bytes |\n| --- | --- | --- | --- |`);
const json = await peakHeap(() => JSON.stringify({ statement }));
console.log(`| json (serialise) | ${json.ms} | ${json.peak_mib} | ${json.result.length} |`);
const csv = await peakHeap(() => mod.statementCsv(statement, 2));
console.log(`| csv | ${csv.ms} | ${csv.peak_mib} | ${csv.result.length} |`);
const pdf = await peakHeap(() => mod.statementPdf(statement, 2, loader));
console.log(`| pdf | ${pdf.ms} | ${pdf.peak_mib} | ${pdf.result.length} |`);
