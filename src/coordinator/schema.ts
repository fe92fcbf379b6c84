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
import { EVENTS_MIGRATION } from "./events";

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
  // Contract v1.1. A movement may be a refund (`refund_of`) or pay a request (`payment_request_id`).
  // `refund_rooms`: for each transfer this user sent, the refunds claimed against it; the sum of the claimed and
  // succeeded ones never passes the transfer's amount, checked and written in one transaction here, the one
  // object that owns the transfer. A released claim stays, so a re-run of its refund finds the same answer.
  // `payment_requests`: requests this user made (this object is their one authority; a pay claims one here).
  // `replies`: answers to keyed POSTs that move no money, replayed to a repeat of the key.
  `ALTER TABLE movements ADD COLUMN refund_of TEXT;
   ALTER TABLE movements ADD COLUMN payment_request_id TEXT;
   CREATE INDEX movements_sent ON movements (created_at_ms) WHERE kind = 'transfer';
   CREATE TABLE refund_rooms (
     refund_id TEXT PRIMARY KEY,
     transfer_id TEXT NOT NULL,
     amount INTEGER NOT NULL CHECK (amount >= 1),
     state TEXT NOT NULL CHECK (state IN ('claimed', 'succeeded', 'released')),
     release_reason TEXT,
     created_at_ms INTEGER NOT NULL
   ) STRICT;
   CREATE INDEX refund_rooms_transfer ON refund_rooms (transfer_id, state);
   CREATE TABLE payment_requests (
     id TEXT PRIMARY KEY,
     status TEXT NOT NULL CHECK (status IN ('open', 'paid', 'declined', 'cancelled', 'expired')),
     requester TEXT NOT NULL,
     requester_wallet_id TEXT NOT NULL,
     payer_user_id TEXT NOT NULL,
     payer TEXT NOT NULL,
     amount INTEGER NOT NULL CHECK (amount >= 1),
     currency TEXT NOT NULL,
     memo TEXT,
     split_id TEXT,
     created_at TEXT NOT NULL,
     created_at_ms INTEGER NOT NULL,
     expires_at_ms INTEGER NOT NULL CHECK (expires_at_ms > created_at_ms),
     resolved_at TEXT,
     transfer_id TEXT,
     claimed_by TEXT,
     notify_pending INTEGER NOT NULL CHECK (notify_pending IN (0, 1)),
     CHECK ((status = 'open') = (resolved_at IS NULL)),
     CHECK ((status = 'paid') = (transfer_id IS NOT NULL)),
     CHECK (claimed_by IS NULL OR status = 'open')
   ) STRICT;
   CREATE INDEX payment_requests_open ON payment_requests (expires_at_ms) WHERE status = 'open';
   CREATE INDEX payment_requests_created ON payment_requests (created_at_ms, id);
   CREATE INDEX payment_requests_split ON payment_requests (split_id) WHERE split_id IS NOT NULL;
   CREATE INDEX payment_requests_notify ON payment_requests (id) WHERE notify_pending = 1;
   CREATE TABLE incoming_requests (
     id TEXT PRIMARY KEY,
     requester_id TEXT NOT NULL,
     status TEXT NOT NULL CHECK (status IN ('admitted', 'open', 'paid', 'declined', 'cancelled', 'expired')),
     day TEXT NOT NULL,
     created_at_ms INTEGER NOT NULL
   ) STRICT;
   CREATE INDEX incoming_requests_list ON incoming_requests (created_at_ms, id);
   CREATE INDEX incoming_requests_day ON incoming_requests (day);
   CREATE TABLE replies (
     idempotency_key TEXT PRIMARY KEY,
     request_hash TEXT NOT NULL,
     request_id TEXT NOT NULL,
     result TEXT,
     created_at_ms INTEGER NOT NULL
   ) STRICT;
   CREATE INDEX replies_age ON replies (created_at_ms);`,
  // GET /transfers in O(page) for every filter (issue 14). A page of sent transfers walks one index whose
  // leading columns are the filter's equalities and whose tail is (created_at_ms, id), the page's order, so it
  // reads the rows it returns and no others (coordinator/sent-queries.ts names each index with INDEXED BY).
  // `state` is the last equality so a listing without a status reads each of the three states and merges.
  // The counterparty indexes hold only rows whose recipient the sender may see (movementView: a success, or a
  // refusal of a wallet id the sender named), so a filter by counterparty never reads a row it must hide.
  // `movements_sent` gives way to the same walk with `id` as the tie-breaker, which spares a sort of ties.
  `DROP INDEX movements_sent;
   CREATE INDEX movements_sent_time ON movements (created_at_ms, id) WHERE kind = 'transfer';
   CREATE INDEX movements_sent_state ON movements (state, created_at_ms, id) WHERE kind = 'transfer';
   CREATE INDEX movements_sent_from ON movements (from_wallet_id, state, created_at_ms, id) WHERE kind = 'transfer';
   CREATE INDEX movements_sent_to ON movements (to_wallet_id, state, created_at_ms, id)
     WHERE kind = 'transfer' AND (state = 'succeeded' OR json_extract(recipient, '$.wallet_id') = to_wallet_id);
   CREATE INDEX movements_sent_from_to ON movements (from_wallet_id, to_wallet_id, state, created_at_ms, id)
     WHERE kind = 'transfer' AND (state = 'succeeded' OR json_extract(recipient, '$.wallet_id') = to_wallet_id);`,
  // API keys (issue 16): the SHA-256 of each key the user made, with its name and scopes. Revoking deletes the
  // row; at most API_KEYS_MAX_PER_USER rows, so the list needs no index beyond the key hash's.
  `CREATE TABLE api_keys (
     id TEXT PRIMARY KEY,
     key_hash TEXT NOT NULL UNIQUE,
     name TEXT NOT NULL,
     scopes TEXT NOT NULL,
     created_at TEXT NOT NULL,
     created_at_ms INTEGER NOT NULL,
     last_used_at_ms INTEGER
   ) STRICT;`,
  // Contract v1.1 events and webhooks (issue 16): the user's event log, events owed to other users'
  // coordinators, webhook endpoints and their deliveries (coordinator/events.ts).
  EVENTS_MIGRATION,
  // GET /me/contacts (review of session 10): the request a transfer paid, found by that transfer's id, so that a
  // payment of a request addressed to a phone is known as such however many requests came after it.
  `CREATE INDEX payment_requests_paid_by ON payment_requests (transfer_id) WHERE transfer_id IS NOT NULL;`,
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
  /** The transfer this refund gives money back for; null for anything else. */
  refund_of: text("refund_of"),
  /** The payment request this transfer pays; null for anything else. */
  payment_request_id: text("payment_request_id"),
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

