/**
 * The app's shell models: the audit page (AuditModel), the account that follows the signed-in user
 * (AccountModel), the route (RouteModel) and the app that owns them all (AppModel).
 *
 * The web models' life cycle (issue 13): each is built with createModel, its effects, listeners and timers are
 * created inside the factory, and disposing the model (what `useModel` does when a view unmounts) stops them.
 * Every test first shows the timer or effect working, then disposes the model and shows it no longer runs. The
 * browser and time are stand-ins (models-harness.ts).
 */
import assert from "node:assert/strict";
import { describe, mock, test } from "node:test";
import {
  FakeSocket,
  fakeLocation,
  fakeWindow,
  meOf,
  paths,
  posts,
  requests,
  server,
  settle,
  storage,
  storeRequest,
} from "./models-harness.ts";

// Imported only now, after the harness has installed the stand-ins.
const { AccountModel, RESUME_EVERY_MS } = await import("../src/models/account.ts");
const { AppModel } = await import("../src/models/app.ts");
const { AUDIT_REFRESH_MS, AuditModel } = await import("../src/models/audit.ts");
const { NoticesModel } = await import("../src/models/notices.ts");
const { PendingModel } = await import("../src/models/pending.ts");
const { RouteModel } = await import("../src/models/route.ts");
const { SessionModel } = await import("../src/models/session.ts");
const { WalletModel } = await import("../src/models/wallet.ts");
const { RequestsModel } = await import("../src/models/requests.ts");
const { ContactsModel } = await import("../src/models/contacts.ts");

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
    const base = server.answer;
    server.answer = (method, path) => {
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
