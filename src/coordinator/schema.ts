/**
 * The coordinator's SQLite schema: one row per movement (transfer, deposit or withdrawal) this user started.
 * The row is at once the durable intent that recovery resumes, the idempotency record (its key and request
 * hash, until the key expires and is cleared), the stored outcome that replays, and the outbox entry that
 * owes D1 an audit row and the entries' mirror rows (`outbox_pending`). Keeping all four in one row means a
 * movement costs one INSERT to start and one UPDATE to finish.
 *
 * It also holds the user's profile (handle, role, wallets) and sessions, so that checking a session is a read
 * in the object that every money movement of that user visits anyway.
 */
import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** Migration steps, applied in order by `migrate()`; never edit a step that has shipped, add one. */
export const COORDINATOR_MIGRATIONS: readonly string[] = [
  `CREATE TABLE movements (
     id TEXT PRIMARY KEY,
     kind TEXT NOT NULL CHECK (kind IN ('transfer', 'deposit', 'withdrawal')),
     user_id TEXT NOT NULL,
     state TEXT NOT NULL CHECK (state IN ('started', 'succeeded', 'failed')),
     idempotency_key TEXT UNIQUE,
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
     entries TEXT,
     created_at TEXT NOT NULL,
     created_at_ms INTEGER NOT NULL,
     completed_at TEXT,
     attempts INTEGER NOT NULL,
     next_attempt_at_ms INTEGER NOT NULL,
     outbox_pending INTEGER NOT NULL CHECK (outbox_pending IN (0, 1))
   ) STRICT;
   CREATE INDEX movements_open ON movements (next_attempt_at_ms) WHERE state = 'started';
   CREATE INDEX movements_outbox ON movements (created_at_ms) WHERE outbox_pending = 1;
   CREATE INDEX movements_keys ON movements (created_at_ms) WHERE idempotency_key IS NOT NULL;`,
  // Sessions move here from D1: the user this coordinator serves, and the hashes of their session tokens.
  `CREATE TABLE profile (
     user_id TEXT PRIMARY KEY,
     handle TEXT NOT NULL,
     role TEXT NOT NULL CHECK (role IN ('user', 'auditor')),
     wallet_ids TEXT NOT NULL
   ) STRICT;
   CREATE TABLE sessions (
     token_hash TEXT PRIMARY KEY,
     created_at_ms INTEGER NOT NULL,
     expires_at_ms INTEGER NOT NULL CHECK (expires_at_ms > created_at_ms)
   ) STRICT;
   CREATE INDEX sessions_expiry ON sessions (expires_at_ms);`,
];

export const movementsTable = sqliteTable("movements", {
  id: text("id").primaryKey(),
  kind: text("kind", { enum: ["transfer", "deposit", "withdrawal"] }).notNull(),
  user_id: text("user_id").notNull(),
  state: text("state", { enum: ["started", "succeeded", "failed"] }).notNull(),
  /** The Idempotency-Key, until it expires (then NULL; the movement stays readable). */
  idempotency_key: text("idempotency_key"),
  request_hash: text("request_hash").notNull(),
  request_id: text("request_id").notNull(),
  from_wallet_id: text("from_wallet_id"),
  to_wallet_id: text("to_wallet_id"),
  /** JSON of the recipient as requested (wallet id, handle or phone blind index). */
  recipient: text("recipient"),
  amount: integer("amount").notNull(),
  currency: text("currency"),
  memo: text("memo"),
  failure_code: text("failure_code"),
  /** JSON list of the wallets the user owned when they asked, for re-checking ownership on recovery. */
  owned_wallet_ids: text("owned_wallet_ids").notNull(),
  /** JSON list of the entries the movement produced (wallet id and entry), for the D1 mirror. */
  entries: text("entries"),
  created_at: text("created_at").notNull(),
  created_at_ms: integer("created_at_ms").notNull(),
  completed_at: text("completed_at"),
  attempts: integer("attempts").notNull(),
  next_attempt_at_ms: integer("next_attempt_at_ms").notNull(),
  /** 1 while D1 is still owed this movement's audit row and entry mirrors. */
  outbox_pending: integer("outbox_pending").notNull(),
});

export type MovementRow = typeof movementsTable.$inferSelect;

/** The one user this coordinator serves (one row), as of their last login or role change. */
export const profileTable = sqliteTable("profile", {
  user_id: text("user_id").primaryKey(),
  handle: text("handle").notNull(),
  role: text("role", { enum: ["user", "auditor"] }).notNull(),
  /** JSON list of the user's wallet ids, oldest first. */
  wallet_ids: text("wallet_ids").notNull(),
});

/** The user's live sessions, by the SHA-256 of their token; logging out deletes the row. */
export const sessionsTable = sqliteTable("sessions", {
  token_hash: text("token_hash").primaryKey(),
  created_at_ms: integer("created_at_ms").notNull(),
  expires_at_ms: integer("expires_at_ms").notNull(),
});
