/**
 * The pending requests (PendingModel): retries that end with the model, and which answers to a pay are final.
 *
 * The web models' life cycle (issue 13): each is built with createModel, its effects, listeners and timers are
 * created inside the factory, and disposing the model (what `useModel` does when a view unmounts) stops them.
 * Every test first shows the timer or effect working, then disposes the model and shows it no longer runs. The
 * browser and time are stand-ins (models-harness.ts).
 */
import assert from "node:assert/strict";
import { describe, mock, test } from "node:test";
import { posts, server, settle, storage } from "./models-harness.ts";

// Imported only now, after the harness has installed the stand-ins.
const { PendingModel } = await import("../src/models/pending.ts");

void describe("PendingModel", () => {
  void test("disposing ends a retry wait at once, and the request stays saved", async () => {
    server.answer = () => ({ status: 503, body: { error: { code: "unavailable", message: "", request_id: "" } } });
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

void describe("PendingModel, payment kinds", () => {
  void test("a pay answered with a failed transfer or 409 request_not_open is final; a done one carries its answer", async () => {
    const pending = new PendingModel();
    const base = { route: "/payment-requests/prq_1/pay", body: { from_wallet_id: "wal_b" }, user_id: "usr_b", summary: "Pay" };
    server.answer = () => ({ status: 201, body: { transfer: { id: "trf_1", status: "failed", failure_code: "insufficient_funds" } } });
    const failed = await pending.submitMove({ kind: "pay", ...base });
    assert.equal(failed.state, "refused");
    assert.equal(failed.state === "refused" ? failed.error.code : "", "insufficient_funds");

    server.answer = () => ({ status: 409, body: { error: { code: "request_not_open", message: "", request_id: "" } } });
    const closed = await pending.submitMove({ kind: "pay", ...base });
    assert.equal(closed.state === "refused" ? closed.error.code : "", "request_not_open");
    assert.deepEqual(storage.keys(), [], "a final refusal leaves nothing to resubmit");

    server.answer = () => ({ status: 201, body: { transfer: { id: "trf_2", status: "succeeded", payment_request_id: "prq_1" } } });
    const paid = await pending.submitMove({ kind: "pay", ...base });
    assert.deepEqual(paid, { state: "done", data: { transfer: { id: "trf_2", status: "succeeded", payment_request_id: "prq_1" } } });
    pending[Symbol.dispose]();
  });
});
