/**
 * Every limit the service enforces, read from the Worker's `[vars]` (wrangler.toml) and validated here,
 * where it is configured. A value out of its range stops the Worker at the first request with a message that
 * names the variable, rather than letting a typo silently weaken a limit.
 */
import { isCurrencyCode } from "./domain/currency";
import { JITTER_MAX_FACTOR } from "./domain/delays";
import { parseEventConfig, type EventConfig, type EventVarName } from "./config/events";
import { parseLogConfig, type LogConfig, type LogVarName } from "./config/log";
import { DAY_MS, integer, onOff } from "./config/parse";
import { openPartitions, partitionNames, type PartitionsConfig, type PartitionsVarName } from "./config/partitions";
import { parseRateLimitConfig, type RateLimitConfig, type RateLimitVarName } from "./config/rate-limits";

export { LOG_WITNESSES_MAX } from "./config/log";
export { AUDIT_PARTITIONS_MAX } from "./config/partitions";

/**
 * The validated limits. Units are the last part of each name. The limits of the log, the rate limits, the
 * events and webhooks, and the audit partitions are declared (and parsed) in their own files under src/config/.
 */
export interface Config extends LogConfig, RateLimitConfig, EventConfig, PartitionsConfig {
  readonly max_body_bytes: number;
  readonly history_page_default: number;
  readonly history_page_max: number;
  /** The most entries one statement may hold (GET /wallets/{id}/statement); more is 422 `limit_exceeded`. */
  readonly statement_max_entries: number;
  readonly audit_page_default: number;
  readonly audit_page_max: number;
  /** The most time buckets one GET /audit/totals may ask for. */
  readonly audit_totals_buckets_max: number;
  /** The longest window, in days, one GET /audit/totals may span. */
  readonly audit_totals_window_days_max: number;
  readonly memo_max_chars: number;
  readonly display_name_max_chars: number;
  readonly text_max_marks_per_grapheme: number;
  readonly text_max_code_points_per_grapheme: number;
  readonly idempotency_retention_ms: number;
  readonly daily_limit_minor: number;
  readonly max_balance_minor: number;
  readonly session_ttl_ms: number;
  readonly sessions_max_per_user: number;
  readonly password_cost: { memory_kib: number; passes: number };
  readonly wallet_call_max_attempts: number;
  readonly wallet_call_retry_base_ms: number;
  readonly wallet_call_retry_max_ms: number;
  readonly recovery_delay_ms: number;
  readonly recovery_max_delay_ms: number;
  readonly outbox_batch_max: number;
  readonly outbox_flush_delay_ms: number;
  readonly group_commit_max_ops: number;
  readonly live_max_sockets_per_wallet: number;
  readonly live_max_inbound_bytes: number;
  readonly live_max_inbound_per_minute: number;
  readonly live_resume_max_entries: number;
  readonly live_max_unread_bytes: number;
  readonly verify_page_max: number;
  readonly hold_max_age_ms: number;
  readonly outbox_grace_ms: number;
  /** The cap on the outbox's back-off while D1 refuses writes: how long D1 may stay behind once it is back. */
  readonly outbox_retry_max_ms: number;
  readonly self_audit_wallets_per_run: number;
  /** Wallets a whole-ledger verification checks live; the self-audit's marks cover the rest. */
  readonly verify_whole_max_wallets: number;
  /** Coordinators the Cron's recovery sweep wakes per run (src/cron/recovery-sweep.ts). */
  readonly recovery_sweep_per_run: number;
  readonly self_audit_entries_per_wallet: number;
  readonly self_audit_spread_ms: number;
  readonly allowed_origins: readonly string[];
  readonly default_currency: string;
  /** Wallets one user may hold (one per currency). */
  readonly wallets_max_per_user: number;
  /** Payment requests one user may have open at once, as requester. */
  readonly requests_max_open_per_user: number;
  /** New payment requests one payer may receive per UTC day (spam). */
  readonly requests_max_per_payer_per_day: number;
  /** Shares in one split. */
  readonly split_max_shares: number;
  /** API keys one user may hold at once (revoked ones do not count). */
  readonly api_keys_max_per_user: number;
  /**
   * Test mode only: every error answer is checked against its route's declared codes (api/declared-errors.ts).
   * Not a limit; off in wrangler.toml, on only in the tests' environments.
   */
  readonly check_error_codes: boolean;
}

/** The subset of the Worker environment that carries limits; every value arrives as a string. */
export type ConfigVars = { readonly [K in ConfigVarName]: string };

