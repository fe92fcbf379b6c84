import { defineConfig } from "drizzle-kit";

/** drizzle-kit generates the numbered D1 migrations in migrations/ from src/db/schema.ts. */
export default defineConfig({
  dialect: "sqlite",
  schema: "./src/db/schema.ts",
  out: "./migrations",
});
