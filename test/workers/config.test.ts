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
});
