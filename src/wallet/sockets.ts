/**
 * The live feed's sockets, as one wallet object holds them: accepting (hibernatable, tagged by user and
 * session), the validated per-socket state in the hibernation attachment, every send, replays, and closing.
 *
 * Two rules hold for every message sent, whichever path sends it:
 *
 * - **The session must still be live.** A socket carries its session's non-secret id (wallet/live.ts,
 *   `liveSessionId`) as a tag and its expiry in the attachment. Past the expiry it is closed with 4401 instead
 *   of being sent anything; logout, "log out everywhere" and the eviction of old sessions close it at once
 *   (the coordinator calls `WalletObject.closeSessions`).
 * - **A socket never has more than `LIVE_MAX_UNREAD_BYTES` outstanding.** The Workers runtime buffers whatever
 *   `send()` is given for as long as the client does not read it, and offers no backpressure signal (its
 *   WebSocket has no working `bufferedAmount`), so a client that stops reading would otherwise grow the
 *   server's memory without bound. Instead the wallet counts the bytes it sends each socket and, once a
 *   quarter of the budget is outstanding, sends `ack_request` with a random nonce; the client answers `ack`
 *   with that nonce, which it can only know by reading everything sent before it, and the bytes up to the
 *   request are then known to be read. A socket whose outstanding bytes would pass the budget is closed with
 *   4413 (reconnect and resume: every entry is in storage), so the runtime holds at most the budget per socket.
 */
import { base64urlEncode } from "../auth/encoding";
import type { EntryView, WalletView } from "../domain/views";
import {
  CLOSE,
  LIVE_SESSION_EXPIRES_HEADER,
  LIVE_SESSION_HEADER,
  LIVE_USER_HEADER,
  SESSION_ID_SHAPE,
  ackRequestEvent,
  entryEvent,
  errorEvent,
  incompleteEvent,
  readInbound,
  sessionTag,
  snapshotEvent,
} from "./live";

/** What a socket remembers across hibernation (its attachment), checked by `readSocketState` on every read. */
export interface SocketState {
  user_id: string;
  /** The session the socket was opened with (`liveSessionId`), and when that session expires. */
  session_id: string;
  session_expires_ms: number;
  /** The wallet's last seq when the socket connected: later entries reach it live, earlier ones by replay. */
  live_from_seq: number;
  /** Inbound rate limiting: the start of the current one-minute window and the messages in it. */
  window_start_ms: number;
  window_count: number;
  /** Bytes sent on this socket so far, and how many of them the client has shown it read (by an `ack`). */
  sent_bytes: number;
  acked_bytes: number;
  /** The outstanding `ack_request`'s nonce, and `sent_bytes` just after it was sent; null when none. */
  ack_nonce: string | null;
  ack_at_bytes: number;
}

/** The limits the sockets enforce (all from `[vars]`, see src/config.ts). */
export interface LiveLimits {
  max_sockets: number;
  max_inbound_bytes: number;
  max_inbound_per_minute: number;
  resume_max_entries: number;
  max_unread_bytes: number;
}

/** Reads entries with `after < seq <= upto`, oldest first, at most `limit`. */
export type EntryReader = (after: number, upto: number, limit: number) => EntryView[];

/** Who is connecting, as the edge established it, and where the live part of the feed starts. */
export interface Connection {
  user_id: string;
  session_id: string;
  session_expires_ms: number;
  after_seq: number | null;
}

/** What an upgrade request asks for, or the HTTP status that refuses it. */
export type UpgradeRequest = { ok: true; connection: Connection } | { ok: false; status: number };

/**
 * Room kept in every replay for what follows the entries (an `ack_request` and a `resume_incomplete`, each
 * well under 100 bytes), so a replay that fills the budget can still say where to continue.
 */
const REPLAY_TAIL_BYTES = 256;
/** A socket that is open: the WebSocket `readyState` OPEN. */
const OPEN = 1;
const encoder = new TextEncoder();

/** One message, with its size on the wire counted once however many sockets it goes to. */
interface Outgoing {
  text: string;
  bytes: number;
}

const outgoing = (text: string): Outgoing => ({ text, bytes: encoder.encode(text).byteLength });

/** The attachment if it has every field with the right type, else null (the socket is then closed). */
export function readSocketState(raw: unknown): SocketState | null {
  if (typeof raw !== "object" || raw === null) return null;
  const s = raw as Record<string, unknown>;
  const counts = ["session_expires_ms", "live_from_seq", "window_start_ms", "window_count", "sent_bytes", "acked_bytes", "ack_at_bytes"];
  if (!counts.every((k) => Number.isSafeInteger(s[k]) && (s[k] as number) >= 0)) return null;
  if (typeof s.user_id !== "string" || typeof s.session_id !== "string" || !SESSION_ID_SHAPE.test(s.session_id)) return null;
  if (s.ack_nonce !== null && typeof s.ack_nonce !== "string") return null;
  if ((s.acked_bytes as number) > (s.sent_bytes as number)) return null;
  return raw as SocketState;
}

