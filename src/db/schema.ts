/**
 * The D1 schema (Drizzle): the directory of users and wallets, and the append-only audit log and entry
 * mirror (sessions live in each user's coordinator). `drizzle-kit generate` turns this file into the numbered SQL files in migrations/, and
 * scripts/strict-migrations.mjs makes every table STRICT; the append-only triggers are a custom migration.
 */
import { sql } from "drizzle-orm";
import { check, index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

export const users = sqliteTable(
  "users",
  {
    id: text("id").primaryKey(),
    handle: text("handle").notNull(),
    display_name: text("display_name").notNull(),
    password_hash: text("password_hash").notNull(),
    role: text("role", { enum: ["user", "auditor"] })
      .notNull()
      .default("user"),
    /** AES-GCM ciphertext of the phone number (base64), never the number itself. */
    phone_cipher: text("phone_cipher"),
    /** Which key encrypted `phone_cipher`, so keys can rotate. */
    phone_key_id: text("phone_key_id"),
    /** HMAC-SHA-256 of the phone number under a separate key: a blind index for lookup. */
    phone_index: text("phone_index"),
    created_at: text("created_at").notNull(),
  },
  (t) => [
    uniqueIndex("users_handle").on(t.handle),
    uniqueIndex("users_phone_index").on(t.phone_index),
    check("users_role", sql`${t.role} IN ('user', 'auditor')`),
  ],
);

export const wallets = sqliteTable(
  "wallets",
  {
    id: text("id").primaryKey(),
    owner_id: text("owner_id")
      .notNull()
      .references(() => users.id),
    currency: text("currency").notNull(),
    created_at: text("created_at").notNull(),
  },
  // One wallet per currency per user (contract v1.1: 409 wallet_exists); the insert of a new one relies on it.
  (t) => [index("wallets_owner").on(t.owner_id), uniqueIndex("wallets_owner_currency").on(t.owner_id, t.currency)],
);

export const auditLog = sqliteTable(
  "audit_log",
  {
    /** Insertion order in D1, for stable pagination. */
    seq: integer("seq").primaryKey({ autoIncrement: true }),
    id: text("id").notNull(),
    transfer_id: text("transfer_id").notNull(),
    kind: text("kind", { enum: ["transfer", "deposit", "withdrawal"] }).notNull(),
    status: text("status", { enum: ["succeeded", "failed"] }).notNull(),
    user_id: text("user_id").notNull(),
    from_wallet_id: text("from_wallet_id"),
    to_wallet_id: text("to_wallet_id"),
    amount: integer("amount").notNull(),
    currency: text("currency"),
    failure_code: text("failure_code"),
    created_at: text("created_at").notNull(),
    /** The transfer this one gives money back for (a refund), else null. */
    refund_of: text("refund_of"),
    /** The payment request this transfer paid, else null. */
    payment_request_id: text("payment_request_id"),
    /**
     * 1: this partition is the movement's home, the one row `GET /audit` lists. 0: a copy, kept in the partition
     * of a wallet the movement left an entry in, so that every check joining entries to their audit row stays
     * inside one database (docs/architecture.md, "Partitioned audit store").
     */
    home: integer("home").notNull().default(1),
  },
  (t) => [
    uniqueIndex("audit_log_id").on(t.id),
    // GET /audit's order, newest first, across partitions: (created_at, transfer_id) is a total order.
    index("audit_log_home_created")
      .on(t.created_at, t.transfer_id)
      .where(sql`${t.home} = 1`),
    uniqueIndex("audit_log_transfer").on(t.transfer_id),
    index("audit_log_from").on(t.from_wallet_id),
    index("audit_log_to").on(t.to_wallet_id),
    index("audit_log_refund_of").on(t.refund_of),
    check("audit_log_kind", sql`${t.kind} IN ('transfer', 'deposit', 'withdrawal')`),
    check("audit_log_status", sql`${t.status} IN ('succeeded', 'failed')`),
    check("audit_log_amount", sql`${t.amount} >= 1`),
  ],
);

export const ledgerEntries = sqliteTable(
  "ledger_entries",
  {
    wallet_id: text("wallet_id").notNull(),
    seq: integer("seq").notNull(),
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
    /** The transfer a refund's entry gives money back for, else null (not part of the hash). */
    refund_of: text("refund_of"),
  },
  (t) => [
    primaryKey({ columns: [t.wallet_id, t.seq] }),
    index("ledger_entries_transfer").on(t.transfer_id),
    check("ledger_entries_kind", sql`${t.kind} IN ('deposit', 'withdrawal', 'transfer_in', 'transfer_out')`),
    check("ledger_entries_seq", sql`${t.seq} >= 1`),
    check("ledger_entries_balance", sql`${t.balance_after} >= 0`),
  ],
);

/**
 * The continuous self-audit's progress per wallet: D1's chain has been recomputed and matched against the
 * wallet object through `seq` (whose hash is `hash`). Mutable by design: it only moves forward.
 */
export const verifiedMarks = sqliteTable(
  "verified_marks",
  {
    wallet_id: text("wallet_id").primaryKey(),
    seq: integer("seq").notNull(),
    hash: text("hash").notNull(),
    balance: integer("balance").notNull(),
    verified_at: text("verified_at").notNull(),
  },
  (t) => [check("verified_marks_seq", sql`${t.seq} >= 0`)],
);

/** What the self-audit found wrong, append-only, for operators and the auditor screen. */
export const auditFindings = sqliteTable(
  "audit_findings",
  {
    seq: integer("seq").primaryKey({ autoIncrement: true }),
    wallet_id: text("wallet_id"),
    entry_seq: integer("entry_seq"),
    kind: text("kind").notNull(),
    detail: text("detail").notNull(),
    found_at: text("found_at").notNull(),
  },
  (t) => [index("audit_findings_wallet").on(t.wallet_id)],
);

/**
 * Where each Cron job has got to, one row per job, so that a run continues where the last one stopped instead
 * of starting over: `self_audit` holds the last `audit_log.seq` whose wallets it has audited (as text), and
 * `recovery_sweep` the last user id whose coordinator it has woken ('' to start again from the first).
 * Mutable by design; the self-audit's position only moves forward.
 */
export const cronCursors = sqliteTable(
  "cron_cursors",
  {
    name: text("name", { enum: ["self_audit", "recovery_sweep"] }).primaryKey(),
    position: text("position").notNull(),
    updated_at: text("updated_at").notNull(),
  },
  (t) => [check("cron_cursors_name", sql`${t.name} IN ('self_audit', 'recovery_sweep')`)],
);
