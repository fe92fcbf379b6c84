/**
 * The stand-ins the web models' tests (models-*.test.ts) share. The browser is replaced by small stand-ins
 * (window as an EventTarget with a Map-backed localStorage, location, document, fetch and WebSocket), and time by
 * node:test's mock timers, so nothing waits for real. Importing this module installs them on globalThis and
 * registers the hooks that reset them and enable the mock timers around every test; a test file imports the
 * model sources only after it (with `await import`), so every model module sees the stand-ins even if it looks
 * for them when it loads. The model sources import each other without extensions, as Vite wants; the resolve
 * hook below lets Node find them.
 *
 * Kept in one module, evaluated once per process, so that running every web test in one process (index.js)
 * registers these hooks once, as when they lived in a single test file.
 */
import { registerHooks } from "node:module";
import { afterEach, beforeEach, mock } from "node:test";
import { MemoryStorage } from "./memory-storage.ts";
import type { Me, PaymentRequest, Wallet } from "../src/types.ts";

registerHooks({
  resolve(specifier, context, nextResolve) {
    const relative = specifier.startsWith("./") || specifier.startsWith("../");
    if (!relative || /\.[cm]?[jt]sx?$/.test(specifier)) return nextResolve(specifier, context);
    return nextResolve(`${specifier}.ts`, context);
  },
});

/** A socket the test drives by hand: it records what the feed sends and whether it closed it. */
export class FakeSocket extends EventTarget {
  static opened: FakeSocket[] = [];
  closed = false;
  readonly sent: unknown[] = [];
  constructor() {
    super();
    FakeSocket.opened.push(this);
  }
  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }
  close(): void {
    this.closed = true;
  }
  /** The server pushes one message. */
  push(message: unknown): void {
    this.dispatchEvent(Object.assign(new Event("message"), { data: JSON.stringify(message) }));
  }
  /** The connection ends with `code`, as the browser reports it. */
  drop(code: number): void {
    this.dispatchEvent(Object.assign(new Event("close"), { code }));
  }
}

export const storage = new MemoryStorage();
export const fakeWindow = Object.assign(new EventTarget(), { localStorage: storage });
/** How many listeners of each event type are registered on the window now, so a test can see them removed. */
const windowListeners = new Map<string, number>();
const addListener = fakeWindow.addEventListener.bind(fakeWindow);
const removeListener = fakeWindow.removeEventListener.bind(fakeWindow);
fakeWindow.addEventListener = (type: string, ...rest: [EventListenerOrEventListenerObject | null, unknown?]) => {
  windowListeners.set(type, (windowListeners.get(type) ?? 0) + 1);
  addListener(type, ...(rest as [EventListenerOrEventListenerObject | null]));
};
fakeWindow.removeEventListener = (type: string, ...rest: [EventListenerOrEventListenerObject | null, unknown?]) => {
  windowListeners.set(type, (windowListeners.get(type) ?? 0) - 1);
  removeListener(type, ...(rest as [EventListenerOrEventListenerObject | null]));
};
export const listenerCount = (type: string): number => windowListeners.get(type) ?? 0;
export const fakeLocation = { hash: "", protocol: "http:", host: "wallet.test" };
Object.assign(globalThis, { window: fakeWindow, location: fakeLocation, document: { visibilityState: "visible" }, WebSocket: FakeSocket });

/** Every request the models made, as "METHOD path". */
export const requests: string[] = [];
/** What the fake server answers. A test may replace `answer`; the beforeEach hook below puts the usual one back. */
export const server: { answer: (method: string, path: string) => { status: number; body: unknown } } = {
  answer: () => ({ status: 200, body: {} }),
};
globalThis.fetch = async (input: string | URL | Request, init?: RequestInit) => {
  const path = (input instanceof Request ? input.url : input.toString()).replace(/^\/api\/v1/, "");
  const method = init?.method ?? "GET";
  requests.push(`${method} ${path}`);
  const { status, body } = server.answer(method, path);
  return {
    ok: status >= 200 && status < 300,
    status,
    headers: new Headers(),
    text: async () => JSON.stringify(body),
  } as unknown as Response;
};

/** Lets the fake fetch's promises and the models' awaits after them run (they are microtasks, not timers). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

export function walletOf(id: string, owner: string): Wallet {
  return {
    id,
    owner_id: owner,
    currency: "USD",
    balance: 0,
    available: 0,
    held: 0,
    version: 1,
    chain: { head_seq: 0, head_hash: "", verified_seq: 0 },
  };
}

export function meOf(userId: string, walletId: string): Me {
  return {
    user: { id: userId, handle: userId, display_name: userId, created_at: "2026-01-01T00:00:00.000Z", phone: null, role: "user" },
    wallets: [walletOf(walletId, userId)],
  };
}

/** A saved transfer of `userId`, as the pending model stores it before sending. */
export function storeRequest(key: string, userId: string): void {
  const record = {
    key,
    kind: "transfer",
    route: "/transfers",
    body: { amount: 100 },
    created_at: new Date().toISOString(),
    user_id: userId,
    summary: "Send $1.00 to @bob",
  };
  storage.setItem(`wallet.pending.${key}`, JSON.stringify(record));
}

export const posts = (): string[] => requests.filter((r) => r.startsWith("POST "));

/** Every request path, without its query string. */
export const paths = (): string[] => requests.map((r) => r.replace(/\?.*$/, ""));

beforeEach(() => {
  mock.timers.enable({ apis: ["setInterval", "setTimeout"] });
  requests.length = 0;
  FakeSocket.opened = [];
  for (const name of storage.keys()) storage.removeItem(name);
  fakeLocation.hash = "";
  server.answer = (method, path) => {
    if (path.startsWith("/audit/self-audit")) return { status: 200, body: { backlog_rows: 0, lag_ms: 0, last_run_at: null, findings: 0 } };
    if (path.startsWith("/audit")) return { status: 200, body: { items: [], next_cursor: null } };
    if (path.endsWith("/history?limit=50")) return { status: 200, body: { items: [], next_cursor: null } };
    if (method === "GET" && path.startsWith("/wallets/"))
      return { status: 200, body: walletOf(decodeURIComponent(path.split("/")[2] ?? ""), "usr_a") };
    return { status: 201, body: {} };
  };
});

afterEach(() => {
  mock.timers.reset();
});

/** A payment request as the server shows it; `requester` is the handle of who asked. */
export function paymentRequestOf(id: string, requester: string, status: PaymentRequest["status"] = "open"): PaymentRequest {
  return {
    id,
    status,
    requester: { handle: requester, display_name: requester },
    requester_wallet_id: `wal_${requester}`,
    payer: { handle: requester === "usr_a" ? "usr_b" : "usr_a", display_name: "" },
    amount: 1250,
    currency: "USD",
    memo: null,
    created_at: `2026-11-30T10:00:0${id.slice(-1)}.000Z`,
    expires_at: "2026-12-07T00:00:00.000Z",
    resolved_at: null,
    transfer_id: null,
    split_id: null,
  };
}
