import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

/** The repository root (this file is bench/workerd-bench-config.ts). */
const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * The Vitest configuration of a benchmark that runs inside workerd (`bench:log`, `bench:parts`): the real
 * wrangler.toml bindings and production limits, the D1 migrations to apply, and the bench's own bindings on top
 * (test secrets and the bench's settings). `dir` is the bench's folder under bench/, whose `*.bench-run.ts` run.
 */
export async function workerdBenchConfig(dir: string, bindings: Record<string, string>) {
  const migrations = await readD1Migrations(join(root, "migrations"));
  return defineConfig({
    plugins: [
      cloudflareTest({
        wrangler: { configPath: join(root, "wrangler.toml") },
        miniflare: { bindings: { TEST_MIGRATIONS: migrations, ...bindings } },
      }),
    ],
    test: { include: [`bench/${dir}/*.bench-run.ts`], root, testTimeout: 3_600_000 },
  });
}
