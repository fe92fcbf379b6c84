/**
 * Which URLs a webhook may be sent to (docs/security.md, "Webhooks"). Only `https` on port 443 to a public host:
 * no credentials in the URL, no IP literal or name that is private, loopback, link-local, CGNAT, unique-local,
 * multicast or reserved, no single-label name. With WEBHOOK_ALLOW_LOCAL (npm start and tests, never deployed)
 * `http` or `https` on any port to a loopback address (127.0.0.0/8, ::1, localhost) is allowed as well.
 *
 * The rules are checked when an endpoint is registered and again before every attempt, then with the host's
 * addresses resolved over DNS-over-HTTPS: a name that resolves to a refused address is refused. The runtime's
 * fetch resolves the name again itself, so a name whose DNS changes between the two lookups (rebinding) could
 * still reach an address resolved only by the second; the residual risk is stated in docs/security.md.
 */

/** Why a target is refused (the `issue` of a 400), or null when it is allowed. */
export type TargetVerdict = { ok: true; url: URL; loopback: boolean; literal: boolean } | { ok: false; issue: string };

/** The longest URL accepted. */
export const URL_MAX_CHARS = 2_048;

/** Checks a URL's form (no DNS): scheme, port, credentials, and the host when it is an address or a local name. */
export function checkTargetUrl(raw: string, allow_local: boolean): TargetVerdict {
  if (raw.length > URL_MAX_CHARS) return { ok: false, issue: `at most ${URL_MAX_CHARS} characters` };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, issue: "not a URL" };
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return { ok: false, issue: "only https URLs are allowed" };
  if (url.username !== "" || url.password !== "") return { ok: false, issue: "credentials in the URL are not allowed" };
  // A trailing dot (a fully qualified name) names the same host, so it is dropped before the name rules below:
  // otherwise `localhost.` or `metadata.google.internal.` would pass them.
  const host = url.hostname.toLowerCase().replace(/\.+$/, "");
  const literal = ipBytes(host);
  const loopback = literal === null ? host === "localhost" || host.endsWith(".localhost") : isLoopback(literal);
  if (allow_local && loopback) return { ok: true, url, loopback, literal: literal !== null };
  if (url.protocol !== "https:") return { ok: false, issue: "only https URLs are allowed" };
  if (url.port !== "" && url.port !== "443") return { ok: false, issue: "only port 443 is allowed" };
  if (literal !== null)
    return isPublic(literal) ? { ok: true, url, loopback: false, literal: true } : { ok: false, issue: "not a public address" };
  if (loopback || !host.includes(".") || /\.(local|internal|localdomain|home\.arpa)$/.test(host))
    return { ok: false, issue: "not a public host" };
  return { ok: true, url, loopback: false, literal: false };
}

/** Whether every address a name resolved to may be reached (none at all is a refusal). */
export function addressesAllowed(addresses: string[], allow_local: boolean): boolean {
  if (addresses.length === 0) return false;
  return addresses.every((a) => {
    const bytes = ipBytes(a);
    return bytes !== null && (isPublic(bytes) || (allow_local && isLoopback(bytes)));
  });
}

/** The bytes of an IPv4 (4) or IPv6 (16) literal, brackets allowed; null for anything else. */
export function ipBytes(text: string): number[] | null {
  const host = text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
  return ipv4(host) ?? ipv6(host);
}

function ipv4(host: string): number[] | null {
  const parts = host.split(".");
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p))) return null;
  const bytes = parts.map(Number);
  return bytes.every((b) => b <= 255) ? bytes : null;
}

function ipv6(host: string): number[] | null {
  if (!host.includes(":") || !/^[0-9a-f:.]+$/i.test(host)) return null;
  const halves = host.split("::");
  if (halves.length > 2) return null;
  const groups = (part: string): number[] | null => {
    if (part === "") return [];
    const out: number[] = [];
    for (const g of part.split(":")) {
      const v4 = g.includes(".") ? ipv4(g) : null;
      const [a = 0, b = 0, c = 0, d = 0] = v4 ?? [];
      if (v4 !== null) out.push((a << 8) | b, (c << 8) | d);
      else if (/^[0-9a-f]{1,4}$/i.test(g)) out.push(parseInt(g, 16));
      else return null;
    }
    return out;
  };
  const head = groups(halves[0] ?? "");
  const tail = halves.length === 2 ? groups(halves[1] ?? "") : [];
  if (head === null || tail === null) return null;
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  if (fill < 0 || (halves.length === 1 && head.length !== 8)) return null;
  const all = [...head, ...Array<number>(fill).fill(0), ...tail];
  return all.flatMap((g) => [g >> 8, g & 0xff]);
}

