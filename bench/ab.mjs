// `npm run bench:ab -- <other checkout>`: is a change faster? Runs this checkout (A) and another checkout of
// the repository (B, for example `git worktree add /tmp/base HEAD~1` with its own `npm ci`) at the same time,
// each as `npm start` runs it and each driven by its own copy of the bench driver, and reports A's transfers/s
// over B's, round by round. Never part of `npm test`.
//
// Why at the same time: this machine's speed drifts by 10-20 % from minute to minute, so two runs measured one
// after the other differ by more than most single optimisations are worth. Run together, both servers share
// the same machine and the same drift; identical code measures a ratio of 1.00 within about 4 %.
//
// Environment: AB_ROUNDS (3), AB_SECONDS (10), AB_SCENARIOS ("uniform,hot"), AB_ENV_A and AB_ENV_B (JSON
// objects of extra server variables, for comparing settings instead of code).
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { BENCH_SERVER_ENV } from "./driver.mjs";

const ROUNDS = Number(process.env.AB_ROUNDS ?? 3);
const SECONDS = Number(process.env.AB_SECONDS ?? 10);
const SCENARIOS = process.env.AB_SCENARIOS ?? "uniform,hot";
const here = resolve(fileURLToPath(new URL("..", import.meta.url)));
const other = process.argv[2];
if (other === undefined) {
  console.error("usage: npm run bench:ab -- <path to another checkout of this repository>");
  process.exit(2);
}
const sides = [
  { name: "A", root: here, env: process.env.AB_ENV_A ?? "{}" },
  { name: "B", root: resolve(other), env: process.env.AB_ENV_B ?? "{}" },
];

/** One side's run in its own process: its server, 100 funded users, then each scenario; one JSON line each. */
function runSide(side) {
  const script = `
    const { run, setup, conservation } = await import(${JSON.stringify(`${side.root}/bench/driver.mjs`)});
    const { testServer } = await import(${JSON.stringify(`${side.root}/test/http/server.mjs`)});
    const server = await testServer({ env: { ...${JSON.stringify(BENCH_SERVER_ENV)}, ...${side.env} } });
    await server.start();
    try {
      const users = await setup(server.baseUrl, { count: 100, balance: 10_000_000, prefix: "ab${side.name.toLowerCase()}" + (Date.now() % 100_000) });
      for (const scenario of ${JSON.stringify(SCENARIOS)}.split(",")) {
        const r = await run(server.baseUrl, users, { scenario, connections: 32, seconds: ${SECONDS}, seed: 7, amount: (rnd) => 1 + Math.floor(rnd() * 100) });
        console.log(JSON.stringify(r));
      }
      const c = await conservation(server.baseUrl, users);
      console.log(JSON.stringify({ conserved: c.total === 100 * 10_000_000 && c.problems.length === 0 }));
    } finally {
      // Checkouts from before dispose() (stop and delete the state) have only stop().
      await (server.dispose ?? server.stop).call(server);
    }`;
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], { cwd: side.root, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.on("exit", (code) => {
      if (code !== 0) return fail(new Error(`side ${side.name} exited ${code}`));
      const lines = out
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l));
      ok(lines);
    });
  });
}

for (let round = 1; round <= ROUNDS; round++) {
  const [a, b] = await Promise.all(sides.map(runSide));
  const cells = SCENARIOS.split(",").map((scenario) => {
    const ra = a.find((r) => r.scenario === scenario);
    const rb = b.find((r) => r.scenario === scenario);
    return `${scenario} A ${ra.transfers_per_s} / B ${rb.transfers_per_s} tx/s = ${(ra.transfers_per_s / rb.transfers_per_s).toFixed(3)}`;
  });
  const conserved = [a, b].every((lines) => lines.some((l) => l.conserved === true));
  console.log(`round ${round}: ${cells.join("; ")}; conserved: ${conserved ? "yes" : "NO"}`);
  if (!conserved) process.exitCode = 1;
}
