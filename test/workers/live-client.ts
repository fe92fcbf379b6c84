/**
 * A live feed client for the tests in workerd: opens a socket through the Worker (as a browser or phone would,
 * with a bearer token), records every event and the close, and can follow the ack protocol or ignore it.
 */
import { exports } from "cloudflare:workers";
import { expect } from "vitest";
import type { TestUser } from "./helpers";

export interface LiveEvent {
  type: string;
  wallet?: { balance: number; version: number };
  entry?: { seq: number; kind: string; amount: number };
  next_after_seq?: number;
  nonce?: string;
  code?: string;
}

export interface Live {
  ws: WebSocket;
  events: LiveEvent[];
  /** Bytes received (UTF-8), all messages together. */
  bytes: () => number;
  /** Resolves with the close code and reason once the server closes the socket. */
  closed: Promise<{ code: number; reason: string }>;
  /** Whether the close has arrived. */
  isClosed: () => boolean;
  waitFor(predicate: (events: LiveEvent[]) => boolean, what: string, timeout_ms?: number): Promise<LiveEvent[]>;
}

/** Opens `user`'s feed (or `token`'s); with `ack`, every `ack_request` is answered at once, as the web client does. */
export async function openLive(user: TestUser, options: { token?: string; ack?: boolean; query?: string } = {}): Promise<Live> {
  const url = `https://wallet.test/api/v1/wallets/${user.wallet_id}/live${options.query ?? ""}`;
  const res = await exports.default.fetch(
    new Request(url, { headers: { upgrade: "websocket", authorization: `Bearer ${options.token ?? user.token}` } }),
  );
  expect(res.status).toBe(101);
  const ws = res.webSocket;
  if (ws === null) throw new Error("no socket");
  ws.accept();
  const events: LiveEvent[] = [];
  let bytes = 0;
  let closedYet = false;
  const encoder = new TextEncoder();
  ws.addEventListener("message", (m) => {
    const text = String(m.data);
    bytes += encoder.encode(text).byteLength;
    const event = JSON.parse(text) as LiveEvent;
    events.push(event);
    if (options.ack === true && event.type === "ack_request") ws.send(JSON.stringify({ type: "ack", nonce: event.nonce }));
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.addEventListener("close", (e) => {
      closedYet = true;
      resolve({ code: e.code, reason: e.reason });
    }),
  );
  const waitFor = async (predicate: (events: LiveEvent[]) => boolean, what: string, timeout_ms = 5_000): Promise<LiveEvent[]> => {
    const deadline = Date.now() + timeout_ms;
    while (!predicate(events)) {
      if (Date.now() > deadline) throw new Error(`waited for ${what}; got ${JSON.stringify(events.map((e) => e.type))}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    return events;
  };
  return { ws, events, bytes: () => bytes, closed, isClosed: () => closedYet, waitFor };
}

/** The seqs of the entry events received, in order. */
export const seqsOf = (events: LiveEvent[]): number[] =>
  events.flatMap((e) => (e.type === "entry" && e.entry !== undefined ? [e.entry.seq] : []));

/** Waits for the close, failing after `timeout_ms`. */
export async function closeOf(live: Live, timeout_ms = 5_000): Promise<{ code: number; reason: string }> {
  const timeout = new Promise<never>((_, fail) =>
    setTimeout(() => fail(new Error(`socket not closed; events: ${JSON.stringify(live.events.map((e) => e.type))}`)), timeout_ms),
  );
  return Promise.race([live.closed, timeout]);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
