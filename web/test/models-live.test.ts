/**
 * The live feed (LiveModel): resuming, acks, holes, reconnects, polling and the payment requests it hands on.
 *
 * The web models' life cycle (issue 13): each is built with createModel, its effects, listeners and timers are
 * created inside the factory, and disposing the model (what `useModel` does when a view unmounts) stops them.
 * Every test first shows the timer or effect working, then disposes the model and shows it no longer runs. The
 * browser and time are stand-ins (models-harness.ts).
 */
import assert from "node:assert/strict";
import { describe, mock, test } from "node:test";
import { FakeSocket, fakeWindow, listenerCount, paymentRequestOf, walletOf } from "./models-harness.ts";
import type { LiveTarget } from "../src/models/live.ts";
import type { Entry, Wallet } from "../src/types.ts";

// Imported only now, after the harness has installed the stand-ins.
const { BACKOFF_CAP_MS, CLOSE_SESSION_ENDED, LiveModel, POLL_MS } = await import("../src/models/live.ts");

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
