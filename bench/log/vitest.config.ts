import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

/** The repository root (this file is bench/log/vitest.config.ts). */
const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const migrations = await readD1Migrations(join(root, "migrations"));

/**
 * `npm run bench:log`: the transparency log's writer and proofs, measured inside workerd with the real
 * wrangler.toml bindings and the production limits (only the secrets are test values). Never part of `npm test`.
 */
export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: join(root, "wrangler.toml") },
      miniflare: {
        bindings: {
          TEST_MIGRATIONS: migrations,
          LOG_SIGNING_KEY: "MC4CAQAwBQYDK2VwBCIEIHiBnf2fe-9waegk4UwDPFndnBiheODm645HZxz_-Tta",
          BENCH_LEAVES: process.env.BENCH_LEAVES ?? "1000000",
        },
      },
    }),
  ],
  test: { include: ["bench/log/*.bench-run.ts"], root: root, testTimeout: 3_600_000 },
});
