/**
 * A host's addresses, resolved over DNS-over-HTTPS (JSON API), since a Worker has no resolver of its own to ask.
 * Both A and AAAA are asked; CNAME links are followed by the resolver and only the final addresses are returned.
 * The check that uses them is in targets.ts; what it cannot prevent (a rebinding between this lookup and fetch's
 * own) is in docs/security.md.
 */

/** The resolver asked. Cloudflare's public resolver answers the JSON form at this address. */
export const DOH_URL = "https://cloudflare-dns.com/dns-query";

interface DohAnswer {
  Answer?: { type: number; data: string }[];
}

/** Every A and AAAA address of `host` (empty when it has none or the resolver fails). */
export async function resolveHost(host: string, fetcher: typeof fetch = (i, init) => fetch(i, init)): Promise<string[]> {
  const ask = async (type: "A" | "AAAA"): Promise<string[]> => {
    const url = `${DOH_URL}?name=${encodeURIComponent(host)}&type=${type}`;
    const response = await fetcher(url, { headers: { accept: "application/dns-json" }, redirect: "manual" });
    if (!response.ok) throw new Error(`resolver answered ${response.status}`);
    const answer: DohAnswer = await response.json();
    return (answer.Answer ?? []).filter((a) => a.type === 1 || a.type === 28).map((a) => a.data);
  };
  const [v4, v6] = await Promise.all([ask("A"), ask("AAAA")]);
  return [...v4, ...v6];
}
