/**
 * Password hashing: Argon2id PHC strings that carry their cost, verification, upgrade of weaker hashes at
 * login, and the shipped default meeting the OWASP minimum (19 MiB, 2 passes).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { hashPassword, needsRehash, verifyPassword } from "../../src/auth/password";
import { parseConfig, type ConfigVars } from "../../src/config";
import { api, register } from "./helpers";

describe("passwords", () => {
  it("hashes to an Argon2id PHC string that verifies only the right password", async () => {
    const cost = { memory_kib: 1_024, passes: 1 };
    const stored = await hashPassword("correct horse battery", cost);
    expect(stored).toMatch(/^\$argon2id\$v=19\$m=1024,t=1,p=1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(await verifyPassword("correct horse battery", stored)).toBe(true);
    expect(await verifyPassword("correct horse batterz", stored)).toBe(false);
    expect(needsRehash(stored, { memory_kib: 19_456, passes: 2 })).toBe(true);
    expect(needsRehash(stored, cost)).toBe(false);
  });

  it("the shipped default cost meets OWASP's Argon2id minimum", () => {
    const vars = { ...(env as unknown as ConfigVars), PASSWORD_ARGON2_MEMORY_KIB: "19456", PASSWORD_ARGON2_PASSES: "2" };
    const config = parseConfig(vars);
    expect(config.password_cost.memory_kib).toBeGreaterThanOrEqual(19_456);
    expect(config.password_cost.passes).toBeGreaterThanOrEqual(2);
  });

  it("an earlier PBKDF2 hash still logs in and is upgraded to Argon2id", async () => {
    const user = await register();
    // PBKDF2-SHA-256, 1,000 iterations, of "correct horse battery" (computed independently with node:crypto).
    const legacy = "pbkdf2-sha256$1000$c2FsdHNhbHRzYWx0c2FsdA$Cf9xjlisAEzRbMZsosxST_5-wkpfUV6uoqiZkYtP6iQ";
    await env.DB.prepare("UPDATE users SET password_hash = ? WHERE id = ?").bind(legacy, user.id).run();
    expect(await verifyPassword("correct horse battery", legacy)).toBe(true);
    const login = await api("/auth/login", { body: { handle: user.handle, password: "correct horse battery" } });
    expect(login.status).toBe(200);
    const row = await env.DB.prepare("SELECT password_hash FROM users WHERE id = ?").bind(user.id).first<{ password_hash: string }>();
    expect(row?.password_hash.startsWith("$argon2id$")).toBe(true);
    expect((await api("/auth/login", { body: { handle: user.handle, password: "correct horse battery" } })).status).toBe(200);
  });
});
