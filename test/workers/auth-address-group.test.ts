/**
 * Rate limits count an IPv6 client by its /64 (src/domain/address-group.ts): an outside probe guessed a
 * password from 40 addresses of one /64 and had 46 of 80 guesses checked, because each address counted alone.
 * Login and registration also count an IPv6 client's whole /48 (RATE_LOGIN_PER_IPV6_48_PER_MINUTE,
 * RATE_REGISTER_PER_IPV6_48_PER_MINUTE): a re-probe from a routed /48 rotated through its /64s.
 */
import { describe, expect, it } from "vitest";
import { env } from "cloudflare:workers";
import { addressGroup, addressNetwork48 } from "../../src/domain/address-group";
import { api, register } from "./helpers";

/** The production default of a limit, from wrangler.toml (the suite does not lower these). */
const limitOf = (name: "RATE_LOGIN_PER_IPV6_48_PER_MINUTE" | "RATE_REGISTER_PER_IPV6_48_PER_MINUTE"): number =>
  Number((env as unknown as Record<string, string>)[name]);

/** The statuses of `count` calls of `call(i)`, ten at a time (the limits count each exactly, in any order). */
async function statusesOf(count: number, call: (i: number) => Promise<{ status: number }>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i += 10)
    out.push(...(await Promise.all(Array.from({ length: Math.min(10, count - i) }, (_, j) => call(i + j)))).map((r) => r.status));
  return out;
}

/** A /48 of the documentation range no other test uses: `2001:db8:<random>`. */
const fresh48 = (): string => `2001:db8:${(0x1000 + Math.floor(Math.random() * 0xe000)).toString(16)}`;

describe("address groups", () => {
  it.each([
    ["203.0.113.5", "203.0.113.5"],
    ["2001:db8:77:1::1", "2001:db8:77:1::/64"],
    ["2001:0DB8:0077:0001:aaaa:bbbb:cccc:dddd", "2001:db8:77:1::/64"],
    ["1:2:3:4:5:6:7:8", "1:2:3:4::/64"],
    ["2001:db8::", "2001:db8:0:0::/64"],
    ["::ffff:192.0.2.1", "192.0.2.1"],
    ["fe80::1%eth0", "fe80:0:0:0::/64"],
    ["unknown", "unknown"],
    ["1::2::3", "1::2::3"],
  ])("%s counts as %s", (ip, group) => {
    expect(addressGroup(ip)).toBe(group);
  });

  it.each([
    ["203.0.113.5", null],
    ["::ffff:192.0.2.1", null],
    ["::FFFF:c000:0201", null],
    ["unknown", null],
    ["1::2::3", null],
    ["1:2:3:4:5:6:7:8:9", null],
    ["2001:db8:77:1::1", "2001:db8:77::/48"],
    ["2001:0DB8:0077:ffff:aaaa:bbbb:cccc:dddd", "2001:db8:77::/48"],
    ["2001:db8::1", "2001:db8:0::/48"],
    ["2001::", "2001:0:0::/48"],
    ["::1", "0:0:0::/48"],
    ["2001:db8:77::192.0.2.1", "2001:db8:77::/48"],
    ["fe80::1%eth0", "fe80:0:0::/48"],
  ])("%s is in the IPv6 network %s", (ip, network) => {
    expect(addressNetwork48(ip)).toBe(network);
  });

  it("guesses from many addresses of one /64 share one back-off", async () => {
    const victim = await register({ prefix: "v6" });
    const statuses: number[] = [];
    for (let i = 1; i <= 12; i++) {
      const res = await api("/auth/login", {
        body: { handle: victim.handle, password: `guess-${i}-xxxxxxxx` },
        headers: { "cf-connecting-ip": `2001:db8:77:1::${i.toString(16)}` },
      });
      statuses.push(res.status);
    }
    // LOGIN_FREE_FAILURES_PER_ADDRESS (5) failures are checked; then the whole /64 waits.
    expect(statuses.filter((s) => s === 401)).toHaveLength(5);
    expect(statuses.slice(5).every((s) => s === 429)).toBe(true);
    // Another /64 is another client: the owner's right password from there gets in.
    const owner = await api("/auth/login", {
      body: { handle: victim.handle, password: "correct horse battery" },
      headers: { "cf-connecting-ip": "2001:db8:99:2::1" },
    });
    expect(owner.status).toBe(200);
  });

  it("login attempts from many /64s of one /48 share the /48's budget; other /48s and IPv4 addresses are not held back", async () => {
    const limit = limitOf("RATE_LOGIN_PER_IPV6_48_PER_MINUTE");
    const network = fresh48();
    const attempt = (ip: string, n: number) =>
      api("/auth/login", {
        body: { handle: `nobody_${n}_${Math.random().toString(36).slice(2, 8)}`, password: "guess-xxxxxxxx" },
        headers: { "cf-connecting-ip": ip },
      });
    // Each attempt from its own /64 (so no /64's limit or back-off applies), and to its own unknown handle.
    const started = Date.now();
    const statuses = await statusesOf(limit + 10, (i) => attempt(`${network}:${i.toString(16)}::1`, i));
    const elapsed_s = (Date.now() - started) / 1000;
    const checked = statuses.filter((s) => s === 401).length;
    expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
    // The bucket, plus what the elapsed time refilled on a busy machine, and no more.
    expect(checked).toBeGreaterThanOrEqual(limit);
    expect(checked).toBeLessThanOrEqual(limit + Math.ceil((elapsed_s * limit) / 60));
    // The /48 is refused as a whole: a /64 of it not used yet is refused too.
    expect((await attempt(`${network}:ffff::1`, -1)).status).toBe(429);
    // Meanwhile a /64 of each of a few other /48s (of the same /32) is not held back.
    expect(await statusesOf(5, (i) => attempt(`${fresh48()}:${i.toString(16)}::1`, i))).toEqual([401, 401, 401, 401, 401]);
    // IPv4 is counted per address as before: more than the /48's budget from one /24 are all checked.
    const octet = Math.floor(Math.random() * 100);
    const ipv4 = await statusesOf(limit + 10, (i) => attempt(`198.51.${octet}.${i}`, i));
    expect(ipv4.filter((s) => s !== 401)).toEqual([]);
  });

  it("registrations from many /64s of one /48 share the /48's budget; another /48 is not held back", async () => {
    const limit = limitOf("RATE_REGISTER_PER_IPV6_48_PER_MINUTE");
    // A taken handle: every attempt that passes the limits answers 409 and creates nothing.
    const taken = await register({ prefix: "v6r" });
    const attempt = (ip: string) =>
      api("/auth/register", { body: { handle: taken.handle, password: "correct horse battery" }, headers: { "cf-connecting-ip": ip } });
    const network = fresh48();
    const started = Date.now();
    const statuses = await statusesOf(limit + 5, (i) => attempt(`${network}:${i.toString(16)}::1`));
    const elapsed_s = (Date.now() - started) / 1000;
    const passed = statuses.filter((s) => s === 409).length;
    expect(statuses.every((s) => s === 409 || s === 429)).toBe(true);
    expect(passed).toBeGreaterThanOrEqual(limit);
    expect(passed).toBeLessThanOrEqual(limit + Math.ceil((elapsed_s * limit) / 60));
    expect((await attempt(`${network}:ffff::1`)).status).toBe(429);
    expect((await attempt(`${fresh48()}:1::1`)).status).toBe(409);
  });
});
