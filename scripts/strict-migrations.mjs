// drizzle-kit cannot emit STRICT tables, so after `drizzle-kit generate` this rewrites every CREATE TABLE in
// migrations/*.sql to end in `STRICT`. It is idempotent: a table that is already STRICT is left alone.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const dir = new URL("../migrations/", import.meta.url).pathname;
for (const name of readdirSync(dir).filter((f) => f.endsWith(".sql"))) {
  const path = join(dir, name);
  const before = readFileSync(path, "utf8");
  const after = before.replace(/(CREATE TABLE [^;]*?\n\))(;)/g, (_, table, semi) => `${table} STRICT${semi}`);
  if (after !== before) {
    writeFileSync(path, after);
    console.log(`strict-migrations: ${name} made STRICT`);
  }
}
