/**
 * The live feed ends with its session (issue 19, item 4): logout and "log out everywhere" close the sockets
 * opened with the ended sessions (4401), a resume after logout replays nothing, other sessions' sockets carry
 * on, and a socket whose session has expired gets nothing.
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { WalletObject } from "../../src/wallet-object";
import { api, deposit, register, walletStub, type TestUser } from "./helpers";
import { closeOf, openLive, seqsOf, sleep, type Live } from "./live-client";

const SESSION_ENDED = 4401;

/** A second session for `user`, from its own address. */
async function login(user: TestUser): Promise<string> {
  const headers = { "cf-connecting-ip": `198.51.100.${Math.floor(Math.random() * 250) + 1}` };
  const res = await api<{ token: string }>("/auth/login", { body: { handle: user.handle, password: "correct horse battery" }, headers });
  expect(res.status, res.text).toBe(200);
  return res.json.token;
}

/** Sends a resume on a socket that may already be closing (a client cannot know). */
function resumeFromStart(live: Live): void {
  try {
    live.ws.send(JSON.stringify({ type: "resume", after_seq: 0 }));
  } catch {
    // The close already arrived; nothing can be asked any more.
  }
}

describe("live feed: sessions", () => {
  it("logout closes the session's socket with 4401, and a resume sent after it replays nothing", async () => {
    const u = await register();
    for (let i = 1; i <= 3; i++) await deposit(u, i);
    const live = await openLive(u);
    await live.waitFor((e) => e.length >= 1, "the snapshot");
    expect((await api("/auth/logout", { method: "POST", token: u.token })).status).toBe(204);
    resumeFromStart(live);
    expect((await closeOf(live)).code).toBe(SESSION_ENDED);
    await sleep(100);
    expect(seqsOf(live.events)).toEqual([]);
  });

  it("log out everywhere closes every session's sockets; a session opened afterwards is live", async () => {
    const u = await register();
    const second = await login(u);
    const a = await openLive(u);
    const b = await openLive(u, { token: second });
    await a.waitFor((e) => e.length >= 1, "a's snapshot");
    await b.waitFor((e) => e.length >= 1, "b's snapshot");
    expect((await api("/auth/logout-all", { method: "POST", token: second })).status).toBe(204);
    expect((await closeOf(a)).code).toBe(SESSION_ENDED);
    expect((await closeOf(b)).code).toBe(SESSION_ENDED);

    const third = await login(u);
    const c = await openLive(u, { token: third });
    await c.waitFor((e) => e.length >= 1, "c's snapshot");
    await deposit({ ...u, token: third }, 5);
    await c.waitFor((e) => seqsOf(e).length === 1, "c's entry");
    expect(c.isClosed()).toBe(false);
    expect(seqsOf(a.events)).toEqual([]);
    c.ws.close(1000);
  });

  it("logging out one session leaves another session's socket open and fed", async () => {
    const u = await register();
    const second = await login(u);
    const gone = await openLive(u);
    const kept = await openLive(u, { token: second });
    await gone.waitFor((e) => e.length >= 1, "snapshot");
    await kept.waitFor((e) => e.length >= 1, "snapshot");
    expect((await api("/auth/logout", { method: "POST", token: u.token })).status).toBe(204);
    expect((await closeOf(gone)).code).toBe(SESSION_ENDED);
    await deposit({ ...u, token: second }, 7);
    await kept.waitFor((e) => seqsOf(e).length === 1, "the entry on the other session's socket");
    expect(kept.isClosed()).toBe(false);
    kept.ws.close(1000);
  });

  it("a socket whose session has expired gets no event and no replay, and is closed with 4401", async () => {
    const u = await register();
    await deposit(u, 1);
    const pushed = await openLive(u);
    const resumed = await openLive(u);
    await pushed.waitFor((e) => e.length >= 1, "snapshot");
    await resumed.waitFor((e) => e.length >= 1, "snapshot");
    // The session's 7-day life cannot pass in a test; its expiry as the sockets recorded it can be moved back.
    await runInDurableObject(walletStub(u.wallet_id), (_instance: WalletObject, ctx) => {
      for (const ws of ctx.getWebSockets())
        ws.serializeAttachment({ ...(ws.deserializeAttachment() as object), session_expires_ms: Date.now() - 1 });
    });
    resumeFromStart(resumed);
    expect((await closeOf(resumed)).code).toBe(SESSION_ENDED);
    await api(`/wallets/${u.wallet_id}/deposits`, { token: u.token, key: crypto.randomUUID(), body: { amount: 2 } });
    expect((await closeOf(pushed)).code).toBe(SESSION_ENDED);
    expect(pushed.events.map((e) => e.type)).toEqual(["snapshot"]);
    expect(resumed.events.map((e) => e.type)).toEqual(["snapshot"]);
  });

  it("an upgrade that names a session the wallet cannot check is refused", async () => {
    const u = await register();
    const bare = await walletStub(u.wallet_id).fetch(
      new Request("https://wallet.test/live", { headers: { upgrade: "websocket", "x-live-user": u.id } }),
    );
    expect(bare.status).toBe(403);
    expect(bare.webSocket).toBeNull();
  });
});
