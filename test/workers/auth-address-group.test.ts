/**
 * Rate limits count an IPv6 client by its /64 (src/domain/address-group.ts): an outside probe guessed a
 * password from 40 addresses of one /64 and had 46 of 80 guesses checked, because each address counted alone.
 */
import { describe, expect, it } from "vitest";
import { addressGroup } from "../../src/domain/address-group";
import { api, register } from "./helpers";

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
});