type ConfigVarName =
  | RateLimitVarName
  | LogVarName
  | EventVarName
  | PartitionsVarName
  | "MAX_BODY_BYTES"
  | "HISTORY_PAGE_DEFAULT"
  | "HISTORY_PAGE_MAX"
  | "STATEMENT_MAX_ENTRIES"
  | "AUDIT_PAGE_DEFAULT"
  | "AUDIT_PAGE_MAX"
  | "AUDIT_TOTALS_BUCKETS_MAX"
  | "AUDIT_TOTALS_WINDOW_DAYS_MAX"
  | "MEMO_MAX_CHARS"
  | "DISPLAY_NAME_MAX_CHARS"
  | "TEXT_MAX_MARKS_PER_GRAPHEME"
  | "TEXT_MAX_CODE_POINTS_PER_GRAPHEME"
  | "IDEMPOTENCY_RETENTION_MS"
  | "DAILY_LIMIT_MINOR"
  | "MAX_BALANCE_MINOR"
  | "SESSION_TTL_MS"
  | "SESSIONS_MAX_PER_USER"
  | "PASSWORD_ARGON2_MEMORY_KIB"
  | "PASSWORD_ARGON2_PASSES"
  | "WALLET_CALL_MAX_ATTEMPTS"
  | "WALLET_CALL_RETRY_BASE_MS"
  | "WALLET_CALL_RETRY_MAX_MS"
  | "RECOVERY_DELAY_MS"
  | "RECOVERY_MAX_DELAY_MS"
  | "OUTBOX_BATCH_MAX"
  | "OUTBOX_FLUSH_DELAY_MS"
  | "GROUP_COMMIT_MAX_OPS"
  | "LIVE_MAX_SOCKETS_PER_WALLET"
  | "LIVE_MAX_INBOUND_BYTES"
  | "LIVE_MAX_INBOUND_PER_MINUTE"
  | "LIVE_RESUME_MAX_ENTRIES"
  | "LIVE_MAX_UNREAD_BYTES"
  | "VERIFY_PAGE_MAX"
  | "HOLD_MAX_AGE_MS"
  | "OUTBOX_GRACE_MS"
  | "OUTBOX_RETRY_MAX_MS"
  | "VERIFY_WHOLE_MAX_WALLETS"
  | "SELF_AUDIT_WALLETS_PER_RUN"
  | "RECOVERY_SWEEP_PER_RUN"
  | "SELF_AUDIT_ENTRIES_PER_WALLET"
  | "SELF_AUDIT_SPREAD_MS"
  | "ALLOWED_ORIGINS"
  | "DEFAULT_CURRENCY"
  | "WALLETS_MAX_PER_USER"
  | "REQUESTS_MAX_OPEN_PER_USER"
  | "REQUESTS_MAX_PER_PAYER_PER_DAY"
  | "SPLIT_MAX_SHARES"
  | "API_KEYS_MAX_PER_USER"
  | "CHECK_ERROR_CODES";