/** Reads the edge's headers and the query of an upgrade meant for the wallet owned by `owner_id`. */
export function readUpgrade(request: Request, owner_id: string, now_ms: number): UpgradeRequest {
  if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") return { ok: false, status: 426 };
  const user_id = request.headers.get(LIVE_USER_HEADER);
  if (user_id !== owner_id) return { ok: false, status: 403 };
  const session_id = request.headers.get(LIVE_SESSION_HEADER) ?? "";
  const session_expires_ms = Number(request.headers.get(LIVE_SESSION_EXPIRES_HEADER));
  // Without a session to check every send against, no socket: the edge always sets both.
  if (!SESSION_ID_SHAPE.test(session_id) || !Number.isSafeInteger(session_expires_ms)) return { ok: false, status: 403 };
  if (session_expires_ms <= now_ms) return { ok: false, status: 401 };
  const afterTexts = new URL(request.url).searchParams.getAll("after_seq");
  // Digits only, given once, as every list's limit: Number() alone would read "" as 0 (a replay of everything),
  // and "0x1", "1e0" or " 1" as 1, so a mistyped value would be served instead of refused.
  if (afterTexts.length > 1 || (afterTexts.length === 1 && !/^\d{1,16}$/.test(afterTexts[0] ?? ""))) return { ok: false, status: 400 };
  const after_seq = afterTexts.length === 0 ? null : Number(afterTexts[0]);
  if (after_seq !== null && !Number.isSafeInteger(after_seq)) return { ok: false, status: 400 };
  return { ok: true, connection: { user_id, session_id, session_expires_ms, after_seq } };
}

/** The sockets of one wallet object. */
export class LiveSockets {
  constructor(
    private readonly ctx: DurableObjectState,
    private readonly limits: LiveLimits,
  ) {}

  /** Whether another socket may open (sockets still closing count: the runtime holds their backlog too). */
  hasRoom(): boolean {
    return this.ctx.getWebSockets().length < this.limits.max_sockets;
  }

  /** Accepts a socket for `conn`, sends the snapshot and any replay it asked for; returns the client end. */
  accept(conn: Connection, wallet: WalletView, read: EntryReader, now_ms: number): WebSocket {
    const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
    this.ctx.acceptWebSocket(server, [`user:${conn.user_id}`, sessionTag(conn.session_id)]);
    const state: SocketState = {
      user_id: conn.user_id,
      session_id: conn.session_id,
      session_expires_ms: conn.session_expires_ms,
      live_from_seq: wallet.chain.head_seq,
      window_start_ms: now_ms,
      window_count: 0,
      sent_bytes: 0,
      acked_bytes: 0,
      ack_nonce: null,
      ack_at_bytes: 0,
    };
    this.deliver(server, state, [outgoing(snapshotEvent(wallet))], now_ms);
    if (conn.after_seq !== null) this.replay(server, state, conn.after_seq, read, now_ms);
    return client;
  }

  /** Pushes one committed change (its messages, in order) to every open socket of the wallet. */
  broadcast(texts: readonly string[], now_ms: number): void {
    const sockets = this.ctx.getWebSockets();
    if (sockets.length === 0) return;
    const messages = texts.map(outgoing);
    for (const ws of sockets) {
      if (ws.readyState !== OPEN) continue;
      const state = this.stateOf(ws);
      if (state !== null) this.deliver(ws, state, messages, now_ms);
    }
  }

  /** Handles one client message: a resume replays, an ack frees budget, anything else is refused. */
  onMessage(ws: WebSocket, message: string | ArrayBuffer, read: EntryReader, now_ms: number): void {
    // A socket this side has closed (session ended, too slow) may still deliver what the client sent meanwhile.
    if (ws.readyState !== OPEN) return;
    const state = this.stateOf(ws);
    if (state === null || !this.sessionLive(ws, state, now_ms)) return;
    const limits = { max_bytes: this.limits.max_inbound_bytes, per_minute: this.limits.max_inbound_per_minute };
    const inbound = readInbound(message, state, limits, now_ms);
    ws.serializeAttachment(state);
    if (inbound.kind === "close") return this.end(ws, inbound.code, inbound.reason);
    if (inbound.kind === "invalid") this.deliver(ws, state, [outgoing(errorEvent("validation_error", inbound.message))], now_ms);
    else if (inbound.kind === "ack") this.acknowledge(ws, state, inbound.nonce, now_ms);
    else this.replay(ws, state, inbound.after_seq, read, now_ms);
  }

