/**
 * The live feed's protocol: the per-socket state kept in the hibernation attachment, the events a wallet
 * sends, and the parsing of what a client may send. The wallet object wires these to its sockets.
 *
 * Events (server → client), one JSON object per message:
 *   {"type":"snapshot","wallet"}   first, on connect
 *   {"type":"balance","wallet"}    after every committed change of the wallet
 *   {"type":"entry","entry"}       for every new entry, in seq order
 *   {"type":"resume_incomplete","next_after_seq"}  a replay stopped at LIVE_RESUME_MAX_ENTRIES; resume again
 *   {"type":"error","code","message"}              a malformed client message (the socket stays open)
 * Client → server: {"type":"resume","after_seq":N}; {"type":"ping"} is answered with {"type":"pong"} by the
 * runtime itself, without waking a hibernating object.
 */
import type { EntryView, WalletView } from "../domain/views";

/** The header the edge sets, after authenticating the session, to tell the wallet who is connecting. */
export const LIVE_USER_HEADER = "x-live-user";

/** WebSocket close codes used. */
export const CLOSE = { policy: 1008, too_big: 1009 } as const;

/** What a socket remembers across hibernation. */
export interface SocketState {
  user_id: string;
  /** The wallet's last seq when the socket connected: later entries reach it live. */
  live_from_seq: number;
  /** Inbound rate limiting: the start of the current one-minute window and the messages in it. */
  window_start_ms: number;
  window_count: number;
}

export const snapshotEvent = (wallet: WalletView): string => JSON.stringify({ type: "snapshot", wallet });
export const balanceEvent = (wallet: WalletView): string => JSON.stringify({ type: "balance", wallet });
export const entryEvent = (entry: EntryView): string => JSON.stringify({ type: "entry", entry });
export const errorEvent = (code: string, message: string): string => JSON.stringify({ type: "error", code, message });
export const incompleteEvent = (next_after_seq: number): string => JSON.stringify({ type: "resume_incomplete", next_after_seq });

/** The outcome of reading one client message. */
export type Inbound =
  | { kind: "resume"; after_seq: number }
  | { kind: "invalid"; message: string }
  | { kind: "close"; code: number; reason: string };

/** Checks size and rate (updating `state`), then parses. */
export function readInbound(raw: string | ArrayBuffer, state: SocketState, limits: { max_bytes: number; per_minute: number }, now_ms: number): Inbound {
  const bytes = typeof raw === "string" ? new TextEncoder().encode(raw).byteLength : raw.byteLength;
  if (bytes > limits.max_bytes) return { kind: "close", code: CLOSE.too_big, reason: `messages are limited to ${limits.max_bytes} bytes` };
  if (now_ms - state.window_start_ms >= 60_000) {
    state.window_start_ms = now_ms;
    state.window_count = 0;
  }
  state.window_count++;
  if (state.window_count > limits.per_minute) return { kind: "close", code: CLOSE.policy, reason: "too many messages" };
  if (typeof raw !== "string") return { kind: "invalid", message: "messages must be JSON text" };
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return { kind: "invalid", message: "malformed JSON" };
  }
  if (typeof parsed !== "object" || parsed === null || (parsed as { type?: unknown }).type !== "resume") {
    return { kind: "invalid", message: 'expected {"type":"resume","after_seq":N}' };
  }
  const after_seq = (parsed as { after_seq?: unknown }).after_seq;
  if (typeof after_seq !== "number" || !Number.isSafeInteger(after_seq) || after_seq < 0) {
    return { kind: "invalid", message: "after_seq must be a whole number >= 0" };
  }
  return { kind: "resume", after_seq };
}
