import { workerdBenchConfig } from "../workerd-bench-config";

/**
 * `npm run bench:parts`: each part's ceiling, measured inside workerd with the real wrangler.toml bindings and
 * the production limits, except: cheap password hashing for the setup's registrations, and a daily limit and a
 * per-user money rate the bench cannot reach (it measures the objects, not the limits). The Vitest integration
 * keeps Durable Object and D1 storage in memory (its Miniflare options are not ours to set), so a commit costs
 * the thread its SQLite work but no local fsync: docs/capacity.md says why that is the closer proxy for a
 * deployed object, whose commit is replicated off its thread. Never part of `npm test`.
 */
export default await workerdBenchConfig("parts", {
  PASSWORD_ARGON2_MEMORY_KIB: "1024",
  PASSWORD_ARGON2_PASSES: "1",
  DAILY_LIMIT_MINOR: "9000000000000000",
  RATE_MONEY_PER_USER_PER_MINUTE: "10000000",
  PARTS_SECONDS: process.env.BENCH_PARTS_SECONDS ?? "3",
  PARTS_ONLY: process.env.BENCH_PARTS_ONLY ?? "",
  PARTS_ROWS_TRANSFERS: process.env.BENCH_PARTS_ROWS_TRANSFERS ?? "200",
  PHONE_ENC_KEY_ID: "bench1",
  PHONE_ENC_KEY: "dGVzdC1waG9uZS1lbmNyeXB0aW9uLWtleS0zMmJ5dGU",
  PHONE_INDEX_KEY: "dGVzdC1waG9uZS1ibGluZC1pbmRleC1rZXktMzJieXQ",
  ADMIN_TOKEN: "bench-admin-token-0123456789abcdefghijklmnop",
  RECEIPT_KEY_ID: "bench-r1",
  RECEIPT_SIGNING_KEY: "MC4CAQAwBQYDK2VwBCIEIDhRvPLi6ekpwP77zOorAyflOe7JoD4yrGFFpg-FI0D9",
  SESSION_TOKEN_KEY: "dGVzdC1zZXNzaW9uLXRva2VuLW1hYy1rZXktMzJieXQ",
  LOG_SIGNING_KEY: "MC4CAQAwBQYDK2VwBCIEIHiBnf2fe-9waegk4UwDPFndnBiheODm645HZxz_-Tta",
});
