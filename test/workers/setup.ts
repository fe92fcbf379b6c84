import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";

// Every test file starts from the migrated schema (applyD1Migrations skips what is already applied).
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
