/**
 * The payment requests and contacts models (RequestsModel, ContactsModel): both lists per user, live requests,
 * refused declines, and contact suggestions.
 *
 * The web models' life cycle (issue 13): each is built with createModel, its effects, listeners and timers are
 * created inside the factory, and disposing the model (what `useModel` does when a view unmounts) stops them.
 * Every test first shows the timer or effect working, then disposes the model and shows it no longer runs. The
 * browser and time are stand-ins (models-harness.ts).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { paths, paymentRequestOf, server, settle } from "./models-harness.ts";

// Imported only now, after the harness has installed the stand-ins.
const { RequestsModel } = await import("../src/models/requests.ts");
const { ContactsModel } = await import("../src/models/contacts.ts");

void describe("RequestsModel", () => {
  void test("loads both lists for the user, files live requests by who asked, and never reopens one", async () => {
    server.answer = (method, path) => {
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
    server.answer = (method, path) => {
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
    server.answer = () => ({ status: 200, body: { items } });
    const model = new ContactsModel();
    await model.load();
    assert.deepEqual(model.contacts.value, items);
    assert.deepEqual(paths(), ["GET /me/contacts"]);
    server.answer = () => ({ status: 404, body: { error: { code: "not_found", message: "", request_id: "" } } });
    await model.load();
    assert.deepEqual(model.contacts.value, [], "a 404 degrades to no suggestions");
    model[Symbol.dispose]();
  });
});
