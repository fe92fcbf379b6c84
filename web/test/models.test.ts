/**
 * The web models' life cycle (issue 13): each is built with createModel, its effects, listeners and timers are
 * created inside the factory, and disposing the model (what `useModel` does when a view unmounts) stops them.
 * Every test first shows the timer or effect working, then disposes the model and shows it no longer runs.
 *
 * The browser is replaced by small stand-ins (window as an EventTarget with a Map-backed localStorage,
 * location, document, fetch and WebSocket), and time by node:test's mock timers, so nothing waits for real.
 * The model sources import each other without extensions, as Vite wants; a resolve hook lets Node find them.
 */
import assert from "node:assert/strict";
import { registerHooks } from "node:module";
import { afterEach, beforeEach, describe, mock, test } from "node:test";
import type { Me, Wallet } from "../src/types.ts";

registerHooks({
  resolve(specifier, context, nextResolve) {
    const relative = specifier.startsWith("./") || specifier.startsWith("../");
    if (!relative || /\.[cm]?[jt]sx?$/.test(specifier)) return nextResolve(specifier, context);
    return nextResolve(`${specifier}.ts`, context);
  },
});

/** A localStorage over a Map, enough for the pending model. */
class MemoryStorage {
  readonly items = new Map<string, string>();
  get length(): number {
    return this.items.size;
  }
  key(index: number): string | null {
    return [...this.items.keys()][index] ?? null;
  }
  getItem(name: string): string | null {
    return this.items.get(name) ?? null;
  }
  setItem(name: string, value: string): void {
    this.items.set(name, value);
  }
  removeItem(name: string): void {
    this.items.delete(name);
  }
  keys(): string[] {
    return [...this.items.keys()];
  }
}

/** A socket that never connects; the test only sees whether the live feed opened and closed it. */
class FakeSocket extends EventTarget {
  static opened: FakeSocket[] = [];
  closed = false;
  constructor() {
    super();
    FakeSocket.opened.push(this);
  }
  send(): void {}
  close(): void {
    this.closed = true;
  }
}

const storage = new MemoryStorage();
const fakeWindow = Object.assign(new EventTarget(), { localStorage: storage });
const fakeLocation = { hash: "", protocol: "http:", host: "wallet.test" };
Object.assign(globalThis, { window: fakeWindow, location: fakeLocation, document: { visibilityState: "visible" }, WebSocket: FakeSocket });

/** Every request the models made, as "METHOD path", and the answers the fake server gives. */
const requests: string[] = [];
let answer: (method: string, path: string) => { status: number; body: unknown } = () => ({ status: 200, body: {} });
globalThis.fetch = async (input: string | URL | Request, init?: RequestInit) => {
  const path = (input instanceof Request ? input.url : input.toString()).replace(/^\/api\/v1/, "");
  const method = init?.method ?? "GET";
  requests.push(`${method} ${path}`);
  const { status, body } = answer(method, path);
  return {
    ok: status >= 200 && status < 300,
    status,
    headers: new Headers(),
    text: async () => JSON.stringify(body),
  } as unknown as Response;
};

// Imported only now, so that live.ts (which looks for `window` when it loads) sees the stand-ins.
const { AccountModel, RESUME_EVERY_MS } = await import("../src/models/account.ts");
const { AppModel } = await import("../src/models/app.ts");
const { AUDIT_REFRESH_MS, AuditModel } = await import("../src/models/audit.ts");
const { NoticesModel } = await import("../src/models/notices.ts");
const { PendingModel } = await import("../src/models/pending.ts");
const { RouteModel } = await import("../src/models/route.ts");
const { SessionModel } = await import("../src/models/session.ts");
const { WalletModel } = await import("../src/models/wallet.ts");

/** Lets the fake fetch's promises and the models' awaits after them run (they are microtasks, not timers). */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

