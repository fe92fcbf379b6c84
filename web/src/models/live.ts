/**
 * The live feed of the active wallet over a WebSocket, and the polling that stands in for it. While the
 * socket is up, the server pushes every change; while it is down, the wallet and the first history page are
 * refetched every 5 s and after each of the user's own actions, so the screen is never more than a few
 * seconds stale.
 *
 * The server bounds what it keeps unread for a socket: now and then it sends `ack_request`, answered here with
 * an `ack` as soon as that message is handled (everything before it has been handled too, in order). A socket
 * that falls too far behind (a frozen tab) is closed with 4413 and this client reconnects and resumes from its
 * last entry. A socket closed with 4401 belongs to a session that has ended: reconnecting is pointless, so the
 * feed stops and one refresh lets the 401 take the user to the login screen.
 */
import { signal } from "@preact/signals";
import type { Entry, Wallet } from "../types";
import { applyEntry, applyWallet, lastSeq, refresh } from "./wallet";

export type LiveState = "live" | "reconnecting" | "offline";

export const liveState = signal<LiveState>("reconnecting");
/** True until the first connection attempt has ended, so the indicator can say "connecting" at start. */
export const liveFirstAttempt = signal(true);

const POLL_MS = 5_000;
const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 10_000;
/** After this many failed attempts in a row the indicator says "offline" rather than "reconnecting". */
const OFFLINE_AFTER_FAILURES = 3;
/**
 * A socket can die without a close event (a phone changing networks), and the indicator would then claim
 * "live" forever. So a live socket is pinged; the server answers a ping with a pong (or, if it does not know
 * pings, with an error event), and a socket that says nothing at all within the grace period is closed.
 */
const PING_EVERY_MS = 30_000;
const PING_GRACE_MS = 10_000;
/** The server's close code for a session that was logged out, revoked or expired. */
const CLOSE_SESSION_ENDED = 4401;

let walletId: string | null = null;
let socket: WebSocket | null = null;
let failures = 0;
let reconnectTimer: ReturnType<typeof setTimeout> | null = null;
let pollTimer: ReturnType<typeof setInterval> | null = null;
let pingTimer: ReturnType<typeof setInterval> | null = null;
let lastMessageAt = 0;

