import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const migrations = await readD1Migrations(fileURLToPath(new URL("../../migrations", import.meta.url)));

/**
 * `npm run bench:log`: the transparency log's writer and proofs, measured inside workerd with the real
 * wrangler.toml bindings and the production limits (only the secrets are test values). Never part of `npm test`.
 */
export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: fileURLToPath(new URL("../../wrangler.toml", import.meta.url)) },
      miniflare: {
        bindings: {
          TEST_MIGRATIONS: migrations,
          LOG_SIGNING_KEY: "MC4CAQAwBQYDK2VwBCIEIHiBnf2fe-9waegk4UwDPFndnBiheODm645HZxz_-Tta",
          BENCH_LEAVES: process.env.BENCH_LEAVES ?? "1000000",
        },
      },
    }),
  ],
  test: { include: ["bench/log/*.bench-run.ts"], root: fileURLToPath(new URL("../..", import.meta.url)), testTimeout: 3_600_000 },
});
