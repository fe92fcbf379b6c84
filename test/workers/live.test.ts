/**
 * The live feed over hibernatable WebSockets: who may connect, what arrives and in which order, resume, limits,
 * and delivery after the wallet object has hibernated or been evicted.
 */
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { WalletObject } from "../../src/wallet-object";
import { api, deposit, register, transfer, walletStub, type TestUser } from "./helpers";

interface LiveEvent {
  type: string;
  wallet?: { balance: number; available: number; held: number; version: number };
  entry?: { seq: number; kind: string; amount: number };
  next_after_seq?: number;
  code?: string;
}

interface Live {
  ws: WebSocket;
  events: LiveEvent[];
  closed: Promise<{ code: number; reason: string }>;
  /** Waits until at least `count` events have arrived. */
  waitFor(count: number, timeout_ms?: number): Promise<LiveEvent[]>;
}

async function connect(user: TestUser, options: { walletId?: string; token?: string | null; query?: string } = {}): Promise<Response> {
  const headers: Record<string, string> = { upgrade: "websocket" };
  const token = options.token === undefined ? user.token : options.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const url = `https://wallet.test/api/v1/wallets/${options.walletId ?? user.wallet_id}/live${options.query ?? ""}`;
  return exports.default.fetch(new Request(url, { headers }));
}

