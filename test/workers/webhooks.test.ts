/**
 * Webhooks (contract v1.1): the target rules (SSRF refusals at registration and before each attempt), the
 * endpoint routes and their bad inputs, the secret shown once and never stored in clear, and the attempt itself
 * (signed afresh with standardwebhooks under the same webhook-id and body, redirects not followed, any 2xx ends
 * it, a manual retry) driven through the consumer's own function with a fake network.
 */
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import type { TransferCoordinator } from "../../src/transfer-coordinator";
import { deliverOne, type AttemptPorts } from "../../src/webhooks/consumer";
import { addressesAllowed, checkTargetUrl } from "../../src/webhooks/targets";
import { api, coordinatorStub, deposit, register, transfer, type TestUser } from "./helpers";

describe("webhook targets", () => {
  it.each([
    "http://example.com/hook",
    "https://example.com:8443/hook",
    "file:///etc/passwd",
    "ftp://example.com/",
    "https://user:pw@example.com/",
    "https://10.0.0.1/",
    "https://192.168.1.10/",
    "https://172.16.5.4/",
    "https://169.254.169.254/latest/meta-data",
    "https://100.64.0.1/",
    "https://127.0.0.1/",
    "https://0.0.0.0/",
    "https://[::1]/",
    "https://[fc00::1]/",
    "https://[fe80::1]/",
    "https://[::ffff:10.0.0.1]/",
    "https://localhost/",
    "https://intranet/",
    "https://printer.local/",
    // A fully qualified name's trailing dot names the same host, so it must not slip past the name rules.
    "https://localhost./",
    "https://printer.local./",
    "https://metadata.google.internal./computeMetadata/v1/",
    "https://intranet./",
    // IPv4 inside IPv6 beyond the mapped and well-known NAT64 forms: IPv4-compatible (::/96) and local-use NAT64.
    "https://[::a9fe:a9fe]/",
    "https://[::10.0.0.1]/",
    "https://[64:ff9b:1::a9fe:a9fe]/",
    // IPv4-translated (::ffff:0:0:0/96, RFC 2765) is judged as the IPv4 address it carries, like the mapped form.
    "https://[::ffff:0:a9fe:a9fe]/",
    "https://[::ffff:0:10.0.0.1]/",
    // Reserved IPv6 ranges with no public hosts: documentation (3fff::/20) and SRv6 segment ids (5f00::/16).
    "https://[3fff::1]/",
    "https://[5f00::1]/",
    "not a url",
  ])("refuses %s", (url) => {
    expect(checkTargetUrl(url, false).ok).toBe(false);
    if (!url.includes("127.0.0.1") && !url.includes("[::1]") && !url.includes("localhost"))
      expect(checkTargetUrl(url, true).ok).toBe(false);
  });

  it("allows public https on 443, and loopback http only when local runs allow it", () => {
    expect(checkTargetUrl("https://hooks.example.com/in", false).ok).toBe(true);
    expect(checkTargetUrl("https://hooks.example.com:443/in", false).ok).toBe(true);
    expect(checkTargetUrl("https://93.184.216.34/in", false).ok).toBe(true);
    expect(checkTargetUrl("http://127.0.0.1:9999/in", false).ok).toBe(false);
    expect(checkTargetUrl("https://[::ffff:0:7f00:1]/in", false).ok).toBe(false);
    expect(checkTargetUrl("http://127.0.0.1:9999/in", true).ok).toBe(true);
    expect(checkTargetUrl("http://localhost:9999/in", true).ok).toBe(true);
  });

  it("refuses a name that resolves to any private address", () => {
    expect(addressesAllowed(["93.184.216.34"], false)).toBe(true);
    expect(addressesAllowed(["93.184.216.34", "10.1.2.3"], false)).toBe(false);
    expect(addressesAllowed(["2606:4700::1111"], false)).toBe(true);
    expect(addressesAllowed(["fd00::1"], false)).toBe(false);
    expect(addressesAllowed([], false)).toBe(false);
    expect(addressesAllowed(["127.0.0.1"], false)).toBe(false);
    expect(addressesAllowed(["::a9fe:a9fe"], false)).toBe(false);
    expect(addressesAllowed(["64:ff9b:1::a00:1"], false)).toBe(false);
    expect(addressesAllowed(["64:ff9b:1::5db8:d822"], false)).toBe(false);
    expect(addressesAllowed(["3fff::1"], false)).toBe(false);
    expect(addressesAllowed(["::ffff:93.184.216.34"], false)).toBe(true);
    expect(addressesAllowed(["64:ff9b::5db8:d822"], false)).toBe(true);
    expect(addressesAllowed(["::ffff:0:7f00:1"], false)).toBe(false);
    expect(addressesAllowed(["::ffff:0:a00:1"], false)).toBe(false);
    expect(addressesAllowed(["::ffff:0:5db8:d822"], false)).toBe(true);
  });
});