function walletOf(id: string, owner: string): Wallet {
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

function meOf(userId: string, walletId: string): Me {
  return {
    user: { id: userId, handle: userId, display_name: userId, created_at: "2026-01-01T00:00:00.000Z", phone: null, role: "user" },
    wallets: [walletOf(walletId, userId)],
  };
}

/** A saved transfer of `userId`, as the pending model stores it before sending. */
function storeRequest(key: string, userId: string): void {
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

const posts = (): string[] => requests.filter((r) => r.startsWith("POST "));

/** Every request path, without its query string. */
const paths = (): string[] => requests.map((r) => r.replace(/\?.*$/, ""));

beforeEach(() => {
  mock.timers.enable({ apis: ["setInterval", "setTimeout"] });
  requests.length = 0;
  FakeSocket.opened = [];
  for (const name of storage.keys()) storage.removeItem(name);
  fakeLocation.hash = "";
  answer = (method, path) => {
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

void describe("AuditModel", () => {
  void test("polls for new rows every AUDIT_REFRESH_MS until it is disposed", async () => {
    const audit = new AuditModel();
    await settle();
    assert.deepEqual(paths().sort(), ["GET /audit", "GET /audit/self-audit"], "creating the model loads the first page and the self-audit");
    assert.equal(audit.ready.value, true);

    requests.length = 0;
    mock.timers.tick(AUDIT_REFRESH_MS);
    await settle();
    assert.deepEqual(paths().sort(), ["GET /audit", "GET /audit/self-audit"], "the timer refreshes while the model lives");

    audit[Symbol.dispose]();
    requests.length = 0;
    mock.timers.tick(AUDIT_REFRESH_MS * 10);
    await settle();
    assert.deepEqual(requests, [], "no request after dispose: the interval was cleared");
  });
});

void describe("AccountModel", () => {
  void test("follows the user and resubmits saved requests every RESUME_EVERY_MS until it is disposed", async () => {
    const session = new SessionModel();
    const wallet = new WalletModel();
    const pending = new PendingModel();
    const notices = new NoticesModel();
    const account = new AccountModel({ session, wallet, pending, notices });

    session.me.value = meOf("usr_a", "wal_a");
    await settle();
    assert.equal(wallet.wallet.value?.id, "wal_a", "the follow effect picked the user's wallet");
    assert.equal(FakeSocket.opened.length, 1, "and started its live feed");

    storeRequest("k1", "usr_a");
    requests.length = 0;
    mock.timers.tick(RESUME_EVERY_MS);
    await settle();
    assert.deepEqual(posts(), ["POST /transfers"], "the resume timer resubmitted the saved request");

    account[Symbol.dispose]();
    assert.equal(FakeSocket.opened[0]?.closed, true, "disposing closed the live feed it started");
    storeRequest("k2", "usr_a");
    requests.length = 0;
    mock.timers.tick(RESUME_EVERY_MS * 3);
    fakeWindow.dispatchEvent(new Event("online"));
    await settle();
    assert.deepEqual(requests, [], "neither the resume timer, the online listener nor the live feed's polling sent anything");
    assert.deepEqual(storage.keys(), ["wallet.pending.k2"], "the request stays saved for the next page load");

    session.me.value = meOf("usr_b", "wal_b");
    await settle();
    assert.equal(wallet.wallet.value?.id, "wal_a", "the follow effect no longer runs");
    assert.equal(FakeSocket.opened.length, 1, "no new live feed");
    assert.deepEqual(requests, []);
    pending[Symbol.dispose]();
    wallet[Symbol.dispose]();
    session[Symbol.dispose]();
  });
});

void describe("PendingModel", () => {
  void test("disposing ends a retry wait at once, and the request stays saved", async () => {
    answer = () => ({ status: 503, body: { error: { code: "unavailable", message: "", request_id: "" } } });
    const pending = new PendingModel();
    const outcome = pending.submitMove({
      kind: "transfer",
      route: "/transfers",
      body: { amount: 100 },
      user_id: "usr_a",
      summary: "Send $1.00 to @bob",
    });
    await settle();
    assert.deepEqual(posts(), ["POST /transfers"]);
    mock.timers.tick(500);
    await settle();
    assert.deepEqual(posts(), ["POST /transfers", "POST /transfers"], "a transient answer is retried after the back-off");

    let state = "running";
    void outcome.then((o) => (state = o.state));
    pending[Symbol.dispose]();
    await settle();
    assert.equal(state, "pending", "the run stops at the wait instead of waiting out its timer");
    mock.timers.tick(60_000);
    await settle();
    assert.equal(posts().length, 2, "no retry after dispose: the back-off timer was cleared");
    assert.equal(storage.keys().length, 1, "the record is kept for the next page load");
  });
});

void describe("RouteModel", () => {
  void test("follows hashchange until it is disposed", () => {
    const route = new RouteModel();
    fakeLocation.hash = "#/audit";
    fakeWindow.dispatchEvent(new Event("hashchange"));
    assert.equal(route.route.value, "audit");

    route[Symbol.dispose]();
    fakeLocation.hash = "#/";
    fakeWindow.dispatchEvent(new Event("hashchange"));
    assert.equal(route.route.value, "audit", "the listener was removed");
  });
});

void describe("AppModel", () => {
  void test("disposing the app disposes the models created inside it", async () => {
    const app = new AppModel();
    app.session.me.value = meOf("usr_a", "wal_a");
    await settle();
    assert.equal(app.wallet.wallet.value?.id, "wal_a");

    app[Symbol.dispose]();
    requests.length = 0;
    storeRequest("k3", "usr_a");
    fakeLocation.hash = "#/audit";
    fakeWindow.dispatchEvent(new Event("hashchange"));
    mock.timers.tick(RESUME_EVERY_MS * 3);
    app.session.me.value = meOf("usr_b", "wal_b");
    await settle();
    assert.equal(app.route.route.value, "wallet", "the route's listener went with the app");
    assert.equal(app.wallet.wallet.value?.id, "wal_a", "so did the account's follow effect");
    assert.equal(FakeSocket.opened[0]?.closed, true, "and the live feed");
    assert.deepEqual(requests, [], "and every timer");
  });
});