  /** Closes every socket opened with one of `session_ids` (4401); returns how many. */
  closeSessions(session_ids: readonly string[]): number {
    let closed = 0;
    for (const id of session_ids) {
      if (!SESSION_ID_SHAPE.test(id)) continue;
      for (const ws of this.ctx.getWebSockets(sessionTag(id))) {
        if (ws.readyState !== OPEN) continue;
        this.end(ws, CLOSE.session_ended, "session ended");
        closed++;
      }
    }
    return closed;
  }

  /**
   * Sends the entries after `after_seq` that this socket has not had live (those up to the seq it connected
   * at), oldest first, as many as `LIVE_RESUME_MAX_ENTRIES` and the socket's unread budget allow; then says
   * where to resume if more remain. Runs in one turn, so no live event can interleave with the replay.
   */
  private replay(ws: WebSocket, state: SocketState, after_seq: number, read: EntryReader, now_ms: number): void {
    if (!this.sessionLive(ws, state, now_ms)) return;
    const upto = state.live_from_seq;
    if (after_seq >= upto) return;
    let room = this.limits.max_unread_bytes - unread(state) - REPLAY_TAIL_BYTES;
    let last = after_seq;
    const messages: Outgoing[] = [];
    for (const entry of read(after_seq, upto, this.limits.resume_max_entries)) {
      const message = outgoing(entryEvent(entry));
      if (message.bytes > room) break;
      messages.push(message);
      room -= message.bytes;
      last = entry.seq;
    }
    if (!this.deliver(ws, state, messages, now_ms)) return;
    // The continuation goes last, after any ack_request, so a client acknowledges before it resumes.
    if (last < upto) this.deliver(ws, state, [outgoing(incompleteEvent(last))], now_ms);
  }

  /** An `ack` for the outstanding request marks everything sent before that request as read. */
  private acknowledge(ws: WebSocket, state: SocketState, nonce: string, now_ms: number): void {
    if (state.ack_nonce === null || nonce !== state.ack_nonce) {
      this.deliver(ws, state, [outgoing(errorEvent("validation_error", "nonce is not the outstanding ack_request's"))], now_ms);
      return;
    }
    state.acked_bytes = state.ack_at_bytes;
    state.ack_nonce = null;
    this.askForAck(ws, state);
    ws.serializeAttachment(state);
  }

  /**
   * Sends `messages` to one socket, within its session and its unread budget, or closes it. Returns whether
   * the socket is still open. The state is written back to the attachment before returning.
   */
  private deliver(ws: WebSocket, state: SocketState, messages: readonly Outgoing[], now_ms: number): boolean {
    if (!this.sessionLive(ws, state, now_ms)) return false;
    const bytes = messages.reduce((sum, m) => sum + m.bytes, 0);
    if (unread(state) + bytes > this.limits.max_unread_bytes) {
      this.end(ws, CLOSE.slow_consumer, `more than ${this.limits.max_unread_bytes} bytes unread: reconnect and resume`);
      return false;
    }
    try {
      for (const m of messages) ws.send(m.text);
    } catch {
      // A socket the client is closing cannot be written to; its close handler cleans up.
      return false;
    }
    state.sent_bytes += bytes;
    this.askForAck(ws, state);
    ws.serializeAttachment(state);
    return true;
  }

  /**
   * Asks the client to acknowledge once a quarter of the budget is outstanding, so a client that reads keeps
   * acknowledging well before the budget runs out; one request at a time. Its few bytes count as sent.
   */
  private askForAck(ws: WebSocket, state: SocketState): void {
    if (state.ack_nonce !== null || unread(state) < this.limits.max_unread_bytes / 4) return;
    const nonce = randomNonce();
    const message = outgoing(ackRequestEvent(nonce));
    try {
      ws.send(message.text);
    } catch {
      return;
    }
    state.sent_bytes += message.bytes;
    state.ack_nonce = nonce;
    state.ack_at_bytes = state.sent_bytes;
  }

  /** False (and the socket closed with 4401) once the session the socket was opened with has expired. */
  private sessionLive(ws: WebSocket, state: SocketState, now_ms: number): boolean {
    if (now_ms < state.session_expires_ms) return true;
    this.end(ws, CLOSE.session_ended, "session expired");
    return false;
  }

  /** The socket's validated state; a socket whose attachment is missing or malformed is closed (1011). */
  private stateOf(ws: WebSocket): SocketState | null {
    const state = readSocketState(ws.deserializeAttachment());
    if (state === null) this.end(ws, CLOSE.lost_state, "lost socket state");
    return state;
  }

  private end(ws: WebSocket, code: number, reason: string): void {
    try {
      ws.close(code, reason);
    } catch {
      // Already closing or closed.
    }
  }
}

/** Bytes sent that the client has not yet shown it read. */
function unread(state: SocketState): number {
  return state.sent_bytes - state.acked_bytes;
}

/** 96 random bits, base64url: unguessable, so only a client that read the request can answer it. */
function randomNonce(): string {
  return base64urlEncode(crypto.getRandomValues(new Uint8Array(12)));
}
