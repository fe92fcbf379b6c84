/**
 * The live feed's bound on what a socket may have unread (issue 19, item 2): a client that acknowledges gets
 * every event however many there are; one that does not is closed with 4413 before it has been sent more than
 * LIVE_MAX_UNREAD_BYTES; an ack must carry the outstanding request's nonce; replays stay within the budget and
 * continue after an ack; acks the server asked for do not count against the inbound rate limit.
 *
 * The production budget (256 KiB) takes hundreds of changes to reach, so each test lowers the budget of its own
 * wallet object (in memory, for that instance) to the smallest allowed value.
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { WalletObject } from "../../src/wallet-object";
import type { LiveLimits } from "../../src/wallet/sockets";
import { api, deposit, register, walletStub, type TestUser } from "./helpers";
import { closeOf, openLive, seqsOf, sleep } from "./live-client";

const BUDGET = 16_384;
const SLOW_CONSUMER = 4413;

/** Lowers the limits of `user`'s wallet object (this instance only). */
async function lowerLimits(user: TestUser, limits: Partial<LiveLimits>): Promise<void> {
  await runInDurableObject(walletStub(user.wallet_id), (instance: WalletObject) => {
    const live = (instance as unknown as { live: { limits: LiveLimits } }).live;
    live.limits = { ...live.limits, ...limits };
  });
}

/** `count` deposits of 1 minor unit each (about 800 bytes of events per socket each). */
async function deposits(user: TestUser, count: number): Promise<void> {
  for (let i = 0; i < count; i++) await deposit(user, 1);
}

describe("live feed: unread budget", () => {
  it("a client that acknowledges receives every event, far past the budget, and stays open", async () => {
    const u = await register();
    await deposit(u, 1);
    await lowerLimits(u, { max_unread_bytes: BUDGET });
    const reader = await openLive(u, { ack: true });
    await reader.waitFor((e) => e.length >= 1, "snapshot");
    await deposits(u, 60);
    await reader.waitFor((e) => seqsOf(e).length === 60, "60 entries");
    expect(seqsOf(reader.events)).toEqual(Array.from({ length: 60 }, (_, i) => i + 2));
    expect(reader.bytes()).toBeGreaterThan(2 * BUDGET);
    expect(reader.events.filter((e) => e.type === "ack_request").length).toBeGreaterThan(3);
    expect(reader.isClosed()).toBe(false);
    reader.ws.close(1000);
  });

  it("a client that never acknowledges is closed with 4413 before it is sent more than the budget", async () => {
    const u = await register();
    await lowerLimits(u, { max_unread_bytes: BUDGET });
    const silent = await openLive(u);
    await silent.waitFor((e) => e.length >= 1, "snapshot");
    for (let i = 0; i < 60 && !silent.isClosed(); i++) await deposit(u, 1);
    const close = await closeOf(silent);
    expect(close.code).toBe(SLOW_CONSUMER);
    expect(close.reason).toMatch(/unread/);
    expect(silent.bytes()).toBeLessThanOrEqual(BUDGET);
    // Whatever it missed is in storage: a new socket resumes from the last entry it got.
    const last = seqsOf(silent.events).at(-1) ?? 0;
    const again = await openLive(u, { ack: true, query: `?after_seq=${last}` });
    await deposit(u, 1);
    const total = (await walletStub(u.wallet_id).snapshot()) as { wallet: { chain: { head_seq: number } } };
    await again.waitFor((e) => seqsOf(e).at(-1) === total.wallet.chain.head_seq, "every entry after the last one seen");
    expect([...seqsOf(silent.events), ...seqsOf(again.events)]).toEqual(
      Array.from({ length: total.wallet.chain.head_seq }, (_, i) => i + 1),
    );
    again.ws.close(1000);
  });

  it("an ack with any other nonce is refused and frees nothing", async () => {
    const u = await register();
    await lowerLimits(u, { max_unread_bytes: BUDGET });
    const liar = await openLive(u);
    liar.ws.addEventListener("message", (m) => {
      if ((JSON.parse(String(m.data)) as { type: string }).type === "ack_request")
        liar.ws.send(JSON.stringify({ type: "ack", nonce: "guessed-nonce" }));
    });
    for (let i = 0; i < 60 && !liar.isClosed(); i++) await deposit(u, 1);
    expect((await closeOf(liar)).code).toBe(SLOW_CONSUMER);
    expect(liar.events.some((e) => e.type === "error" && e.code === "validation_error")).toBe(true);
  });

  it("a replay stops within the budget, says where to continue, and continues after an ack", async () => {
    const u = await register();
    await deposits(u, 45);
    await lowerLimits(u, { max_unread_bytes: BUDGET });
    const live = await openLive(u);
    await live.waitFor((e) => e.length >= 1, "snapshot");
    live.ws.send(JSON.stringify({ type: "resume", after_seq: 0 }));
    const first = await live.waitFor((e) => e.some((x) => x.type === "resume_incomplete"), "resume_incomplete");
    const replayed = seqsOf(first);
    expect(replayed.length).toBeGreaterThan(0);
    expect(replayed.length).toBeLessThan(45);
    expect(live.bytes()).toBeLessThanOrEqual(BUDGET);
    const types = first.map((e) => e.type);
    // The ack request comes before the continuation, so a client acknowledges before it resumes.
    expect(types.indexOf("ack_request")).toBeLessThan(types.indexOf("resume_incomplete"));
    const request = first.find((e) => e.type === "ack_request");
    const next = first.find((e) => e.type === "resume_incomplete")?.next_after_seq;
    expect(next).toBe(replayed.at(-1));
    live.ws.send(JSON.stringify({ type: "ack", nonce: request?.nonce }));
    live.ws.send(JSON.stringify({ type: "resume", after_seq: next }));
    await live.waitFor((e) => seqsOf(e).length > replayed.length, "more entries after the ack");
    expect(live.isClosed()).toBe(false);
    live.ws.close(1000);
  });

  it("acks the server asked for do not count against the inbound rate limit", async () => {
    const u = await register();
    await lowerLimits(u, { max_unread_bytes: BUDGET, max_inbound_per_minute: 2 });
    const reader = await openLive(u, { ack: true });
    await deposits(u, 40);
    await reader.waitFor((e) => seqsOf(e).length === 40, "40 entries");
    expect(reader.events.filter((e) => e.type === "ack_request").length).toBeGreaterThan(2);
    await sleep(50);
    expect(reader.isClosed()).toBe(false);
    reader.ws.close(1000);
    // Unsolicited messages still count: the third in a minute closes the socket.
    const noisy = await openLive(u);
    for (let i = 0; i < 3; i++) noisy.ws.send(JSON.stringify({ type: "ack", nonce: "unsolicited" }));
    expect((await closeOf(noisy)).code).toBe(1008);
  });

  it("the production budget is LIVE_MAX_UNREAD_BYTES from wrangler.toml", async () => {
    const u = await register();
    const res = await api(`/wallets/${u.wallet_id}`, { token: u.token });
    expect(res.status).toBe(200);
    const budget = await runInDurableObject(
      walletStub(u.wallet_id),
      (instance: WalletObject) => (instance as unknown as { live: { limits: LiveLimits } }).live.limits.max_unread_bytes,
    );
    expect(budget).toBe(262_144);
  });
});
