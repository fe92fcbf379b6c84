/** The limits added for performance are validated where they are configured, like every other limit. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { parseConfig, type ConfigVars } from "../../src/config";

const base = env as unknown as ConfigVars;

describe("config", () => {
  it("accepts the shipped defaults", () => {
    const config = parseConfig({
      ...base,
      OUTBOX_FLUSH_DELAY_MS: "5000",
      OUTBOX_GRACE_MS: "60000",
      GROUP_COMMIT_MAX_OPS: "64",
      SESSIONS_MAX_PER_USER: "50",
    });
    expect([config.outbox_flush_delay_ms, config.group_commit_max_ops, config.sessions_max_per_user]).toEqual([5_000, 64, 50]);
  });

  it("refuses an outbox delay the verifier would count as missing entries", () => {
    expect(() => parseConfig({ ...base, OUTBOX_FLUSH_DELAY_MS: "5000", OUTBOX_GRACE_MS: "7000" })).toThrow(/OUTBOX_FLUSH_DELAY_MS/);
  });

  it("refuses an outbox retry cap the verifier would have to wait past", () => {
    expect(() => parseConfig({ ...base, OUTBOX_GRACE_MS: "60000", OUTBOX_RETRY_MAX_MS: "60000" })).toThrow(/OUTBOX_RETRY_MAX_MS/);
    expect(parseConfig({ ...base, OUTBOX_GRACE_MS: "60000", OUTBOX_RETRY_MAX_MS: "10000" }).outbox_retry_max_ms).toBe(10_000);
  });

  it("refuses group-commit and session limits out of range, naming the variable", () => {
    expect(() => parseConfig({ ...base, GROUP_COMMIT_MAX_OPS: "0" })).toThrow(/GROUP_COMMIT_MAX_OPS/);
    expect(() => parseConfig({ ...base, SESSIONS_MAX_PER_USER: "0" })).toThrow(/SESSIONS_MAX_PER_USER/);
    expect(() => parseConfig({ ...base, SESSIONS_MAX_PER_USER: "lots" })).toThrow(/SESSIONS_MAX_PER_USER/);
  });
  // The log's, the rate limits', the webhooks' and the partitions' limits are parsed in src/config/; their
  // messages must stay word for word, and the first bad variable named must not depend on which file reads it.
  it("refuses each area's limits out of range with its exact message", () => {
    const refusal = (vars: Partial<ConfigVars>) => () =>
      parseConfig({ ...base, AUDIT_PARTITIONS: "DB,AUDIT_1", AUDIT_PARTITIONS_OPEN: "0,1", ...vars });
    expect(refusal({ WEBHOOK_TIMEOUT_MS: "30001" })).toThrow("config: WEBHOOK_TIMEOUT_MS must be between 1000 and 30000, got 30001");
    expect(refusal({ WEBHOOK_ALLOW_LOCAL: "yes" })).toThrow('config: WEBHOOK_ALLOW_LOCAL must be "on" or "off", got "yes"');
    expect(refusal({ RATE_LOGIN_PER_IPV6_48_PER_MINUTE: "0" })).toThrow(
      "config: RATE_LOGIN_PER_IPV6_48_PER_MINUTE must be between 1 and 100000, got 0",
    );
    expect(refusal({ LOG_VERIFY_LEAVES_MAX: "1023" })).toThrow("config: LOG_VERIFY_LEAVES_MAX must be between 1024 and 262144, got 1023");
    expect(refusal({ LOG_ORIGIN: "a b" })).toThrow(`config: LOG_ORIGIN must be a key name (no spaces or '+'), got "a b"`);
    expect(refusal({ AUDIT_PARTITIONS: "AUDIT_1,DB" })).toThrow(
      'config: AUDIT_PARTITIONS must start with DB (the main database), got "AUDIT_1,DB"',
    );
    expect(refusal({ AUDIT_PARTITIONS_OPEN: "2" })).toThrow(
      'config: AUDIT_PARTITIONS_OPEN must be distinct indexes into AUDIT_PARTITIONS (0..1), got "2"',
    );
    // The partitions are read first, then the fields in their declared order, and the relations between them last.
    expect(refusal({ AUDIT_PARTITIONS: "X", MAX_BODY_BYTES: "0" })).toThrow(/AUDIT_PARTITIONS/);
    expect(refusal({ MAX_BODY_BYTES: "0", WEBHOOK_TIMEOUT_MS: "0" })).toThrow(/MAX_BODY_BYTES/);
    expect(refusal({ RATE_MONEY_PER_USER_PER_MINUTE: "0", LOG_COVER_MAX_MS: "0" })).toThrow(/RATE_MONEY_PER_USER_PER_MINUTE/);
    expect(refusal({ WEBHOOK_RETRY_BASE_MS: "5000", WEBHOOK_RETRY_MAX_MS: "1000", AUDIT_PARTITIONS_OPEN: "9" })).toThrow(
      /AUDIT_PARTITIONS_OPEN/,
    );
  });
});
