// `npm test`: every check, in order, with one summary line at the end.
//   1. check that the web client's generated contract matches the server's schemas, and build the web client
//      (the Worker's static assets; also checks it compiles and reports its size);
//   2. type-check the Worker, the tests, the web client and the plain JavaScript (scripts, HTTP and browser tests,
//      benchmarks; checkJs); lint (floating promises, any, non-null; and the .mjs files);
//   3. the Workers tests inside workerd (Vitest with the Cloudflare integration);
//   4. the web client's unit tests and the out-of-process HTTP tests against `npm start` (node:test);
//   5. the browser end-to-end tests, when Debian's Chromium is installed (said plainly when skipped).
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name) => join(root, "node_modules", ".bin", name);
const env = { ...process.env, PATH: [dirname(process.execPath), join(root, "node_modules", ".bin"), process.env.PATH ?? ""].join(":") };
const totals = { passed: 0, failed: 0, skipped: 0 };
const problems = [];

function run(title, command, args, { capture = false } = {}) {
  console.log(`\n=== ${title}`);
  return new Promise((ok) => {
    const child = spawn(command, args, { cwd: root, env, stdio: capture ? ["ignore", "pipe", "inherit"] : "inherit" });
    let out = "";
    // With stdio "pipe" for stdout (capture), child.stdout is always set; the check is for the type.
    if (capture && child.stdout)
      child.stdout.on("data", (d) => {
        process.stdout.write(d);
        out += d;
      });
    child.on("exit", (code) => {
      if (code !== 0) problems.push(`${title} (exit ${code})`);
      ok({ code, out });
    });
  });
}

function countNodeTest(out) {
  const pick = (name) => Number(new RegExp(`^ℹ ${name} (\\d+)$`, "m").exec(out)?.[1] ?? 0);
  totals.passed += pick("pass");
  totals.failed += pick("fail");
  totals.skipped += pick("skipped");
}

/** What the formatter owns (.prettierignore leaves out what is generated). */
const FORMATTED = [
  "src/**/*.{ts,tsx}",
  "web/src/**/*.{ts,tsx}",
  "web/test/**/*.ts",
  "web/vite.config.ts",
  "test/**/*.{ts,mjs}",
  "scripts/**/*.mjs",
  "bench/**/*.mjs",
  "*.config.{js,ts}",
];
const filesUnder = (dir, suffix) =>
  existsSync(join(root, dir))
    ? readdirSync(join(root, dir))
        .filter((f) => f.endsWith(suffix))
        .map((f) => join(dir, f))
    : [];

await run("the web client's contract matches the server's schemas (npm run gen:api)", process.execPath, [
  join(root, "scripts", "gen-api.mjs"),
  "--check",
]);
if (existsSync(join(root, "web", "vite.config.ts")))
  await run("build the web client", bin("vite"), ["build", "--config", "web/vite.config.ts"]);
await run("type-check the Worker and its tests", bin("tsc"), ["--noEmit", "-p", "."]);
if (existsSync(join(root, "web", "tsconfig.json")))
  await run("type-check the web client", bin("tsc"), ["--noEmit", "-p", "web/tsconfig.json"]);
await run("type-check the scripts, HTTP and browser tests and benchmarks", bin("tsc"), ["--noEmit", "-p", "tsconfig.scripts.json"]);
await run("lint", bin("eslint"), ["src", "scripts", "test", "bench", "web/src"]);
await run("formatting (Prettier; `npm run format` fixes it)", bin("prettier"), ["--check", ...FORMATTED]);

mkdirSync(join(root, "test-results"), { recursive: true });
const vitestJson = join(root, "test-results", "vitest.json");
await run("Workers tests in workerd", bin("vitest"), ["run", "--reporter=default", "--reporter=json", `--outputFile.json=${vitestJson}`]);
if (existsSync(vitestJson)) {
  const report = JSON.parse(readFileSync(vitestJson, "utf8"));
  totals.passed += report.numPassedTests;
  totals.failed += report.numFailedTests;
  totals.skipped += report.numPendingTests + report.numTodoTests;
}

const nodeTests = [...filesUnder("web/test", ".test.ts"), ...filesUnder("test/http", ".test.mjs")];
if (nodeTests.length > 0)
  countNodeTest(
    (
      await run("web unit tests and HTTP tests against npm start", process.execPath, ["--test", "--test-concurrency=1", ...nodeTests], {
        capture: true,
      })
    ).out,
  );

const e2e = filesUnder("test/e2e", ".test.mjs");
if (e2e.length > 0) {
  if (existsSync("/usr/bin/chromium"))
    countNodeTest(
      (await run("browser end-to-end tests (Chromium)", process.execPath, ["--test", "--test-concurrency=1", ...e2e], { capture: true }))
        .out,
    );
  else
    console.log(
      "\n=== browser end-to-end tests SKIPPED: /usr/bin/chromium is not installed (apt-get install -y chromium); .ci/run installs it",
    );
}

console.log(`\n${problems.length === 0 ? "all checks passed" : `failed: ${problems.join("; ")}`}`);
console.log(`tests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(problems.length === 0 && totals.failed === 0 ? 0 : 1);
