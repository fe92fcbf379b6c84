/**
 * The units that rate limits count a client by. An IPv4 address is one client; an IPv6 address is grouped by its
 * /64 prefix, because one host is routinely given a whole /64 (SLAAC, cloud instances) and can send from any
 * of its 2^64 addresses: counted per full address, one machine could guess passwords at an unlimited rate
 * (an outside probe did, issue 19). Anything that is not an address (a local run has none) is its own group.
 * A host with a routed /48 (tunnel brokers and VPS providers hand them out free) has 65,536 /64s, so the login
 * and registration limits also count an IPv6 client by its /48 (`addressNetwork48`, docs/security.md).
 */

/** `ip` as the group it is counted in: the IPv4 address, or the IPv6 /64 prefix as `xxxx:xxxx:xxxx:xxxx::/64`. */
export function addressGroup(ip: string): string {
  const trimmed = ip.trim().toLowerCase();
  const hextets = ipv6Of(trimmed);
  if (hextets === null) return trimmed;
  if (isIpv4Mapped(hextets)) {
    const [hi = 0, lo = 0] = hextets.slice(6);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return prefix(hextets, 4, 64);
}

/**
 * The IPv6 /48 network `ip` is in, as `xxxx:xxxx:xxxx::/48`; null for an IPv4 address (an IPv4-mapped IPv6 one
 * included: it is the IPv4 client it maps) and for anything that is not an address, which have no wider network.
 */
export function addressNetwork48(ip: string): string | null {
  const hextets = ipv6Of(ip.trim().toLowerCase());
  return hextets === null || isIpv4Mapped(hextets) ? null : prefix(hextets, 3, 48);
}

/** The eight groups of an IPv6 address (its zone, `%eth0`, dropped), or null when `text` is not one. */
function ipv6Of(text: string): number[] | null {
  return text.includes(":") ? expandIpv6(text.split("%")[0] ?? "") : null;
}

/** An IPv4-mapped address (::ffff:a.b.c.d) is the IPv4 client it maps. */
function isIpv4Mapped(hextets: readonly number[]): boolean {
  return hextets.slice(0, 5).every((h) => h === 0) && hextets[5] === 0xffff;
}

/** The first `groups` groups as a prefix of `bits` bits: `2001:db8:1::/48`, `2001:db8:1:2::/64`. */
function prefix(hextets: readonly number[], groups: number, bits: number): string {
  return `${hextets
    .slice(0, groups)
    .map((h) => h.toString(16))
    .join(":")}::/${bits}`;
}

/** The eight 16-bit groups of an IPv6 address, or null when it is not one. */
function expandIpv6(text: string): number[] | null {
  let body = text;
  // A dotted IPv4 tail (::ffff:192.0.2.1) is the last two groups, written in decimal.
  const dotted = /^(.*:)(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(body);
  if (dotted !== null) {
    const [a = 0, b = 0, c = 0, d = 0] = dotted.slice(2, 6).map(Number);
    if ([a, b, c, d].some((o) => o > 255)) return null;
    body = `${dotted[1] ?? ""}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = body.split("::");
  if (halves.length > 2) return null;
  const head = groupsOf(halves[0]);
  const rest = groupsOf(halves[1]);
  if (head === null || rest === null) return null;
  const given = head.length + rest.length;
  if (halves.length === 1 ? given !== 8 : given > 7) return null;
  return [...head, ...new Array<number>(8 - given).fill(0), ...rest];
}

/** The hex groups of one side of `::`, or null when one is not a group. */
function groupsOf(part: string | undefined): number[] | null {
  if (part === undefined || part === "") return [];
  const groups = part.split(":");
  if (groups.some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return null;
  return groups.map((g) => Number.parseInt(g, 16));
}