/** Parses and range-checks every limit; throws an Error naming the first bad variable. */
export function parseConfig(vars: ConfigVars): Config {
  const audit_partitions = partitionNames(vars.AUDIT_PARTITIONS);
  const config: Config = {
    max_body_bytes: integer(vars, "MAX_BODY_BYTES", 1_024, 1_048_576),
    history_page_default: integer(vars, "HISTORY_PAGE_DEFAULT", 1, 1_000),
    history_page_max: integer(vars, "HISTORY_PAGE_MAX", 1, 1_000),
    // The whole statement is held in memory to be checked and signed before it is sent (about 1 KiB an
    // entry, docs/performance.md), so the ceiling keeps it well inside a Worker's 128 MB.
    statement_max_entries: integer(vars, "STATEMENT_MAX_ENTRIES", 1, 50_000),
    audit_page_default: integer(vars, "AUDIT_PAGE_DEFAULT", 1, 1_000),
    audit_page_max: integer(vars, "AUDIT_PAGE_MAX", 1, 1_000),
    // The totals answer one pair of sums per bucket, and a chart needs no more points than it has pixels.
    audit_totals_buckets_max: integer(vars, "AUDIT_TOTALS_BUCKETS_MAX", 1, 1_000),
    audit_totals_window_days_max: integer(vars, "AUDIT_TOTALS_WINDOW_DAYS_MAX", 1, 3_660),
    memo_max_chars: integer(vars, "MEMO_MAX_CHARS", 0, 1_000),
    display_name_max_chars: integer(vars, "DISPLAY_NAME_MAX_CHARS", 1, 256),
    // Room for a keycap emoji (two marks) and for the longest emoji sequence (10 code points); a few dozen at most.
    text_max_marks_per_grapheme: integer(vars, "TEXT_MAX_MARKS_PER_GRAPHEME", 2, 32),
    text_max_code_points_per_grapheme: integer(vars, "TEXT_MAX_CODE_POINTS_PER_GRAPHEME", 10, 64),
    // The contract promises at least 24 hours.
    idempotency_retention_ms: integer(vars, "IDEMPOTENCY_RETENTION_MS", DAY_MS, 30 * DAY_MS),
    daily_limit_minor: integer(vars, "DAILY_LIMIT_MINOR", 1, Number.MAX_SAFE_INTEGER),
    // Capped well below 2^53 so that a balance plus any amount is still a safe integer; sums over many wallets
    // are compared in SQLite, exact to 2^63 (audit/verify.ts).
    max_balance_minor: integer(vars, "MAX_BALANCE_MINOR", 1, 1_000_000_000_000_000),
    session_ttl_ms: integer(vars, "SESSION_TTL_MS", 60_000, 90 * DAY_MS),
    sessions_max_per_user: integer(vars, "SESSIONS_MAX_PER_USER", 1, 1_000),
    // OWASP asks for at least 19,456 KiB and 2 passes; the floor here is lower only so tests can run cheaply
    // (test/workers/password.test.ts checks that the shipped default meets OWASP). The ceiling keeps a hash
    // inside a Worker's 128 MB of memory.
    password_cost: {
      memory_kib: integer(vars, "PASSWORD_ARGON2_MEMORY_KIB", 1_024, 65_536),
      passes: integer(vars, "PASSWORD_ARGON2_PASSES", 1, 10),
    },
    wallet_call_max_attempts: integer(vars, "WALLET_CALL_MAX_ATTEMPTS", 1, 10),
    wallet_call_retry_base_ms: integer(vars, "WALLET_CALL_RETRY_BASE_MS", 1, 10_000),
    wallet_call_retry_max_ms: integer(vars, "WALLET_CALL_RETRY_MAX_MS", 1, 60_000),
    recovery_delay_ms: integer(vars, "RECOVERY_DELAY_MS", 10, 600_000),
    recovery_max_delay_ms: integer(vars, "RECOVERY_MAX_DELAY_MS", 100, 3_600_000),
    // A D1 batch is one transaction of at most ~1,000 statements; each movement takes up to three.
    outbox_batch_max: integer(vars, "OUTBOX_BATCH_MAX", 1, 300),
    // Below the grace period in which the verifier counts an entry as on its way, never a problem.
    outbox_flush_delay_ms: integer(vars, "OUTBOX_FLUSH_DELAY_MS", 0, 30_000),
    // One commit holds every write of its group in memory until it is durable; keep groups modest.
    group_commit_max_ops: integer(vars, "GROUP_COMMIT_MAX_OPS", 1, 1_000),
    // Cloudflare allows 32,768 WebSockets per object; we stay well below.
    live_max_sockets_per_wallet: integer(vars, "LIVE_MAX_SOCKETS_PER_WALLET", 1, 30_000),
    live_max_inbound_bytes: integer(vars, "LIVE_MAX_INBOUND_BYTES", 64, 65_536),
    live_max_inbound_per_minute: integer(vars, "LIVE_MAX_INBOUND_PER_MINUTE", 1, 6_000),
    live_resume_max_entries: integer(vars, "LIVE_RESUME_MAX_ENTRIES", 1, 1_000),
    // At least a snapshot and a few changes; at most 16 MiB per socket, which the runtime holds in memory.
    live_max_unread_bytes: integer(vars, "LIVE_MAX_UNREAD_BYTES", 16_384, 16_777_216),
    verify_page_max: integer(vars, "VERIFY_PAGE_MAX", 1, 1_000),
    // About three subrequests per wallet (of 10,000 per request on the paid plan), more for long chains.
    verify_whole_max_wallets: integer(vars, "VERIFY_WHOLE_MAX_WALLETS", 1, 2_500),
    hold_max_age_ms: integer(vars, "HOLD_MAX_AGE_MS", 1_000, 7 * DAY_MS),
    outbox_grace_ms: integer(vars, "OUTBOX_GRACE_MS", 1_000, DAY_MS),
    // Below the grace period, so that an entry delayed by an outage is delivered soon after D1 is back.
    outbox_retry_max_ms: integer(vars, "OUTBOX_RETRY_MAX_MS", 100, 3_600_000),
    // A run must stay within a Worker invocation's subrequest budget (10,000 on the paid plan): three per wallet
    // audited, one per coordinator the recovery sweep wakes, a few of its own.
    self_audit_wallets_per_run: integer(vars, "SELF_AUDIT_WALLETS_PER_RUN", 1, 2_000),
    recovery_sweep_per_run: integer(vars, "RECOVERY_SWEEP_PER_RUN", 1, 3_000),
    self_audit_entries_per_wallet: integer(vars, "SELF_AUDIT_ENTRIES_PER_WALLET", 1, 5_000),
    // Runs start a minute apart; one that is still pausing when the next starts would audit beside it.
    self_audit_spread_ms: integer(vars, "SELF_AUDIT_SPREAD_MS", 0, 50_000),
    ...parseRateLimitConfig(vars),
    allowed_origins: origins(vars.ALLOWED_ORIGINS),
    default_currency: currency(vars.DEFAULT_CURRENCY),
    // Each wallet is a Durable Object and a row in every listing of the user's wallets.
    wallets_max_per_user: integer(vars, "WALLETS_MAX_PER_USER", 1, 200),
    // Open requests are rows the expiry alarm walks; a requester's list stays small enough to read whole.
    requests_max_open_per_user: integer(vars, "REQUESTS_MAX_OPEN_PER_USER", 1, 10_000),
    requests_max_per_payer_per_day: integer(vars, "REQUESTS_MAX_PER_PAYER_PER_DAY", 1, 10_000),
    // The contract's minimum is 2; a split is created in one transaction of one request per share.
    split_max_shares: integer(vars, "SPLIT_MAX_SHARES", 2, 200),
    // Each key is a row the owner's coordinator lists whole (GET /api-keys has no cursor past one page of 200).
    api_keys_max_per_user: integer(vars, "API_KEYS_MAX_PER_USER", 1, 200),
    ...parseLogConfig(vars),
    check_error_codes: onOff(vars, "CHECK_ERROR_CODES"),
    ...parseEventConfig(vars),
    audit_partitions,
    audit_partitions_open: openPartitions(vars.AUDIT_PARTITIONS_OPEN, audit_partitions.length),
  };
  if (config.history_page_default > config.history_page_max) {
    throw new Error("config: HISTORY_PAGE_DEFAULT must not exceed HISTORY_PAGE_MAX");
  }
  if (config.audit_page_default > config.audit_page_max) {
    throw new Error("config: AUDIT_PAGE_DEFAULT must not exceed AUDIT_PAGE_MAX");
  }
  if (config.wallet_call_retry_base_ms > config.wallet_call_retry_max_ms) {
    throw new Error("config: WALLET_CALL_RETRY_BASE_MS must not exceed WALLET_CALL_RETRY_MAX_MS");
  }
  // The flush waits up to JITTER_MAX_FACTOR times its delay; the verifier must still count those entries as on their way.
  if (config.outbox_retry_max_ms >= config.outbox_grace_ms) {
    throw new Error("config: OUTBOX_RETRY_MAX_MS must be below OUTBOX_GRACE_MS");
  }
  if (config.outbox_flush_delay_ms * JITTER_MAX_FACTOR >= config.outbox_grace_ms) {
    throw new Error(`config: OUTBOX_FLUSH_DELAY_MS times ${JITTER_MAX_FACTOR} must be below OUTBOX_GRACE_MS`);
  }
  if (config.login_backoff_base_ms > config.login_backoff_max_ms) {
    throw new Error("config: LOGIN_BACKOFF_BASE_MS must not exceed LOGIN_BACKOFF_MAX_MS");
  }
  if (config.webhook_retry_base_ms > config.webhook_retry_max_ms) {
    throw new Error("config: WEBHOOK_RETRY_BASE_MS must not exceed WEBHOOK_RETRY_MAX_MS");
  }
  if (config.recovery_delay_ms > config.recovery_max_delay_ms) {
    throw new Error("config: RECOVERY_DELAY_MS must not exceed RECOVERY_MAX_DELAY_MS");
  }
  if (config.outbox_flush_delay_ms + config.log_checkpoint_interval_ms >= config.log_cover_max_ms) {
    throw new Error("config: OUTBOX_FLUSH_DELAY_MS plus LOG_CHECKPOINT_INTERVAL_MS must be below LOG_COVER_MAX_MS");
  }
  return config;
}

function origins(raw: string): string[] {
  const list = raw
    .split(",")
    .map((o) => o.trim())
    .filter((o) => o !== "");
  for (const o of list) {
    if (!/^https?:\/\/[a-z0-9.-]+(:\d{1,5})?$/i.test(o))
      throw new Error(`config: ALLOWED_ORIGINS entry ${JSON.stringify(o)} is not an origin like https://example.com`);
  }
  return list;
}

function currency(raw: string): string {
  if (!isCurrencyCode(raw)) throw new Error(`config: DEFAULT_CURRENCY must be an ISO 4217 currency, got ${JSON.stringify(raw)}`);
  return raw;
}

const cache = new WeakMap<object, Config>();

/** The validated limits of this environment, parsed once per env object. */
export function configOf(env: ConfigVars): Config {
  let config = cache.get(env);
  if (config === undefined) {
    config = parseConfig(env);
    cache.set(env, config);
  }
  return config;
}