interface EndpointJson {
  webhook_endpoint: { id: string; url: string; types: string[]; created_at: string };
  secret: string;
}

async function addEndpoint(user: TestUser, url: string, types: string[], key?: string) {
  return api<EndpointJson>("/webhook-endpoints", { token: user.token, body: { url, types }, ...(key === undefined ? {} : { key }) });
}

describe("webhook endpoint routes", () => {
  it("registers (secret shown once, 32 bytes), lists without the secret, deletes; bad inputs are 400", async () => {
    const a = await register();
    const made = await addEndpoint(a, "https://hooks.example.com/in", ["transfer.succeeded"]);
    expect(made.status, made.text).toBe(201);
    expect(made.json.webhook_endpoint).toMatchObject({ url: "https://hooks.example.com/in", types: ["transfer.succeeded"] });
    expect(made.json.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const list = await api("/webhook-endpoints", { token: a.token });
    expect(list.json).toEqual({ items: [made.json.webhook_endpoint], next_cursor: null });
    expect(list.text).not.toContain("whsec_");
    for (const body of [
      { url: "http://example.com/", types: ["transfer.succeeded"] },
      { url: "https://10.0.0.1/", types: ["transfer.succeeded"] },
      { url: "file:///etc/passwd", types: ["transfer.succeeded"] },
      { url: "https://example.com:8443/", types: ["transfer.succeeded"] },
      { url: "https://example.com/", types: [] },
      { url: "https://example.com/", types: ["transfer.exploded"] },
      { url: "https://example.com/", types: ["transfer.succeeded"], extra: 1 },
    ]) {
      const bad = await api("/webhook-endpoints", { token: a.token, body });
      expect(bad.status, JSON.stringify(body)).toBe(400);
      expect(bad.text).toContain("validation_error");
    }
    const b = await register();
    const id = made.json.webhook_endpoint.id;
    expect((await api(`/webhook-endpoints/${id}`, { token: b.token, method: "DELETE" })).status).toBe(404);
    expect((await api(`/webhook-endpoints/${id}/deliveries`, { token: b.token })).status).toBe(404);
    expect((await api(`/webhook-endpoints/${id}`, { token: a.token, method: "DELETE" })).status).toBe(204);
    expect((await api(`/webhook-endpoints/${id}`, { token: a.token, method: "DELETE" })).status).toBe(404);
    expect((await api("/webhook-endpoints", { method: "GET" })).status).toBe(401);
  });

  it("an endpoint added or removed after the user's events began takes, or stops taking, the very next event", async () => {
    // The coordinator remembers which endpoints take which types (coordinator/webhook-store.ts); the first deposit
    // makes it remember "none", so each change below must be heard at once, not after a restart.
    const a = await register();
    await deposit(a, 100);
    const first = (await addEndpoint(a, "https://hooks.example.com/1", ["deposit.succeeded"])).json.webhook_endpoint.id;
    await deposit(a, 200);
    expect(await deliveries(a, first)).toHaveLength(1);
    const second = (await addEndpoint(a, "https://hooks.example.com/2", ["deposit.succeeded", "transfer.succeeded"])).json.webhook_endpoint
      .id;
    await deposit(a, 300);
    expect(await deliveries(a, first)).toHaveLength(2);
    expect(await deliveries(a, second)).toHaveLength(1);
    expect((await api(`/webhook-endpoints/${first}`, { token: a.token, method: "DELETE" })).status).toBe(204);
    await deposit(a, 400);
    expect(await deliveries(a, second)).toHaveLength(2);
    const rows = await runInDurableObject(
      coordinatorStub(a.id),
      async (_: TransferCoordinator, state) =>
        state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM webhook_deliveries WHERE endpoint_id = ?", first).one().n,
    );
    expect(rows).toBe(2);
  });

  it("WEBHOOK_ENDPOINTS_MAX_PER_USER is 422 limit_exceeded; a keyed registration replays its secret, stored only sealed", async () => {
    const a = await register();
    const first = await addEndpoint(a, "https://hooks.example.com/0", ["deposit.succeeded"], "k1");
    const again = await addEndpoint(a, "https://hooks.example.com/0", ["deposit.succeeded"], "k1");
    expect(again.text).toBe(first.text);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    const stored = await runInDurableObject(
      coordinatorStub(a.id),
      (_i: TransferCoordinator, state) =>
        state.storage.sql
          .exec<{ t: string }>("SELECT group_concat(result) || group_concat(secret_cipher) AS t FROM replies, webhook_endpoints")
          .one().t,
    );
    expect(stored).not.toContain(first.json.secret.slice(6));
    for (let i = 1; i < 10; i++) expect((await addEndpoint(a, `https://hooks.example.com/${i}`, ["deposit.succeeded"])).status).toBe(201);
    const over = await addEndpoint(a, "https://hooks.example.com/x", ["deposit.succeeded"]);
    expect(over.status).toBe(422);
    expect(over.json).toMatchObject({
      error: { code: "limit_exceeded", details: [{ field: "WEBHOOK_ENDPOINTS_MAX_PER_USER", issue: "at most 10" }] },
    });
  });
});

interface Sent {
  url: string;
  init: RequestInit;
}

/** A fake network: records each request and answers with the next status. */
function network(statuses: number[], addresses: string[] = ["93.184.216.34"]): { ports: AttemptPorts; sent: Sent[] } {
  const sent: Sent[] = [];
  let clock = Date.now();
  const ports: AttemptPorts = {
    fetch: (url, init) => {
      sent.push({ url: url instanceof Request ? url.url : url.toString(), init: init ?? {} });
      const status = statuses.shift() ?? 500;
      return Promise.resolve(
        new Response(status === 302 || status === 204 ? null : "x".repeat(10_000), {
          status,
          headers: status === 302 ? { location: "https://10.0.0.1/" } : {},
        }),
      );
    },
    resolve: () => Promise.resolve(addresses),
    now: () => new Date((clock += 2_000)),
  };
  return { ports, sent };
}

async function deliveries(user: TestUser, endpoint_id: string) {
  const res = await api<{ items: { id: string; event_id: string; status: string; attempts: number; last_status_code: number | null }[] }>(
    `/webhook-endpoints/${endpoint_id}/deliveries`,
    { token: user.token },
  );
  expect(res.status).toBe(200);
  return res.json.items;
}

/** Waits until the background consumer (the real queue, with no network) has made its first attempt. */
async function firstAttemptMade(user: TestUser, endpoint_id: string): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const [d] = await deliveries(user, endpoint_id);
    if (d !== undefined && d.attempts >= 1) return d.id;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("the queue never attempted the delivery");
}