function liveUrl(id: string): string {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/api/v1/wallets/${encodeURIComponent(id)}/live`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

function isWallet(value: unknown): value is Wallet {
  return isRecord(value) && typeof value.id === "string" && typeof value.balance === "number" && typeof value.version === "number";
}

function isEntry(value: unknown): value is Entry {
  return isRecord(value) && typeof value.id === "string" && typeof value.seq === "number" && typeof value.amount === "number";
}

function onMessage(ws: WebSocket, data: unknown): void {
  lastMessageAt = Date.now();
  if (typeof data !== "string") return;
  let message: unknown;
  try {
    message = JSON.parse(data);
  } catch {
    return;
  }
  if (!isRecord(message)) return;
  if ((message.type === "snapshot" || message.type === "balance") && isWallet(message.wallet)) {
    // The snapshot is the server's proof that the feed works, so only then does the indicator say live.
    if (message.type === "snapshot") {
      failures = 0;
      liveState.value = "live";
      liveFirstAttempt.value = false;
    }
    applyWallet(message.wallet);
  } else if (message.type === "entry" && isEntry(message.entry)) {
    // A hole in the seqs means entries were missed; the HTTP first page fills it.
    if (!applyEntry(message.entry)) void refresh();
  } else if (message.type === "ack_request" && typeof message.nonce === "string") {
    // Handled in order, so every event before this one has been applied: tell the server it may send more.
    ws.send(JSON.stringify({ type: "ack", nonce: message.nonce }));
  } else if (message.type === "resume_incomplete" && typeof message.next_after_seq === "number") {
    // The server replays a bounded number of entries per resume and says where to continue.
    ws.send(JSON.stringify({ type: "resume", after_seq: message.next_after_seq }));
  }
}

function stateAfterFailure(): LiveState {
  const offline = typeof navigator !== "undefined" && navigator.onLine === false;
  return offline || failures >= OFFLINE_AFTER_FAILURES ? "offline" : "reconnecting";
}

function scheduleReconnect(): void {
  if (walletId === null || reconnectTimer !== null) return;
  failures += 1;
  liveFirstAttempt.value = false;
  liveState.value = stateAfterFailure();
  // Exponential backoff with a little jitter, so many tabs do not reconnect in step, never above the cap.
  const exponential = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.min(failures - 1, 10));
  const delay = Math.min(BACKOFF_CAP_MS, exponential * (0.8 + Math.random() * 0.4));
  reconnectTimer = setTimeout(() => {
    reconnectTimer = null;
    connect();
  }, delay);
}

function connect(): void {
  const id = walletId;
  if (id === null || socket !== null) return;
  let ws: WebSocket;
  try {
    ws = new WebSocket(liveUrl(id));
  } catch {
    scheduleReconnect();
    return;
  }
  socket = ws;
  ws.addEventListener("open", () => {
    // Ask for everything after the newest entry we hold; the server then continues with live events.
    const after = lastSeq();
    if (after > 0) ws.send(JSON.stringify({ type: "resume", after_seq: after }));
  });
  ws.addEventListener("message", (event) => {
    if (socket === ws) onMessage(ws, event.data);
  });
  ws.addEventListener("close", (event) => (event.code === CLOSE_SESSION_ENDED ? sessionEnded(ws) : lost(ws)));
}

/** The session behind the socket has ended: stop following, and let the 401 of a refresh show the login. */
function sessionEnded(ws: WebSocket): void {
  if (socket !== ws) return;
  socket = null;
  walletId = null;
  clearTimers();
  liveState.value = "offline";
  void refresh();
}

/** Forgets a socket that closed or stopped answering, and schedules the next attempt. */
function lost(ws: WebSocket): void {
  if (socket !== ws) return;
  socket = null;
  // Whatever happened while a live socket was going down, one refresh brings the screen up to date.
  if (liveState.value === "live") void refresh();
  scheduleReconnect();
}

function ping(): void {
  const ws = socket;
  if (ws === null || liveState.value !== "live") return;
  const sentAt = Date.now();
  ws.send(JSON.stringify({ type: "ping" }));
  setTimeout(() => {
    if (socket !== ws || lastMessageAt >= sentAt) return;
    // A dead connection may never deliver its close event, so the socket is given up on right away.
    lost(ws);
    ws.close(4000, "no answer to ping");
  }, PING_GRACE_MS);
}

function closeSocket(): void {
  const ws = socket;
  socket = null;
  if (ws !== null) ws.close(1000, "client closed");
}

function clearTimers(): void {
  if (reconnectTimer !== null) clearTimeout(reconnectTimer);
  if (pollTimer !== null) clearInterval(pollTimer);
  if (pingTimer !== null) clearInterval(pingTimer);
  reconnectTimer = null;
  pollTimer = null;
  pingTimer = null;
}

/** Follows wallet `id`: connects the feed and polls while it is not live. */
export function startLive(id: string): void {
  stopLive();
  walletId = id;
  failures = 0;
  liveFirstAttempt.value = true;
  liveState.value = "reconnecting";
  connect();
  pollTimer = setInterval(() => {
    if (liveState.value !== "live") void refresh();
  }, POLL_MS);
  pingTimer = setInterval(ping, PING_EVERY_MS);
}

/** Stops following any wallet (logout, or switching wallets). */
export function stopLive(): void {
  walletId = null;
  clearTimers();
  closeSocket();
}

/** Called after each of the user's own money moves: without the feed, nothing else would show the result. */
export function afterOwnAction(): void {
  if (liveState.value !== "live") void refresh();
}

// Coming back online is the best moment to retry at once instead of waiting out the backoff.
if (typeof window !== "undefined") {
  window.addEventListener("online", () => {
    if (walletId === null || socket !== null) return;
    if (reconnectTimer !== null) clearTimeout(reconnectTimer);
    reconnectTimer = null;
    failures = 0;
    connect();
  });
  window.addEventListener("offline", () => {
    if (walletId !== null && liveState.value !== "live") liveState.value = "offline";
  });
}
