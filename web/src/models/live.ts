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
import { createModel, effect, signal } from "@preact/signals";
import type { Entry, PaymentRequest, Wallet } from "../types";
import { isPaymentRequest } from "./requests";
import type { WalletModel } from "./wallet";

export type LiveState = "live" | "reconnecting" | "offline";

/** What the feed writes to: the wallet model of the same app instance. */
export type LiveTarget = Pick<WalletModel, "applyWallet" | "applyEntry" | "lastSeq" | "refresh">;

/**
 * What else listens to the feed: payment requests as they are created and change status, and a call whenever
 * what the feed pushes may have been missed (each new connection, and each poll while there is none), since
 * the server replays entries on resume but not requests.
 */
export interface LiveListeners {
  onPaymentRequest?: (request: PaymentRequest) => void;
  onResync?: () => void;
}

/** How often the wallet is refetched while the feed is not live. */
export const POLL_MS = 5_000;
const BACKOFF_BASE_MS = 500;
/** The longest wait between two connection attempts. */
export const BACKOFF_CAP_MS = 10_000;
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
export const CLOSE_SESSION_ENDED = 4401;

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

/** Parses one pushed message; anything that is not a JSON object is ignored. */
function parseMessage(data: unknown): Record<string, unknown> | null {
  if (typeof data !== "string") return null;
  try {
    const message: unknown = JSON.parse(data);
    return isRecord(message) ? message : null;
  } catch {
    return null;
  }
}

/** The delay before attempt number `failures + 1`: exponential, with jitter so tabs do not retry in step. */
function backoffDelay(failures: number): number {
  const exponential = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.min(failures - 1, 10));
  return Math.min(BACKOFF_CAP_MS, exponential * (0.8 + Math.random() * 0.4));
}

/**
 * The live feed of one app instance, writing into `target`. `start(id)` follows a wallet and `stop()` stops;
 * the socket and every timer belong to the model, and its effect adds the online/offline listeners, so
 * disposing the model closes the socket, clears the timers and removes the listeners.
 */
export const LiveModel = createModel((target: LiveTarget, listeners: LiveListeners = {}) => {
  const status = signal<LiveState>("reconnecting");
  /** True until the first connection attempt has ended, so the indicator can say "connecting" at start. */
  const firstAttempt = signal(true);

  let walletId: string | null = null;
  let socket: WebSocket | null = null;
  let failures = 0;
  let lastMessageAt = 0;
  /** Set on dispose: a model that is gone must not be restarted by a late caller. */
  let disposed = false;
  let reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  let pollTimer: ReturnType<typeof setInterval> | null = null;
  let pingTimer: ReturnType<typeof setInterval> | null = null;
  /** The grace timers of pings still unanswered, so stopping can clear them too. */
  const pingChecks = new Set<ReturnType<typeof setTimeout>>();

  function onMessage(ws: WebSocket, data: unknown): void {
    lastMessageAt = Date.now();
    const message = parseMessage(data);
    if (message === null) return;
    if ((message.type === "snapshot" || message.type === "balance") && isWallet(message.wallet)) {
      // The snapshot is the server's proof that the feed works, so only then does the indicator say live.
      if (message.type === "snapshot") {
        failures = 0;
        status.value = "live";
        firstAttempt.value = false;
        listeners.onResync?.();
      }
      target.applyWallet(message.wallet);
    } else if (message.type === "entry" && isEntry(message.entry)) {
      // A hole in the seqs means entries were missed; the HTTP first page fills it.
      if (!target.applyEntry(message.entry)) void target.refresh();
    } else if (message.type === "payment_request" && isPaymentRequest(message.payment_request)) {
      listeners.onPaymentRequest?.(message.payment_request);
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
    firstAttempt.value = false;
    status.value = stateAfterFailure();
    reconnectTimer = setTimeout(() => {
      reconnectTimer = null;
      connect();
    }, backoffDelay(failures));
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
      const after = target.lastSeq();
      if (socket === ws && after > 0) ws.send(JSON.stringify({ type: "resume", after_seq: after }));
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
    status.value = "offline";
    void target.refresh();
  }

  /** Forgets a socket that closed or stopped answering, and schedules the next attempt. */
  function lost(ws: WebSocket): void {
    if (socket !== ws) return;
    socket = null;
    // Whatever happened while a live socket was going down, one refresh brings the screen up to date.
    if (status.value === "live") void target.refresh();
    scheduleReconnect();
  }

  function ping(): void {
    const ws = socket;
    if (ws === null || status.value !== "live") return;
    const sentAt = Date.now();
    ws.send(JSON.stringify({ type: "ping" }));
    const check = setTimeout(() => {
      pingChecks.delete(check);
      if (socket !== ws || lastMessageAt >= sentAt) return;
      // A dead connection may never deliver its close event, so the socket is given up on right away.
      lost(ws);
      ws.close(4000, "no answer to ping");
    }, PING_GRACE_MS);
    pingChecks.add(check);
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
    for (const check of pingChecks) clearTimeout(check);
    pingChecks.clear();
    reconnectTimer = null;
    pollTimer = null;
    pingTimer = null;
  }

  /** Stops following any wallet (logout, switching wallets, or disposal). */
  function stop(): void {
    walletId = null;
    clearTimers();
    closeSocket();
  }

  /** Follows wallet `id`: connects the feed and polls while it is not live. */
  function start(id: string): void {
    stop();
    if (disposed) return;
    walletId = id;
    failures = 0;
    firstAttempt.value = true;
    status.value = "reconnecting";
    connect();
    pollTimer = setInterval(() => {
      if (status.peek() === "live") return;
      void target.refresh();
      listeners.onResync?.();
    }, POLL_MS);
    pingTimer = setInterval(ping, PING_EVERY_MS);
  }

  // Coming back online is the best moment to retry at once instead of waiting out the backoff.
  function onOnline(): void {
    if (walletId === null || socket !== null) return;
    if (reconnectTimer !== null) clearTimeout(reconnectTimer);
    reconnectTimer = null;
    failures = 0;
    connect();
  }

  function onOffline(): void {
    if (walletId !== null && status.peek() !== "live") status.value = "offline";
  }

  effect(() => {
    window.addEventListener("online", onOnline);
    window.addEventListener("offline", onOffline);
    return () => {
      disposed = true;
      window.removeEventListener("online", onOnline);
      window.removeEventListener("offline", onOffline);
      stop();
    };
  });

  return {
    /** What the indicator shows; written only by this model. */
    status,
    firstAttempt,
    start,
    stop,
    /** Called after each of the user's own money moves: without the feed, nothing else would show the result. */
    afterOwnAction(): void {
      if (status.peek() !== "live") void target.refresh();
    },
  };
});

export type LiveModel = InstanceType<typeof LiveModel>;