describe("webhook attempts", () => {
  it("each attempt is signed afresh under the same webhook-id and body; a 3xx is a failure; a 2xx ends it; a retry re-opens it", async () => {
    const a = await register();
    const b = await register();
    const made = await addEndpoint(b, "https://hooks.example.com/in", ["transfer.succeeded"]);
    const endpoint_id = made.json.webhook_endpoint.id;
    await deposit(a, 5_000);
    expect((await transfer(a, { handle: b.handle }, 700)).status).toBe(201);
    const delivery_id = await firstAttemptMade(b, endpoint_id);
    const { ports, sent } = network([500, 302, 204]);
    const msg = { user_id: b.id, delivery_id };
    expect(await deliverOne(msg, env, ports)).toEqual({ ok: false, status_code: 500 });
    expect(await deliverOne(msg, env, ports)).toEqual({ ok: false, status_code: 302 });
    expect(await deliverOne(msg, env, ports)).toEqual({ ok: true, status_code: 204 });
    expect(await deliverOne(msg, env, ports)).toBeNull();
    expect(sent).toHaveLength(3);
    const wh = new Webhook(made.json.secret);
    const events = (await api<{ items: { id: string }[] }>("/events", { token: b.token })).json.items;
    for (const s of sent) {
      const headers = s.init.headers as Record<string, string>;
      expect(s.init.redirect).toBe("manual");
      expect(headers["webhook-id"]).toBe(events[0]?.id);
      // Verification checks the timestamp against now; the fake clock runs a few seconds ahead, within tolerance.
      expect(wh.verify(s.init.body as string, headers)).toMatchObject({ type: "transfer.succeeded", data: { object: { amount: 700 } } });
    }
    expect(new Set(sent.map((s) => s.init.body)).size).toBe(1);
    expect(new Set(sent.map((s) => (s.init.headers as Record<string, string>)["webhook-signature"])).size).toBe(3);
    const [d] = await deliveries(b, endpoint_id);
    expect(d).toMatchObject({ id: delivery_id, status: "succeeded", last_status_code: 204 });
    expect(d?.attempts).toBeGreaterThanOrEqual(4);
    const retried = await api(`/webhook-endpoints/${endpoint_id}/deliveries/${delivery_id}/retry`, { token: b.token, method: "POST" });
    expect(retried.status, retried.text).toBe(202);
    expect(retried.json).toMatchObject({ delivery: { id: delivery_id, status: "pending" } });
    expect((await api(`/webhook-endpoints/${endpoint_id}/deliveries/whd_nope/retry`, { token: b.token, method: "POST" })).status).toBe(404);
  });

  it("a host that now resolves to a private address is refused before any request is sent", async () => {
    const a = await register();
    const made = await addEndpoint(a, "https://hooks.example.com/in", ["deposit.succeeded"]);
    await deposit(a, 100);
    const delivery_id = await firstAttemptMade(a, made.json.webhook_endpoint.id);
    const { ports, sent } = network([200], ["93.184.216.34", "10.0.0.7"]);
    expect(await deliverOne({ user_id: a.id, delivery_id }, env, ports)).toEqual({ ok: false, status_code: null });
    expect(sent).toHaveLength(0);
  });
});

