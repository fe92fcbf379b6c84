import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";

// Every test file starts from the migrated schema (applyD1Migrations skips what is already applied).
// Every audit partition has the same schema (src/db/partitions.ts).
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
await applyD1Migrations(env.AUDIT_1, env.TEST_MIGRATIONS);
