/**
 * The coordinator's SQLite schema. `movements` is the state of every transfer, deposit and withdrawal this
 * user started (the durable intent that recovery resumes, and the outcome that replays); `idempotency` maps
 * each key to its movement and request hash until the key expires; `outbox` holds audit rows and entry
 * mirrors until D1 has them.
 */
import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** Migration steps, applied in order by `migrate()`; never edit a step that has shipped, add one. */
export const COORDINATOR_MIGRATIONS: readonly string[] = [
  `CREATE TABLE movements (
     id TEXT PRIMARY KEY,
     kind TEXT NOT NULL CHECK (kind IN ('transfer', 'deposit', 'withdrawal')),
     user_id TEXT NOT NULL,
     state TEXT NOT NULL CHECK (state IN ('started', 'succeeded', 'failed')),
     request_hash TEXT NOT NULL,
     request_id TEXT NOT NULL,
     from_wallet_id TEXT,
     to_wallet_id TEXT,
     recipient TEXT,
     amount INTEGER NOT NULL CHECK (amount >= 1),
     currency TEXT,
     memo TEXT,
     failure_code TEXT,
     owned_wallet_ids TEXT NOT NULL,
     created_at TEXT NOT NULL,
     completed_at TEXT,
     attempts INTEGER NOT NULL DEFAULT 0,
     next_attempt_at_ms INTEGER NOT NULL
   ) STRICT;
   CREATE INDEX movements_open ON movements (next_attempt_at_ms) WHERE state = 'started';
   CREATE TABLE idempotency (
     key TEXT PRIMARY KEY,
     request_hash TEXT NOT NULL,
     movement_id TEXT NOT NULL,
     created_at_ms INTEGER NOT NULL
   ) STRICT;
   CREATE INDEX idempotency_age ON idempotency (created_at_ms);
   CREATE TABLE outbox (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     payload TEXT NOT NULL
   ) STRICT;`,
];

export const movementsTable = sqliteTable("movements", {
  id: text("id").primaryKey(),
  kind: text("kind", { enum: ["transfer", "deposit", "withdrawal"] }).notNull(),
  user_id: text("user_id").notNull(),
  state: text("state", { enum: ["started", "succeeded", "failed"] }).notNull(),
  request_hash: text("request_hash").notNull(),
  request_id: text("request_id").notNull(),
  from_wallet_id: text("from_wallet_id"),
  to_wallet_id: text("to_wallet_id"),
  recipient: text("recipient"),
  amount: integer("amount").notNull(),
  currency: text("currency"),
  memo: text("memo"),
  failure_code: text("failure_code"),
  owned_wallet_ids: text("owned_wallet_ids").notNull(),
  created_at: text("created_at").notNull(),
  completed_at: text("completed_at"),
  attempts: integer("attempts").notNull(),
  next_attempt_at_ms: integer("next_attempt_at_ms").notNull(),
});

export const idempotencyTable = sqliteTable("idempotency", {
  key: text("key").primaryKey(),
  request_hash: text("request_hash").notNull(),
  movement_id: text("movement_id").notNull(),
  created_at_ms: integer("created_at_ms").notNull(),
});

export const outboxTable = sqliteTable("outbox", {
  seq: integer("seq").primaryKey({ autoIncrement: true }),
  payload: text("payload").notNull(),
});

export type MovementRow = typeof movementsTable.$inferSelect;