async function open(user: TestUser, query = ""): Promise<Live> {
  const res = await connect(user, { query });
  expect(res.status).toBe(101);
  const ws = res.webSocket;
  if (ws === null) throw new Error("no socket");
  const events: LiveEvent[] = [];
  ws.accept();
  ws.addEventListener("message", (m) => events.push(JSON.parse(String(m.data)) as LiveEvent));
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.addEventListener("close", (e) => resolve({ code: e.code, reason: e.reason })),
  );
  const waitFor = async (count: number, timeout_ms = 5_000): Promise<LiveEvent[]> => {
    const deadline = Date.now() + timeout_ms;
    while (events.length < count) {
      if (Date.now() > deadline) throw new Error(`waited for ${count} events, got ${events.length}: ${JSON.stringify(events)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    return events;
  };
  return { ws, events, closed, waitFor };
}

const entries = (events: LiveEvent[]): LiveEvent["entry"][] => events.filter((e) => e.type === "entry").map((e) => e.entry);

describe("live feed: who may connect", () => {
  it("the owner gets a snapshot first", async () => {
    const b = await register();
    await deposit(b, 700);
    const live = await open(b);
    const [first] = await live.waitFor(1);
    expect(first).toEqual({ type: "snapshot", wallet: expect.objectContaining({ balance: 700, available: 700, held: 0, version: 1 }) });
    live.ws.close(1000);
  });

  it("another user, a revoked token, a bad token or no token gets an HTTP error and no socket", async () => {
    const owner = await register();
    const other = await register();
    const forbidden = await connect(other, { walletId: owner.wallet_id });
    expect(forbidden.status).toBe(403);
    expect(forbidden.webSocket).toBeNull();
    expect((await connect(owner, { token: null })).status).toBe(401);
    expect((await connect(owner, { token: "x".repeat(43) })).status).toBe(401);
    const revoked = await register();
    await api("/auth/logout", { method: "POST", token: revoked.token });
    const res = await connect(revoked);
    expect(res.status).toBe(401);
    expect(res.webSocket).toBeNull();
    expect((await connect(owner, { walletId: "wal_00000000000000000000000000" })).status).toBe(404);
  });

  it("a plain GET without the upgrade is a validation error", async () => {
    const owner = await register();
    const res = await api(`/wallets/${owner.wallet_id}/live`, { token: owner.token });
    expect(res.status).toBe(400);
  });
});

describe("live feed: events", () => {
  it("when A pays B, B's socket sees the new balance and the entry, in order", async () => {
    const a = await register();
    const b = await register();
    await deposit(a, 5_000);
    const live = await open(b);
    await live.waitFor(1);
    expect((await transfer(a, { handle: b.handle }, 1_250)).status).toBe(201);
    const events = await live.waitFor(3);
    expect(events.slice(1)).toEqual([
      { type: "balance", wallet: expect.objectContaining({ balance: 1_250, available: 1_250, held: 0, version: 1 }) },
      { type: "entry", entry: expect.objectContaining({ seq: 1, kind: "transfer_in", amount: 1_250 }) },
    ]);
    live.ws.close(1000);
  });

  it("the sender's socket sees the hold, then the posted debit", async () => {
    const a = await register();
    const b = await register();
    await deposit(a, 5_000);
    const live = await open(a);
    await live.waitFor(1);
    await transfer(a, { handle: b.handle }, 1_000);
    const events = await live.waitFor(4);
    expect(events.slice(1).map((e) => [e.type, e.wallet?.held, e.wallet?.balance, e.entry?.kind])).toEqual([
      ["balance", 1_000, 5_000, undefined],
      ["balance", 0, 4_000, undefined],
      ["entry", undefined, undefined, "transfer_out"],
    ]);
    live.ws.close(1000);
  });

  it("every socket of the owner gets every event", async () => {
    const a = await register();
    const b = await register();
    await deposit(a, 5_000);
    const sockets = await Promise.all([open(b), open(b), open(b)]);
    for (const s of sockets) await s.waitFor(1);
    for (let i = 1; i <= 3; i++) await transfer(a, { handle: b.handle }, i);
    for (const s of sockets) {
      const events = await s.waitFor(7);
      expect(entries(events).map((e) => e?.seq)).toEqual([1, 2, 3]);
      s.ws.close(1000);
    }
  });

  it("resume after missing ten transfers yields exactly those ten, in order, then live ones", async () => {
    const a = await register();
    const b = await register();
    await deposit(a, 100_000);
    await transfer(a, { handle: b.handle }, 1);
    for (let i = 0; i < 10; i++) await transfer(a, { handle: b.handle }, 10 + i);
    const live = await open(b);
    await live.waitFor(1);
    live.ws.send(JSON.stringify({ type: "resume", after_seq: 1 }));
    const replayed = await live.waitFor(11);
    expect(entries(replayed).map((e) => [e?.seq, e?.amount])).toEqual(Array.from({ length: 10 }, (_, i) => [i + 2, 10 + i]));
    await transfer(a, { handle: b.handle }, 99);
    const all = await live.waitFor(13);
    expect(all.slice(11).map((e) => e.type)).toEqual(["balance", "entry"]);
    expect(entries(all).map((e) => e?.seq)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    live.ws.close(1000);
  });

  it("after_seq on the upgrade URL replays before any live event", async () => {
    const a = await register();
    await deposit(a, 1);
    await deposit(a, 2);
    const live = await open(a, "?after_seq=0");
    const events = await live.waitFor(3);
    expect(events.map((e) => e.type)).toEqual(["snapshot", "entry", "entry"]);
    live.ws.close(1000);
  });

  it("an after_seq on the upgrade URL that is not written as digits is refused, as every list's limit is", async () => {
    const a = await register();
    await deposit(a, 1);
    // Number() would read each of these as a seq (an empty one as 0, a replay of everything), so each is checked.
    for (const query of [
      "?after_seq=",
      "?after_seq=0x1",
      "?after_seq=1e0",
      "?after_seq=%201",
      "?after_seq=%2B1",
      "?after_seq=1.0",
      "?after_seq=0&after_seq=1",
    ]) {
      const res = await connect(a, { query });
      expect(res.status, query).toBe(400);
      expect((await res.json<{ error: { code: string } }>()).error.code, query).toBe("validation_error");
    }
    const live = await open(a, "?after_seq=0");
    expect((await live.waitFor(2)).map((e) => e.type)).toEqual(["snapshot", "entry"]);
    live.ws.close(1000);
  });
});

describe("live feed: limits", () => {
  it("a malformed message gets an error event and the socket stays open", async () => {
    const a = await register();
    const live = await open(a);
    await live.waitFor(1);
    live.ws.send("not json");
    live.ws.send(JSON.stringify({ type: "resume", after_seq: -1 }));
    const events = await live.waitFor(3);
    expect(events.slice(1)).toEqual([
      expect.objectContaining({ type: "error", code: "validation_error" }),
      expect.objectContaining({ type: "error", code: "validation_error" }),
    ]);
    await deposit(a, 5);
    await live.waitFor(5);
    live.ws.close(1000);
  });

  it("an oversized message closes the socket with 1009", async () => {
    const a = await register();
    const live = await open(a);
    await live.waitFor(1);
    live.ws.send("x".repeat(2_000));
    expect((await live.closed).code).toBe(1009);
  });

  it("a flood of messages closes the socket with 1008", async () => {
    const a = await register();
    const live = await open(a);
    await live.waitFor(1);
    for (let i = 0; i < 130; i++) live.ws.send(JSON.stringify({ type: "resume", after_seq: 0 }));
    expect((await live.closed).code).toBe(1008);
  });

  it("past the sockets-per-wallet limit the upgrade is refused with 429", async () => {
    const a = await register();
    const sockets = await Promise.all(Array.from({ length: 20 }, () => open(a)));
    const refused = await connect(a);
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).not.toBeNull();
    for (const s of sockets) s.ws.close(1000);
  });
});

describe("live feed: hibernation", () => {
  it("an idle wallet with open sockets hibernates on its own, and delivers again on the next change", async () => {
    const a = await register();
    const b = await register();
    await deposit(a, 5_000);
    const live = await open(b);
    await live.waitFor(1);
    const stub = walletStub(b.wallet_id);
    const before = await runInDurableObject(stub, (instance: WalletObject) => instance.instance_started_ms);
    // Idle (no requests, no messages) for longer than the runtime's hibernation timeout of about 10 s.
    await new Promise((r) => setTimeout(r, 13_000));
    await transfer(a, { handle: b.handle }, 77);
    const events = await live.waitFor(3);
    expect(events.slice(1).map((e) => e.type)).toEqual(["balance", "entry"]);
    const after = await runInDurableObject(stub, (instance: WalletObject) => instance.instance_started_ms);
    expect(after).toBeGreaterThan(before);
    live.ws.close(1000);
  }, 30_000);

  it("pings are answered by the runtime and sockets keep receiving after the object is evicted", async () => {
    const a = await register();
    const b = await register();
    await deposit(a, 5_000);
    const live = await open(b);
    await live.waitFor(1);
    live.ws.send('{"type":"ping"}');
    const pong = await live.waitFor(2);
    expect(pong[1]).toEqual({ type: "pong" });
    const stub = walletStub(b.wallet_id);
    const answeredAt = await runInDurableObject(stub, (_i: WalletObject, ctx) => {
      const [socket] = ctx.getWebSockets();
      return socket === undefined ? null : ctx.getWebSocketAutoResponseTimestamp(socket);
    });
    expect(answeredAt).toBeInstanceOf(Date);
    await evictDurableObject(stub, { webSockets: "hibernate" });
    await transfer(a, { handle: b.handle }, 321);
    const events = await live.waitFor(4);
    expect(events.slice(2)).toEqual([
      { type: "balance", wallet: expect.objectContaining({ balance: 321 }) },
      { type: "entry", entry: expect.objectContaining({ seq: 1, amount: 321 }) },
    ]);
    live.ws.close(1000);
  });
});