describe("a payer's phone in a delivery", () => {
  it("rests sealed in the event's stored body, and the delivery carries it opened, as GET /events shows it", async () => {
    const phone = `+1555${String(Date.now() % 10_000_000).padStart(7, "0")}`;
    const a = await register();
    await register({ phone });
    const made = await addEndpoint(a, "https://hooks.example.com/in", ["payment_request.created"]);
    const asked = await api("/payment-requests", { token: a.token, body: { wallet_id: a.wallet_id, payer: { phone }, amount: 5 } });
    expect(asked.status, asked.text).toBe(201);
    const stored = await runInDurableObject(coordinatorStub(a.id), (_: TransferCoordinator, state) =>
      state.storage.sql.exec<{ object: string }>("SELECT object FROM events WHERE type = 'payment_request.created'").toArray(),
    );
    expect(stored).toHaveLength(1);
    expect(stored[0]?.object).not.toContain(phone);
    const delivery_id = await firstAttemptMade(a, made.json.webhook_endpoint.id);
    const { ports, sent } = network([204]);
    expect(await deliverOne({ user_id: a.id, delivery_id }, env, ports)).toEqual({ ok: true, status_code: 204 });
    const served = (await api<{ items: unknown[] }>("/events?types=payment_request.created", { token: a.token })).json.items[0];
    expect(sent[0]?.init.body).toBe(JSON.stringify(served));
    expect(JSON.parse(sent[0]?.init.body as string)).toMatchObject({ data: { object: { payer: { phone } } } });
  });
});
