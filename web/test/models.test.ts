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
import { MemoryStorage } from "./memory-storage.ts";
import type { LiveTarget } from "../src/models/live.ts";
import type { Entry, Me, PaymentRequest, Wallet } from "../src/types.ts";

registerHooks({
  resolve(specifier, context, nextResolve) {
    const relative = specifier.startsWith("./") || specifier.startsWith("../");
    if (!relative || /\.[cm]?[jt]sx?$/.test(specifier)) return nextResolve(specifier, context);
    return nextResolve(`${specifier}.ts`, context);
  },
});

/** A socket the test drives by hand: it records what the feed sends and whether it closed it. */
class FakeSocket extends EventTarget {
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

const storage = new MemoryStorage();
const fakeWindow = Object.assign(new EventTarget(), { localStorage: storage });
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
const listenerCount = (type: string): number => windowListeners.get(type) ?? 0;
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

// Imported only now, so that every model module sees the stand-ins even if it looks for them when it loads.
const { AccountModel, RESUME_EVERY_MS } = await import("../src/models/account.ts");
const { AppModel } = await import("../src/models/app.ts");
const { AUDIT_REFRESH_MS, AuditModel } = await import("../src/models/audit.ts");
const { BACKOFF_CAP_MS, CLOSE_SESSION_ENDED, LiveModel, POLL_MS } = await import("../src/models/live.ts");
const { NoticesModel } = await import("../src/models/notices.ts");
const { PendingModel } = await import("../src/models/pending.ts");
const { RouteModel } = await import("../src/models/route.ts");
const { SessionModel } = await import("../src/models/session.ts");
const { WalletModel } = await import("../src/models/wallet.ts");
const { RequestsModel } = await import("../src/models/requests.ts");
const { ContactsModel } = await import("../src/models/contacts.ts");

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

  void test("Verify keeps the log coverage the first page reports, across every page", async () => {
    const page = (cursor: string | null, log?: { tree_size: number; leaves_checked: number; uncovered: number }) => ({
      ok: true,
      wallets_checked: 2,
      entries_checked: 5,
      pending: 0,
      problems: [],
      problems_omitted: 0,
      verified_by_self_audit: 0,
      unverified_wallets: 0,
      next_cursor: cursor,
      progress: { wallets_done: cursor === null ? 4 : 2, wallets_total: 4 },
      ...(log === undefined ? {} : { log }),
    });
    const base = answer;
    answer = (method, path) => {
      if (path.startsWith("/audit/verify"))
        return { status: 200, body: path.includes("cursor=") ? page(null) : page("c2", { tree_size: 9, leaves_checked: 4, uncovered: 1 }) };
      return base(method, path);
    };
    const audit = new AuditModel();
    await settle();
    await audit.runVerify();
    const state = audit.verifyState.value;
    assert.equal(state.state, "done");
    if (state.state !== "done") return;
    assert.equal(state.result.wallets_checked, 4, "both pages were folded in");
    assert.deepEqual(
      state.result.log,
      { tree_size: 9, leaves_checked: 4, uncovered: 1 },
      "the second page, which has no log, did not erase it",
    );
    audit[Symbol.dispose]();
  });
});

