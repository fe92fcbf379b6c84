/**
 * Session tokens carry a MAC under SESSION_TOKEN_KEY (src/auth/sessions.ts), so the edge refuses a token it
 * did not issue before any Durable Object is addressed (the storage side of that is test/http/probe-storage).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { newToken, tokenUser } from "../../src/auth/sessions";
import { api, register } from "./helpers";

const OTHER_KEY = { SESSION_TOKEN_KEY: "b3RoZXItc2Vzc2lvbi10b2tlbi1rZXktMzItYnl0ZXM" };

describe("session tokens", () => {
  it("name their user only when the MAC verifies under this deployment's key", async () => {
    const user = `usr_${"a".repeat(26)}`;
    const token = await newToken(env, user);
    expect(token).toMatch(/^usr_a{26}\.[A-Za-z0-9_-]{43}$/);
    expect(await tokenUser(env, token)).toBe(user);
    expect(await tokenUser(OTHER_KEY, token)).toBeNull();
    expect(await tokenUser(env, await newToken(OTHER_KEY, user))).toBeNull();
    // The same secret part under another user id, and one flipped character of the MAC: both refused.
    expect(await tokenUser(env, token.replace(user, `usr_${"b".repeat(26)}`))).toBeNull();
    const last = token.at(-1) === "A" ? "B" : "A";
    expect(await tokenUser(env, `${token.slice(0, -1)}${last}`)).toBeNull();
  });

  it("refuse a second spelling of the same bytes (the spare bits of the last base64url character)", async () => {
    const token = await newToken(env, `usr_${"c".repeat(26)}`);
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const index = alphabet.indexOf(token.at(-1) ?? "");
    const twin = `${token.slice(0, -1)}${alphabet[index ^ 1] ?? ""}`;
    expect(await tokenUser(env, twin)).toBeNull();
  });

  it("a real session works and a forged MAC for the same user gets 401", async () => {
    const user = await register();
    expect((await api("/me", { token: user.token })).status).toBe(200);
    const forged = `${user.id}.${btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))
      .replace(/\+/g, "-")
      .replace(/\//g, "_")
      .replace(/=+$/, "")}`;
    const res = await api("/me", { token: forged });
    expect([res.status, (res.json as { error: { code: string } }).error.code]).toEqual([401, "unauthenticated"]);
  });
});
