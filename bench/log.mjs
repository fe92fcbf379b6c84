// `npm run bench:log`: the transparency log's writer (leaves/s: append, node hashes, checkpoint signing) and its
// proof latency at BENCH_LEAVES leaves (default 1,000,000), inside workerd (bench/log/log.bench-run.ts says
// how the storage is filled). Writes bench/results/log.json. Never part of `npm test`.
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const child = spawn("npx", ["vitest", "run", "--config", "bench/log/vitest.config.ts"], {
  cwd: root,
  stdio: ["ignore", "pipe", "inherit"],
});
let out = "";
child.stdout.on("data", (chunk) => {
  out += chunk;
  process.stdout.write(chunk);
});
child.on("exit", (code) => {
  const line = out.split("\n").find((l) => l.includes("BENCH {"));
  if (code !== 0 || line === undefined) {
    console.error("bench:log failed");
    process.exit(code || 1);
  }
  const result = { at: new Date().toISOString(), ...JSON.parse(line.slice(line.indexOf("{"))) };
  mkdirSync(`${root}/bench/results`, { recursive: true });
  writeFileSync(`${root}/bench/results/log.json`, `${JSON.stringify(result, null, 2)}\n`);
  console.log(result);
});