void describe("AccountModel", () => {
  void test("follows the user and resubmits saved requests every RESUME_EVERY_MS until it is disposed", async () => {
    const session = new SessionModel();
    const wallet = new WalletModel();
    const pending = new PendingModel();
    const notices = new NoticesModel();
    const requestsModel = new RequestsModel();
    const contacts = new ContactsModel();
    const account = new AccountModel({ session, wallet, pending, notices, requests: requestsModel, contacts });

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

/** A wallet model stand-in for the live feed: it holds entries up to `newestSeq` and counts refreshes. */
function feedTarget(newestSeq: number): LiveTarget & { refreshes: number; wallets: Wallet[]; entries: Entry[] } {
  const target = {
    refreshes: 0,
    wallets: [] as Wallet[],
    entries: [] as Entry[],
    applyWallet(next: Wallet): void {
      target.wallets.push(next);
    },
    applyEntry(entry: Entry): boolean {
      target.entries.push(entry);
      return entry.seq <= newestSeq + 1;
    },
    lastSeq: (): number => newestSeq,
    refresh(): Promise<void> {
      target.refreshes += 1;
      return Promise.resolve();
    },
  };
  return target;
}

const entryOf = (seq: number): Entry => ({ id: `ent_${seq}`, seq, amount: 100 }) as Entry;

void describe("LiveModel", () => {
  void test("resumes after the last seq, answers ack_request, fills holes, and stops for good on 4401", () => {
    const target = feedTarget(7);
    const live = new LiveModel(target);
    live.start("wal_a");
    const socket = FakeSocket.opened[0];
    assert.ok(socket);
    socket.dispatchEvent(new Event("open"));
    assert.deepEqual(socket.sent, [{ type: "resume", after_seq: 7 }], "the feed resumes after the newest entry held");
    assert.equal(live.status.value, "reconnecting");
    assert.equal(live.firstAttempt.value, true, "the indicator says connecting until the first attempt ends");

    socket.push({ type: "snapshot", wallet: walletOf("wal_a", "usr_a") });
    assert.equal(live.status.value, "live", "the snapshot makes the feed live");
    assert.equal(target.wallets.length, 1);
    socket.push({ type: "ack_request", nonce: "n1" });
    assert.deepEqual(socket.sent.at(-1), { type: "ack", nonce: "n1" }, "ack_request is answered with ack");
    socket.push({ type: "entry", entry: entryOf(8) });
    assert.equal(target.refreshes, 0, "the next entry needs no refresh");
    socket.push({ type: "entry", entry: entryOf(10) });
    assert.equal(target.refreshes, 1, "a hole in the seqs is filled by a refresh");

    socket.drop(CLOSE_SESSION_ENDED);
    assert.equal(live.status.value, "offline");
    assert.equal(target.refreshes, 2, "an ended session refreshes once, so the 401 shows the login");
    mock.timers.tick(BACKOFF_CAP_MS * 10);
    fakeWindow.dispatchEvent(new Event("online"));
    assert.equal(FakeSocket.opened.length, 1, "and never reconnects");
    assert.equal(target.refreshes, 2, "nor polls");
    live[Symbol.dispose]();
  });

  void test("disposing closes the socket, removes the online/offline listeners and clears every timer", () => {
    const online = listenerCount("online");
    const offline = listenerCount("offline");
    const target = feedTarget(0);
    const live = new LiveModel(target);
    assert.equal(listenerCount("online"), online + 1, "the model listens for online");
    assert.equal(listenerCount("offline"), offline + 1, "and for offline");
    live.start("wal_a");

    FakeSocket.opened[0]?.drop(1006);
    assert.equal(live.status.value, "reconnecting");
    mock.timers.tick(BACKOFF_CAP_MS);
    assert.equal(FakeSocket.opened.length, 2, "the reconnect timer opened a new socket");
    fakeWindow.dispatchEvent(new Event("offline"));
    assert.equal(live.status.value, "offline", "the offline listener updates the indicator");
    FakeSocket.opened[1]?.drop(1006);
    fakeWindow.dispatchEvent(new Event("online"));
    assert.equal(FakeSocket.opened.length, 3, "the online listener reconnects at once");
    const refreshes = target.refreshes;
    mock.timers.tick(POLL_MS);
    assert.equal(target.refreshes, refreshes + 1, "the poll timer refreshes while the feed is not live");

    live[Symbol.dispose]();
    assert.equal(FakeSocket.opened[2]?.closed, true, "disposing closed the open socket");
    assert.equal(listenerCount("online"), online, "and removed the online listener");
    assert.equal(listenerCount("offline"), offline, "and the offline listener");
    FakeSocket.opened[2]?.drop(1000);
    fakeWindow.dispatchEvent(new Event("offline"));
    fakeWindow.dispatchEvent(new Event("online"));
    mock.timers.tick(BACKOFF_CAP_MS * 10);
    assert.equal(FakeSocket.opened.length, 3, "no reconnect after dispose");
    assert.equal(target.refreshes, refreshes + 1, "no poll after dispose");
    live.start("wal_b");
    assert.equal(FakeSocket.opened.length, 3, "a disposed model cannot be started again");
  });

  void test("disposing while a reconnect is waiting clears its timer", () => {
    const live = new LiveModel(feedTarget(0));
    live.start("wal_a");
    FakeSocket.opened[0]?.drop(1006);
    live[Symbol.dispose]();
    mock.timers.tick(BACKOFF_CAP_MS * 10);
    fakeWindow.dispatchEvent(new Event("online"));
    assert.equal(FakeSocket.opened.length, 1, "the waiting reconnect never runs");
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

/** A history entry with this seq. */
function fullEntry(seq: number, kind: Entry["kind"] = "deposit"): Entry {
  return {
    id: `ent_${seq}`,
    seq,
    kind,
    amount: 1,
    balance_after: seq,
    transfer_id: `dep_${seq}`,
    counterparty: null,
    memo: null,
    created_at: "2026-11-21T10:00:00.000Z",
    prev_hash: "0".repeat(64),
    hash: "1".repeat(64),
    refund_of: null,
  };
}

const { NO_FILTERS, historyQuery, statementQuery, withNames } = await import("../src/models/wallet.ts");

void describe("WalletModel history filters (server-side) and statements", () => {
  void test("historyQuery sends local days as instants (to: the start of the next day) and only a valid handle", () => {
    assert.equal(historyQuery(NO_FILTERS), "");
    const q = new URLSearchParams(historyQuery({ kind: "transfer_in", from: "2026-11-01", to: "2026-11-21", counterparty: "@Bob" }) ?? "");
    assert.equal(q.get("kind"), "transfer_in");
    assert.equal(q.get("from"), new Date(2026, 10, 1).toISOString());
    assert.equal(q.get("to"), new Date(2026, 10, 22).toISOString());
    assert.equal(q.get("counterparty"), "bob");
    assert.equal(historyQuery({ ...NO_FILTERS, counterparty: "b!" }), null);
  });

  void test("statementQuery covers the calendar month in UTC days, both ends included", () => {
    assert.equal(statementQuery("2026-02", "pdf"), "from=2026-02-01&to=2026-02-28&format=pdf");
    assert.equal(statementQuery("2024-02", "csv"), "from=2024-02-01&to=2024-02-29&format=csv");
    assert.equal(statementQuery("2026-12", "json"), "from=2026-12-01&to=2026-12-31&format=json");
  });

  void test("a filter is asked of the server once it is still, pages with its own cursor, and is dropped with its timer", async () => {
    const wallet = new WalletModel();
    wallet.resetWallet(walletOf("wal_f", "usr_a"));
    answer = (_method, path) => {
      if (path.includes("cursor=c1")) return { status: 200, body: { items: [fullEntry(1)], next_cursor: null } };
      if (path.includes("kind=deposit")) return { status: 200, body: { items: [fullEntry(5), fullEntry(3)], next_cursor: "c1" } };
      return { status: 200, body: { items: [], next_cursor: null } };
    };
    wallet.setFilters({ ...NO_FILTERS, kind: "withdrawal" });
    wallet.setFilters({ ...NO_FILTERS, kind: "deposit" });
    await settle();
    assert.deepEqual(requests, [], "nothing is asked while the filters are still changing");
    mock.timers.tick(250);
    await settle();
    assert.deepEqual(requests, ["GET /wallets/wal_f/history?kind=deposit&limit=50"], "one request, for the filters as they ended");
    assert.deepEqual(
      wallet.visibleEntries.value.map((e) => e.seq),
      [5, 3],
    );
    await wallet.loadMore();
    assert.equal(requests.at(-1), "GET /wallets/wal_f/history?kind=deposit&limit=50&cursor=c1");
    assert.deepEqual(
      wallet.visibleEntries.value.map((e) => e.seq),
      [5, 3, 1],
    );
    // A live entry may or may not match: the server is asked again.
    requests.length = 0;
    wallet.applyEntry(fullEntry(6));
    mock.timers.tick(250);
    await settle();
    assert.deepEqual(requests, ["GET /wallets/wal_f/history?kind=deposit&limit=50"]);
    // An invalid handle asks nothing and says so.
    requests.length = 0;
    wallet.setFilters({ ...NO_FILTERS, counterparty: "x" });
    mock.timers.tick(250);
    await settle();
    assert.deepEqual(requests, []);
    assert.equal(wallet.filteredStatus.value, "invalid");
    wallet.setFilters(NO_FILTERS);
    assert.deepEqual(
      wallet.visibleEntries.value.map((e) => e.seq),
      [6],
      "without filters, the loaded history",
    );
    wallet.setFilters({ ...NO_FILTERS, kind: "deposit" });
    wallet[Symbol.dispose]();
    requests.length = 0;
    mock.timers.tick(1_000);
    await settle();
    assert.deepEqual(requests, [], "the pending filter timer died with the model");
  });
});

/** A payment request as the server shows it; `requester` is the handle of who asked. */
function paymentRequestOf(id: string, requester: string, status: PaymentRequest["status"] = "open"): PaymentRequest {
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

void describe("RequestsModel", () => {
  void test("loads both lists for the user, files live requests by who asked, and never reopens one", async () => {
    answer = (method, path) => {
      if (path.startsWith("/payment-requests?role=incoming"))
        return { status: 200, body: { items: [paymentRequestOf("prq_1", "usr_b")], next_cursor: null } };
      if (path.startsWith("/payment-requests?role=outgoing")) return { status: 200, body: { items: [], next_cursor: null } };
      return { status: 404, body: {} };
    };
    const model = new RequestsModel();
    model.follow("usr_a");
    await settle();
    assert.deepEqual(paths().sort(), ["GET /payment-requests", "GET /payment-requests"]);
    assert.equal(model.ready.value, true);
    assert.deepEqual(
      model.incoming.value.map((r) => r.id),
      ["prq_1"],
    );

    model.applyRequest(paymentRequestOf("prq_2", "usr_a"));
    assert.deepEqual(
      model.outgoing.value.map((r) => r.id),
      ["prq_2"],
      "a request the user made goes to the outgoing list",
    );
    model.applyRequest(paymentRequestOf("prq_1", "usr_b", "paid"));
    model.applyRequest(paymentRequestOf("prq_1", "usr_b", "open"));
    assert.equal(model.incoming.value[0]?.status, "paid", "a late open copy does not undo the payment");
    model[Symbol.dispose]();
  });

  void test("a refused decline fetches the request again; a new user starts empty and drops the old user's answers", async () => {
    answer = (method, path) => {
      if (method === "POST" && path.endsWith("/decline"))
        return { status: 409, body: { error: { code: "request_not_open", message: "", request_id: "" } } };
      if (path === "/payment-requests/prq_1")
        return { status: 200, body: { payment_request: paymentRequestOf("prq_1", "usr_b", "cancelled") } };
      if (path.startsWith("/payment-requests?role=incoming"))
        return { status: 200, body: { items: [paymentRequestOf("prq_1", "usr_b")], next_cursor: null } };
      return { status: 200, body: { items: [], next_cursor: null } };
    };
    const model = new RequestsModel();
    model.follow("usr_a");
    await settle();
    const result = await model.decline("prq_1");
    await settle();
    assert.equal(result.ok, false);
    assert.equal(model.incoming.value[0]?.status, "cancelled", "the row shows why it could not be declined");

    model.follow("usr_c");
    assert.deepEqual(model.incoming.value, [], "another user's requests are never shown");
    model.follow(null);
    await settle();
    assert.deepEqual(model.incoming.value, [], "answers for usr_c that arrive after logout are dropped");
    model[Symbol.dispose]();
  });
});

void describe("ContactsModel", () => {
  void test("suggests the contacts the server lists, and none when it has no such route", async () => {
    const items = [{ handle: "bob", display_name: "Bob", last_at: "2026-11-30T10:00:00.000Z" }];
    answer = () => ({ status: 200, body: { items } });
    const model = new ContactsModel();
    await model.load();
    assert.deepEqual(model.contacts.value, items);
    assert.deepEqual(paths(), ["GET /me/contacts"]);
    answer = () => ({ status: 404, body: { error: { code: "not_found", message: "", request_id: "" } } });
    await model.load();
    assert.deepEqual(model.contacts.value, [], "a 404 degrades to no suggestions");
    model[Symbol.dispose]();
  });
});

void describe("LiveModel and payment requests", () => {
  void test("hands pushed requests to its listener, and asks for a resync on each snapshot and each poll", () => {
    const seen: string[] = [];
    let resyncs = 0;
    const live = new LiveModel(feedTarget(0), { onPaymentRequest: (r) => seen.push(r.id), onResync: () => (resyncs += 1) });
    live.start("wal_a");
    const socket = FakeSocket.opened[0];
    assert.ok(socket);
    socket.push({ type: "snapshot", wallet: walletOf("wal_a", "usr_a") });
    assert.equal(resyncs, 1, "a new connection reloads the lists, since requests are not replayed on resume");
    socket.push({ type: "payment_request", payment_request: paymentRequestOf("prq_1", "usr_b") });
    socket.push({ type: "payment_request", payment_request: { id: "broken" } });
    assert.deepEqual(seen, ["prq_1"], "a malformed request is ignored");
    socket.drop(1006);
    mock.timers.tick(POLL_MS);
    assert.equal(resyncs, 2, "while the feed is down, each poll reloads them too");
    live[Symbol.dispose]();
  });
});

void describe("PendingModel, payment kinds", () => {
  void test("a pay answered with a failed transfer or 409 request_not_open is final; a done one carries its answer", async () => {
    const pending = new PendingModel();
    const base = { route: "/payment-requests/prq_1/pay", body: { from_wallet_id: "wal_b" }, user_id: "usr_b", summary: "Pay" };
    answer = () => ({ status: 201, body: { transfer: { id: "trf_1", status: "failed", failure_code: "insufficient_funds" } } });
    const failed = await pending.submitMove({ kind: "pay", ...base });
    assert.equal(failed.state, "refused");
    assert.equal(failed.state === "refused" ? failed.error.code : "", "insufficient_funds");

    answer = () => ({ status: 409, body: { error: { code: "request_not_open", message: "", request_id: "" } } });
    const closed = await pending.submitMove({ kind: "pay", ...base });
    assert.equal(closed.state === "refused" ? closed.error.code : "", "request_not_open");
    assert.deepEqual(storage.keys(), [], "a final refusal leaves nothing to resubmit");

    answer = () => ({ status: 201, body: { transfer: { id: "trf_2", status: "succeeded", payment_request_id: "prq_1" } } });
    const paid = await pending.submitMove({ kind: "pay", ...base });
    assert.deepEqual(paid, { state: "done", data: { transfer: { id: "trf_2", status: "succeeded", payment_request_id: "prq_1" } } });
    pending[Symbol.dispose]();
  });
});

void describe("WalletModel counterparty names (issue 18)", () => {
  void test("withNames learns each page's counterparty_display_name by wallet id and keeps the map when nothing is new", () => {
    const known = new Map([["wal_old", "Old Friend"]]);
    const page = [
      { counterparty: "wal_zoe", counterparty_display_name: "Zoë" },
      { counterparty: null, counterparty_display_name: null },
      { counterparty: "wal_blank", counterparty_display_name: "  " },
    ];
    const learnt = withNames(known, page);
    assert.deepEqual(
      [...learnt],
      [
        ["wal_old", "Old Friend"],
        ["wal_zoe", "Zoë"],
      ],
    );
    assert.equal(withNames(learnt, page), learnt, "a page that teaches nothing returns the same map");
  });

  void test("a history page names a payer the user never dealt with; a live entry keeps that name", async () => {
    const wallet = new WalletModel();
    wallet.resetWallet(walletOf("wal_n", "usr_n"));
    const payment = { ...fullEntry(2, "transfer_in"), counterparty: "wal_zoe", counterparty_display_name: "Zoë Payer" };
    answer = (_method, path) =>
      path.startsWith("/wallets/wal_n/history")
        ? { status: 200, body: { items: [payment], next_cursor: null } }
        : { status: 200, body: walletOf("wal_n", "usr_n") };
    await wallet.refresh();
    assert.equal(wallet.counterpartyNames.value.get("wal_zoe"), "Zoë Payer");
    wallet.applyEntry({ ...fullEntry(3, "transfer_in"), counterparty: "wal_zoe" });
    assert.equal(wallet.counterpartyNames.value.get("wal_zoe"), "Zoë Payer");
    // A live payment from a stranger makes the model fetch the first page once, which names them.
    requests.length = 0;
    const stranger = { ...fullEntry(4, "transfer_in"), counterparty: "wal_new", counterparty_display_name: "New Person" };
    answer = (_method, path) =>
      path.startsWith("/wallets/wal_n/history")
        ? { status: 200, body: { items: [stranger, payment], next_cursor: null } }
        : { status: 200, body: walletOf("wal_n", "usr_n") };
    wallet.applyEntry({ ...fullEntry(4, "transfer_in"), counterparty: "wal_new" });
    wallet.applyEntry({ ...fullEntry(4, "transfer_in"), counterparty: "wal_new" });
    await settle();
    assert.equal(wallet.counterpartyNames.value.get("wal_new"), "New Person");
    assert.equal(requests.filter((r) => r.includes("/history")).length, 1, "asked once");
  });
});
