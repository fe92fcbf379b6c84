import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const migrations = await readD1Migrations(fileURLToPath(new URL("./migrations", import.meta.url)));

/**
 * Tests run inside workerd with the real wrangler.toml bindings. A few limits are lowered so the suite is
 * fast (cheaper password hashing, recovery alarms after 50 ms instead of 2 s); every other limit is the
 * production default. The phone secrets are test-only random values.
 */
export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          TEST_MIGRATIONS: migrations,
          // Every error answer of the suite is checked against its route's declared codes (src/api/declared-errors.ts).
          CHECK_ERROR_CODES: "on",
          // As for npm start: webhooks may go to a loopback receiver (never in a deployment).
          WEBHOOK_ALLOW_LOCAL: "on",
          PASSWORD_ARGON2_MEMORY_KIB: "1024",
          PASSWORD_ARGON2_PASSES: "1",
          RECOVERY_DELAY_MS: "50",
          RECOVERY_MAX_DELAY_MS: "400",
          // Low enough that a test can reach it; the production default is in wrangler.toml.
          LIVE_MAX_SOCKETS_PER_WALLET: "20",
          HOLD_MAX_AGE_MS: "1000",
          RATE_MONEY_PER_USER_PER_MINUTE: "150",
          OUTBOX_GRACE_MS: "1000",
          OUTBOX_RETRY_MAX_MS: "400",
          OUTBOX_FLUSH_DELAY_MS: "20",
          // Small, so that tests reach several batches and the bound on successes kept in memory (twice this).
          OUTBOX_BATCH_MAX: "10",
          // Small, so that a whole-ledger verification in a test reaches the wallets it leaves to the self-audit.
          VERIFY_WHOLE_MAX_WALLETS: "5",
          // A test's self-audit run checks its wallets at once instead of spreading them over half a minute.
          SELF_AUDIT_SPREAD_MS: "0",
          // Low, so that a statement test reaches it; the size at the production default is in docs/performance.md.
          STATEMENT_MAX_ENTRIES: "60",
          PHONE_ENC_KEY_ID: "test1",
          PHONE_ENC_KEY: "dGVzdC1waG9uZS1lbmNyeXB0aW9uLWtleS0zMmJ5dGU",
          PHONE_INDEX_KEY: "dGVzdC1waG9uZS1ibGluZC1pbmRleC1rZXktMzJieXQ",
          ADMIN_TOKEN: "test-admin-token-0123456789abcdefghijklmnop",
          RECEIPT_KEY_ID: "test-r1",
          RECEIPT_SIGNING_KEY: "MC4CAQAwBQYDK2VwBCIEIDhRvPLi6ekpwP77zOorAyflOe7JoD4yrGFFpg-FI0D9",
          SESSION_TOKEN_KEY: "dGVzdC1zZXNzaW9uLXRva2VuLW1hYy1rZXktMzJieXQ",
          // No test but test/workers/log.test.ts feeds the log, and it checks the coverage promise with its own
          // limit: the others must not see their entries reported as outside every checkpoint.
          LOG_COVER_MAX_MS: "86400000",
          // A test that arms the log's alarm (a Cron run) should not see it feed mid-file; log.test.ts feeds by hand.
          LOG_CHECKPOINT_INTERVAL_MS: "60000",
          // One witness, whose private key only test/workers/log.test.ts holds.
          LOG_WITNESS_KEYS: "witness.test+45264849+BDqbJPigMVRDCbTXSJQlsVIEPs+IBysP2kyWLxqAbi6w",
          LOG_SIGNING_KEY: "MC4CAQAwBQYDK2VwBCIEIHiBnf2fe-9waegk4UwDPFndnBiheODm645HZxz_-Tta",
        },
      },
    }),
  ],
  test: {
    include: ["test/workers/**/*.test.ts"],
    setupFiles: ["./test/workers/setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
