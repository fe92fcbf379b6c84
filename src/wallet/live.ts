/**
 * The live feed's wire protocol: the events a wallet sends, the close codes, the headers the edge passes to the
 * wallet at the upgrade, and the parsing of what a client may send. The sockets themselves (their state,
 * budgets and closing) are wallet/sockets.ts.
 *
 * Events (server → client), one JSON object per message:
 *   {"type":"snapshot","wallet"}   first, on connect
 *   {"type":"balance","wallet"}    after every committed change of the wallet
 *   {"type":"entry","entry"}       for every new entry, in seq order
 *   {"type":"resume_incomplete","next_after_seq"}  a replay stopped early; resume again from there
 *   {"type":"ack_request","nonce"} answer {"type":"ack","nonce"} once every message before it has been read
 *   {"type":"error","code","message"}              a malformed client message (the socket stays open)
 *   {"type":"payment_request","payment_request"}  a request to or from the wallet's owner, on creation and on
 *                                                 every change of its status (contract v1.1)
 * Client → server: {"type":"resume","after_seq":N}; {"type":"ack","nonce":"..."}; {"type":"ping"} is answered
 * with {"type":"pong"} by the runtime itself, without waking a hibernating object.
 */
import type { EntryView, WalletView } from "../domain/views";
import { sha256HexAsync } from "../auth/encoding";

/** The header the edge sets, after authenticating the session, to tell the wallet who is connecting. */
export const LIVE_USER_HEADER = "x-live-user";
/** The session behind the upgrade, as `liveSessionId()` names it (never the token or its stored hash). */
export const LIVE_SESSION_HEADER = "x-live-session";
/** When that session expires, in epoch milliseconds: the socket gets nothing after it. */
export const LIVE_SESSION_EXPIRES_HEADER = "x-live-session-expires";

/**
 * WebSocket close codes used. 4401 and 4413 are in the private range (4000–4999) and echo the HTTP statuses
 * they resemble: the session is gone (log in again; reconnecting with it is pointless), and too much is
 * unread (reconnect and resume: nothing is lost, the history is in storage).
 */
export const CLOSE = { policy: 1008, too_big: 1009, lost_state: 1011, session_ended: 4401, slow_consumer: 4413 } as const;

/** The tag a socket carries for its session, so that revoking the session finds its sockets. */
export const sessionTag = (session_id: string): string => `session:${session_id}`;

/** What a session id looks like: 32 lower-case hex digits. */
export const SESSION_ID_SHAPE = /^[0-9a-f]{32}$/;

/**
 * The non-secret name of a session on the live feed: a hash of the token's stored hash, so neither the token
 * nor the value the coordinator keys sessions by ever sits in a socket's tags or attachment. The edge (at the
 * upgrade) and the coordinator (at revocation) both derive it from the token hash.
 */
export async function liveSessionId(token_hash: string): Promise<string> {
  return (await sha256HexAsync(`live-session:${token_hash}`)).slice(0, 32);
}

export const snapshotEvent = (wallet: WalletView): string => JSON.stringify({ type: "snapshot", wallet });
export const balanceEvent = (wallet: WalletView): string => JSON.stringify({ type: "balance", wallet });
export const entryEvent = (entry: EntryView): string => JSON.stringify({ type: "entry", entry });
export const errorEvent = (code: string, message: string): string => JSON.stringify({ type: "error", code, message });
export const incompleteEvent = (next_after_seq: number): string => JSON.stringify({ type: "resume_incomplete", next_after_seq });
export const ackRequestEvent = (nonce: string): string => JSON.stringify({ type: "ack_request", nonce });

/** The outcome of reading one client message. */
export type Inbound =
  | { kind: "resume"; after_seq: number }
  | { kind: "ack"; nonce: string }
  | { kind: "invalid"; message: string }
  | { kind: "close"; code: number; reason: string };

/** The part of a socket's state that reading a message looks at and updates. */
export interface InboundState {
  /** Inbound rate limiting: the start of the current one-minute window and the messages in it. */
  window_start_ms: number;
  window_count: number;
  /** The nonce of the `ack_request` awaiting its `ack`, if any. */
  ack_nonce: string | null;
}

/**
 * Checks size, parses, then counts the message against the per-minute rate (updating `state`). An `ack` that
 * answers the outstanding `ack_request` is not counted: the server asked for it, one at a time, so a client
 * cannot send more of them than the server requests, and a busy wallet must not push its readers into the limit.
 */
export function readInbound(
  raw: string | ArrayBuffer,
  state: InboundState,
  limits: { max_bytes: number; per_minute: number },
  now_ms: number,
): Inbound {
  const bytes = typeof raw === "string" ? new TextEncoder().encode(raw).byteLength : raw.byteLength;
  if (bytes > limits.max_bytes) return { kind: "close", code: CLOSE.too_big, reason: `messages are limited to ${limits.max_bytes} bytes` };
  const parsed = parseInbound(raw);
  if (parsed.kind === "ack" && state.ack_nonce !== null && parsed.nonce === state.ack_nonce) return parsed;
  if (now_ms - state.window_start_ms >= 60_000) {
    state.window_start_ms = now_ms;
    state.window_count = 0;
  }
  state.window_count++;
  if (state.window_count > limits.per_minute) return { kind: "close", code: CLOSE.policy, reason: "too many messages" };
  return parsed;
}

function parseInbound(raw: string | ArrayBuffer): Exclude<Inbound, { kind: "close" }> {
  if (typeof raw !== "string") return { kind: "invalid", message: "messages must be JSON text" };
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return { kind: "invalid", message: "malformed JSON" };
  }
  const message = typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>) : {};
  if (message.type === "ack") {
    const nonce = message.nonce;
    return typeof nonce === "string" && nonce.length > 0 && nonce.length <= 64
      ? { kind: "ack", nonce }
      : { kind: "invalid", message: "nonce must be the ack_request's nonce" };
  }
  if (message.type !== "resume")
    return { kind: "invalid", message: 'expected {"type":"resume","after_seq":N} or {"type":"ack","nonce":"..."}' };
  const after_seq = message.after_seq;
  if (typeof after_seq !== "number" || !Number.isSafeInteger(after_seq) || after_seq < 0) {
    return { kind: "invalid", message: "after_seq must be a whole number >= 0" };
  }
  return { kind: "resume", after_seq };
}
