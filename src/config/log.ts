/**
 * The transparency log's limits and identity (src/log-object.ts): its origin, the witnesses it accepts, how often
 * it signs and how much it reads at once.
 */
import { parseVerifierKey, SIG_COSIGNATURE_V1, type VerifierKey } from "../domain/signed-note";
import { DAY_MS, integer, type VarsOf } from "./parse";

/** The log's validated limits, part of Config (src/config.ts). */
export interface LogConfig {
  /** The transparency log's origin line, also its signing key's name. */
  readonly log_origin: string;
  /** The witnesses whose cosignatures the log accepts and serves (C2SP verifier keys of type 0x04). */
  readonly log_witness_keys: readonly VerifierKey[];
  /** How often the log pulls new entries and signs a checkpoint when the tree grew. */
  readonly log_checkpoint_interval_ms: number;
  /** How old an entry may be and still not be in a signed checkpoint before the verifier reports it. */
  readonly log_cover_max_ms: number;
  /** Entries the log reads from each audit partition per batch (one query each); a batch is appended in one transaction. */
  readonly log_append_batch_max: number;
  /** Leaves one verification (and one self-audit run) compares with D1. */
  readonly log_verify_leaves_max: number;
  readonly rate_log_per_ip_per_minute: number;
}

/** The `[vars]` entries LogConfig is read from. */
export type LogVarName =
  | "LOG_ORIGIN"
  | "LOG_WITNESS_KEYS"
  | "LOG_CHECKPOINT_INTERVAL_MS"
  | "LOG_COVER_MAX_MS"
  | "LOG_APPEND_BATCH_MAX"
  | "LOG_VERIFY_LEAVES_MAX"
  | "RATE_LOG_PER_IP_PER_MINUTE";

/** Parses and range-checks the log's limits, in this order; throws an Error naming the first bad variable. */
export function parseLogConfig(vars: VarsOf<LogVarName>): LogConfig {
  return {
    log_origin: logOrigin(vars.LOG_ORIGIN),
    log_witness_keys: witnessKeys(vars.LOG_WITNESS_KEYS),
    // Every wake-up is one D1 read; the interval plus the outbox's delay must stay inside the coverage promise.
    log_checkpoint_interval_ms: integer(vars, "LOG_CHECKPOINT_INTERVAL_MS", 100, 60_000),
    log_cover_max_ms: integer(vars, "LOG_COVER_MAX_MS", 1_000, DAY_MS),
    // One batch (this many rows from each partition) is held in memory and appended in one transaction.
    log_append_batch_max: integer(vars, "LOG_APPEND_BATCH_MAX", 1, 10_000),
    // A verification reads these leaves from the log and these rows from D1, in windows of 1,024.
    log_verify_leaves_max: integer(vars, "LOG_VERIFY_LEAVES_MAX", 1_024, 262_144),
    rate_log_per_ip_per_minute: integer(vars, "RATE_LOG_PER_IP_PER_MINUTE", 1, 100_000),
  };
}

/** The most witnesses the log accepts: with its own signature, a served checkpoint stays well inside a note's 32 lines. */
export const LOG_WITNESSES_MAX = 16;

/** A C2SP key name: what the log signs its checkpoints as. */
function logOrigin(raw: string): string {
  if (!/^[\x21-\x2a\x2c-\x7e]{1,256}$/.test(raw))
    throw new Error(`config: LOG_ORIGIN must be a key name (no spaces or '+'), got ${JSON.stringify(raw)}`);
  return raw;
}

/** Comma-separated C2SP verifier keys, each of type 0x04 (`cosignature/v1`), distinct, at most LOG_WITNESSES_MAX. */
function witnessKeys(raw: string): VerifierKey[] {
  const list = raw
    .split(",")
    .map((k) => k.trim())
    .filter((k) => k !== "");
  if (list.length > LOG_WITNESSES_MAX) throw new Error(`config: LOG_WITNESS_KEYS holds at most ${LOG_WITNESSES_MAX} keys`);
  const keys = list.map((vkey) => {
    let key: VerifierKey;
    try {
      key = parseVerifierKey(vkey);
    } catch (error) {
      throw new Error(`config: LOG_WITNESS_KEYS entry ${JSON.stringify(vkey)} is not a verifier key (${String(error)})`, { cause: error });
    }
    if (key.type !== SIG_COSIGNATURE_V1) throw new Error(`config: LOG_WITNESS_KEYS entry ${JSON.stringify(vkey)} is not of type 0x04`);
    return key;
  });
  if (new Set(keys.map((k) => `${k.name}+${k.keyId}`)).size !== keys.length) throw new Error("config: LOG_WITNESS_KEYS lists a key twice");
  return keys;
}