/** Whether the address's first `bits` bits equal `prefix`'s. */
function inRange(bytes: number[], prefix: number[], bits: number): boolean {
  for (let i = 0; i < bits; i++) {
    const bit = (b: number[]): number => ((b[i >> 3] ?? 0) >> (7 - (i & 7))) & 1;
    if (bit(bytes) !== bit(prefix)) return false;
  }
  return true;
}

/**
 * An IPv4 address inside an IPv6 one (mapped ::ffff:0:0/96, IPv4-translated ::ffff:0:0:0/96 of RFC 2765, or NAT64
 * 64:ff9b::/96), else null. The translated form reaches its IPv4 address through a stateless translator, so it is
 * judged as that address, like the mapped one (`[::ffff:0:7f00:1]` is 127.0.0.1).
 */
function embeddedV4(bytes: number[]): number[] | null {
  if (bytes.length !== 16) return null;
  if (inRange(bytes, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff], 96)) return bytes.slice(12);
  if (inRange(bytes, [0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0], 96)) return bytes.slice(12);
  if (inRange(bytes, [0, 0x64, 0xff, 0x9b], 96)) return bytes.slice(12);
  return null;
}

/** Ranges no webhook may reach (RFC 6890 special-purpose registries, in short). */
const V4_REFUSED: [number[], number][] = [
  [[0], 8], // "this network"
  [[10], 8], // private
  [[100, 64], 10], // CGNAT
  [[127], 8], // loopback
  [[169, 254], 16], // link-local (cloud metadata lives here)
  [[172, 16], 12], // private
  [[192, 0, 0], 24], // IETF protocol assignments
  [[192, 0, 2], 24], // documentation
  [[192, 88, 99], 24], // 6to4 relay
  [[192, 168], 16], // private
  [[198, 18], 15], // benchmarking
  [[198, 51, 100], 24], // documentation
  [[203, 0, 113], 24], // documentation
  [[224], 4], // multicast
  [[240], 4], // reserved and broadcast
];
const V6_REFUSED: [number[], number][] = [
  // IPv4-compatible ::/96 (deprecated by RFC 4291; no public host has one), which holds :: and ::1 too. Refused
  // outright rather than read as IPv4, so that ::1 stays loopback and ::a9fe:a9fe cannot name cloud metadata.
  [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 96],
  [[0, 0x64, 0xff, 0x9b, 0, 1], 48], // local-use NAT64 (RFC 8215): translates to any IPv4, private ones included
  [[0x01, 0x00], 64], // discard-only
  [[0x20, 0x01, 0x0d, 0xb8], 32], // documentation
  [[0x20, 0x01, 0x00, 0x00], 23], // IETF protocol assignments (Teredo and others)
  [[0x20, 0x02], 16], // 6to4 (embeds any IPv4)
  [[0x3f, 0xff, 0x00], 20], // documentation (RFC 9637)
  [[0x5f, 0x00], 16], // SRv6 segment identifiers (RFC 9602)
  [[0xfc], 7], // unique-local
  [[0xfe, 0x80], 10], // link-local
  [[0xfe, 0xc0], 10], // site-local (deprecated)
  [[0xff], 8], // multicast
];

/** Whether an address is a loopback one (127.0.0.0/8, ::1, or an IPv4 loopback inside IPv6). */
export function isLoopback(bytes: number[]): boolean {
  const v4 = bytes.length === 4 ? bytes : embeddedV4(bytes);
  if (v4 !== null) return v4[0] === 127;
  return inRange(bytes, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], 128);
}

/** Whether an address is public: in none of the refused ranges. */
export function isPublic(bytes: number[]): boolean {
  const v4 = bytes.length === 4 ? bytes : embeddedV4(bytes);
  if (v4 !== null) return !V4_REFUSED.some(([prefix, bits]) => inRange(v4, prefix, bits));
  return !V6_REFUSED.some(([prefix, bits]) => inRange(bytes, prefix, bits));
}
