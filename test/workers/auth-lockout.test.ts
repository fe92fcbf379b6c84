/**
 * Password guessing is limited without handing attackers a lockout (issue 19, item 6; OWASP Authentication
 * Cheat Sheet): failures are counted per address and handle with an exponential back-off, failures on a handle
 * from every address together only tighten that back-off, and the owner's right password from an address that
 * has not failed always succeeds. The limits are the shipped defaults (wrangler.toml): 5 free failures per
 * address and handle, back-off from 1 s doubling to 15 min, 10 failures per handle per minute for "under attack".
 */
import { describe, expect, it } from "vitest";
import { api, register, type ApiResponse } from "./helpers";

const RIGHT = "correct horse battery";

function login(handle: string, password: string, address: string): Promise<ApiResponse> {
  return api("/auth/login", { body: { handle, password }, headers: { "cf-connecting-ip": address } });
}

function code(res: ApiResponse): string | undefined {
  return (res.json as { error?: { code: string } } | null)?.error?.code;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A block of clients no other test uses, so the per-address bucket (30 a minute) is never shared: each is its
 * own IPv6 /64, since addresses within one /64 count as one client (domain/address-group.ts).
 */
let block = 0;
function addresses(): (i: number) => string {
  block++;
  return (i) => `2001:db8:${block}:${i.toString(16)}::1`;
}

describe("login guessing without lockout", () => {
  it("wrong passwords from many addresses never lock the owner out of a fresh address", async () => {
    const user = await register();
    const at = addresses();
    for (let i = 0; i < 25; i++) {
      const res = await login(user.handle, `wrong password ${i}`, at(i));
      expect([i, res.status]).toEqual([i, 401]);
    }
    const owner = await login(user.handle, RIGHT, at(1_000));
    expect(owner.status, owner.text).toBe(200);
    expect((await api("/me", { token: (owner.json as { token: string }).token })).status).toBe(200);
  });

  it("under a spread-out attack each address gets one failure before it backs off; the owner still gets in", async () => {
    const user = await register();
    const at = addresses();
    for (let i = 0; i < 12; i++) expect((await login(user.handle, "wrong password", at(i))).status).toBe(401);
    // The handle is now under attack: a new address's first wrong guess is answered, its second waits.
    expect((await login(user.handle, "wrong password", at(500))).status).toBe(401);
    const again = await login(user.handle, "wrong password", at(500));
    expect([again.status, code(again)]).toEqual([429, "rate_limited"]);
    expect(Number(again.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await login(user.handle, RIGHT, at(501))).status).toBe(200);
  });

  it("one address guessing one handle backs off exponentially, with Retry-After, even for the right password", async () => {
    const user = await register();
    const at = addresses();
    for (let i = 0; i < 5; i++) expect((await login(user.handle, "wrong password", at(0))).status).toBe(401);
    const blocked = await login(user.handle, RIGHT, at(0));
    expect([blocked.status, code(blocked)]).toEqual([429, "rate_limited"]);
    expect(Number(blocked.headers.get("retry-after"))).toBe(1);
    // Another address is not held back by this one's failures.
    expect((await login(user.handle, RIGHT, at(1))).status).toBe(200);
    // After the wait, the next guess is answered and the one after it waits twice as long.
    await sleep(1_100);
    expect((await login(user.handle, "wrong password", at(0))).status).toBe(401);
    const longer = await login(user.handle, RIGHT, at(0));
    expect(longer.status).toBe(429);
    expect(Number(longer.headers.get("retry-after"))).toBe(2);
    // The owner's right password, once the wait is over, clears the address's record.
    await sleep(2_100);
    expect((await login(user.handle, RIGHT, at(0))).status).toBe(200);
    for (let i = 0; i < 4; i++) expect((await login(user.handle, "wrong password", at(0))).status).toBe(401);
  });

  it("an unknown handle is limited exactly like a real one, so the answers do not tell them apart", async () => {
    const user = await register();
    const at = addresses();
    const real: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 6; i++) real.push((await login(user.handle, "wrong password", at(0))).status);
    for (let i = 0; i < 6; i++) unknown.push((await login(`nobody_${user.handle}`.slice(0, 32), "wrong password", at(1))).status);
    expect(real).toEqual([401, 401, 401, 401, 401, 429]);
    expect(unknown).toEqual(real);
  });

  it("the per-address limit across handles still holds", async () => {
    const at = addresses();
    const statuses: number[] = [];
    // The bucket refills at half a token a second, so a slow run may get one or two more past 30.
    for (let i = 0; i < 40; i++) statuses.push((await login(`nobody_${block}_${i}`, "wrong password", at(0))).status);
    expect(statuses.slice(0, 30).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(30)).toContain(429);
  });
});