/** A refund claimed against a transfer this user sent: the room it takes, until it succeeds or is released. */
export const refundRoomsTable = sqliteTable("refund_rooms", {
  refund_id: text("refund_id").primaryKey(),
  transfer_id: text("transfer_id").notNull(),
  amount: integer("amount").notNull(),
  state: text("state", { enum: ["claimed", "succeeded", "released"] }).notNull(),
  release_reason: text("release_reason"),
  created_at_ms: integer("created_at_ms").notNull(),
});

export type RefundRoomRow = typeof refundRoomsTable.$inferSelect;

/** A payment request this user made; this object is its one authority. */
export const paymentRequestsTable = sqliteTable("payment_requests", {
  id: text("id").primaryKey(),
  status: text("status", { enum: ["open", "paid", "declined", "cancelled", "expired"] }).notNull(),
  /** JSON `{handle, display_name}` of the requester when the request was made. */
  requester: text("requester").notNull(),
  requester_wallet_id: text("requester_wallet_id").notNull(),
  payer_user_id: text("payer_user_id").notNull(),
  /** JSON of the payer as the requester may see them: `{handle, display_name}` or `{phone}` (masked). */
  payer: text("payer").notNull(),
  amount: integer("amount").notNull(),
  currency: text("currency").notNull(),
  memo: text("memo"),
  split_id: text("split_id"),
  created_at: text("created_at").notNull(),
  created_at_ms: integer("created_at_ms").notNull(),
  expires_at_ms: integer("expires_at_ms").notNull(),
  resolved_at: text("resolved_at"),
  transfer_id: text("transfer_id"),
  /** The pay (movement id) that holds the request while it moves money; other pays, declines and cancels wait. */
  claimed_by: text("claimed_by"),
  /** 1 until the payer's coordinator has heard of the latest status (its inbox and live feed). */
  notify_pending: integer("notify_pending").notNull(),
});

/** The payer's side: requests this user received, with their status as last heard, for the inbox. */
export const incomingRequestsTable = sqliteTable("incoming_requests", {
  id: text("id").primaryKey(),
  requester_id: text("requester_id").notNull(),
  /** `admitted` until the requester's coordinator has created it (hidden from the inbox until then). */
  status: text("status", { enum: ["admitted", "open", "paid", "declined", "cancelled", "expired"] }).notNull(),
  /** The UTC day it was admitted: the per-payer daily limit counts these. */
  day: text("day").notNull(),
  created_at_ms: integer("created_at_ms").notNull(),
});

export type PaymentRequestRow = typeof paymentRequestsTable.$inferSelect;

/** The answer to a keyed POST that moves no money, replayed to a repeat of its key. */
export const repliesTable = sqliteTable("replies", {
  idempotency_key: text("idempotency_key").primaryKey(),
  request_hash: text("request_hash").notNull(),
  request_id: text("request_id").notNull(),
  /** JSON of the result; null while the first request is still running. */
  result: text("result"),
  created_at_ms: integer("created_at_ms").notNull(),
});

/** The user's API keys, by the SHA-256 of the key; revoking deletes the row. */
export const apiKeysTable = sqliteTable("api_keys", {
  id: text("id").primaryKey(),
  key_hash: text("key_hash").notNull(),
  name: text("name").notNull(),
  /** JSON list of the key's scopes. */
  scopes: text("scopes").notNull(),
  created_at: text("created_at").notNull(),
  created_at_ms: integer("created_at_ms").notNull(),
  /** When the key was last used, to LAST_USED_RESOLUTION_MS (coordinator/api-keys.ts); null before its first use. */
  last_used_at_ms: integer("last_used_at_ms"),
});
