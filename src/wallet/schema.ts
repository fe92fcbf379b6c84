/**
 * The wallet object's own SQLite schema: one `wallet` row, its `holds` (funds reserved by transfers in flight)
 * and its `entries` (the append-only, hash-chained history). The SQL below creates the tables (STRICT, with
 * CHECKs that restate the invariants) and the Drizzle definitions type the queries against them.
 */
import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { appendOnlyTriggers } from "../db/do-migrations";

/** Migration steps, applied in order by `migrate()`; never edit a step that has shipped, add one. */
export const WALLET_MIGRATIONS: readonly string[] = [
  `CREATE TABLE wallet (
     id TEXT PRIMARY KEY,
     owner_id TEXT NOT NULL,
     currency TEXT NOT NULL,
     balance INTEGER NOT NULL CHECK (balance >= 0),
     held INTEGER NOT NULL CHECK (held >= 0 AND held <= balance),
     version INTEGER NOT NULL CHECK (version >= 0),
     last_seq INTEGER NOT NULL CHECK (last_seq >= 0),
     head_hash TEXT NOT NULL,
     daily_day TEXT NOT NULL,
     daily_used INTEGER NOT NULL CHECK (daily_used >= 0),
     created_at TEXT NOT NULL
   ) STRICT;
   CREATE TABLE holds (
     transfer_id TEXT PRIMARY KEY,
     amount INTEGER NOT NULL CHECK (amount >= 0),
     state TEXT NOT NULL CHECK (state IN ('held', 'captured', 'released')),
     day TEXT NOT NULL,
     release_reason TEXT,
     created_at_ms INTEGER NOT NULL,
     resolved_at_ms INTEGER
   ) STRICT;
   CREATE INDEX holds_open ON holds (state) WHERE state = 'held';
   CREATE TABLE entries (
     seq INTEGER PRIMARY KEY CHECK (seq >= 1),
     id TEXT NOT NULL UNIQUE,
     kind TEXT NOT NULL CHECK (kind IN ('deposit', 'withdrawal', 'transfer_in', 'transfer_out')),
     amount INTEGER NOT NULL CHECK (amount <> 0),
     balance_after INTEGER NOT NULL CHECK (balance_after >= 0),
     transfer_id TEXT NOT NULL UNIQUE,
     counterparty TEXT,
     memo TEXT,
     created_at TEXT NOT NULL,
     prev_hash TEXT NOT NULL,
     hash TEXT NOT NULL
   ) STRICT;
   ${appendOnlyTriggers("entries")}`,
  // The continuous self-audit's mark: D1's copy of the chain was recomputed and matched through this seq.
  `ALTER TABLE wallet ADD COLUMN verified_seq INTEGER NOT NULL DEFAULT 0 CHECK (verified_seq >= 0);
   ALTER TABLE wallet ADD COLUMN verified_hash TEXT NOT NULL DEFAULT '${"0".repeat(64)}';`,
  // Refunds (contract v1.1): an entry names the transfer it gives money back for (outside the hash, which
  // keeps its v1 form), and a refund's hold does not count toward the daily limit, so its release gives none back.
  `ALTER TABLE entries ADD COLUMN refund_of TEXT;
   ALTER TABLE holds ADD COLUMN daily_counted INTEGER NOT NULL DEFAULT 1 CHECK (daily_counted IN (0, 1));`,
  // History filters and statements (wallet/history-queries.ts): each filtered page walks one of these in `seq`
  // order and stops after a page, so it costs O(page) however long the history is. `created_at` turns a time
  // range into a `seq` range; the others serve `kind`, `counterparty`, and both together.
  `CREATE INDEX entries_created_at ON entries (created_at, seq);
   CREATE INDEX entries_kind_seq ON entries (kind, seq);
   CREATE INDEX entries_counterparty_seq ON entries (counterparty, seq);
   CREATE INDEX entries_counterparty_kind_seq ON entries (counterparty, kind, seq);`,
];

export const walletTable = sqliteTable("wallet", {
  id: text("id").primaryKey(),
  owner_id: text("owner_id").notNull(),
  currency: text("currency").notNull(),
  balance: integer("balance").notNull(),
  held: integer("held").notNull(),
  version: integer("version").notNull(),
  last_seq: integer("last_seq").notNull(),
  head_hash: text("head_hash").notNull(),
  daily_day: text("daily_day").notNull(),
  daily_used: integer("daily_used").notNull(),
  created_at: text("created_at").notNull(),
  verified_seq: integer("verified_seq").notNull(),
  verified_hash: text("verified_hash").notNull(),
});

export const holdsTable = sqliteTable("holds", {
  transfer_id: text("transfer_id").primaryKey(),
  amount: integer("amount").notNull(),
  state: text("state", { enum: ["held", "captured", "released"] }).notNull(),
  day: text("day").notNull(),
  release_reason: text("release_reason"),
  created_at_ms: integer("created_at_ms").notNull(),
  resolved_at_ms: integer("resolved_at_ms"),
  /** 1 when the hold's amount was added to the daily counter (every hold but a refund's). */
  daily_counted: integer("daily_counted").notNull(),
});

export const entriesTable = sqliteTable("entries", {
  seq: integer("seq").primaryKey(),
  id: text("id").notNull(),
  kind: text("kind", { enum: ["deposit", "withdrawal", "transfer_in", "transfer_out"] }).notNull(),
  amount: integer("amount").notNull(),
  balance_after: integer("balance_after").notNull(),
  transfer_id: text("transfer_id").notNull(),
  counterparty: text("counterparty"),
  memo: text("memo"),
  created_at: text("created_at").notNull(),
  prev_hash: text("prev_hash").notNull(),
  hash: text("hash").notNull(),
  /** The transfer this entry's refund gives money back for; null otherwise. Not part of the hash. */
  refund_of: text("refund_of"),
});

export type WalletRow = typeof walletTable.$inferSelect;
export type HoldRow = typeof holdsTable.$inferSelect;
export type EntryRow = typeof entriesTable.$inferSelect;
