/**
 * How the browser's log check reads the service (web/src/logverify/io.ts): only a 200 answer is read, any other
 * answer and a fetch that throws are Unavailable (no verdict), and text that is not JSON is a malformed alarm.
 * Each is asserted on `get` and `jsonOf` themselves and on what the whole check (the model) then reports, since a
 * missing answer read as text would otherwise surface as a false alarm, and a malformed one as a wrong kind.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { MemoryStorage } from "./memory-storage.ts";
import { freezeModelTimers, history, leafOf, logWith, modelFor, verifiedOnce } from "./logcheck-harness.ts";

// Imported after the harness, whose resolve hook lets Node find the sources' extensionless imports.
const { get, jsonOf } = await import("../src/logverify/io.ts");
const { Alarm, Unavailable } = await import("../src/logverify/alarm.ts");

/** A LogFetch that answers every path with `status` and `text`. */
const answering = (status: number, text: string) => async () => ({ status, text });

void describe("the browser's log check: reading the service's answers", () => {
  freezeModelTimers();

  void test("get returns a 200 answer's text and reads any other answer, even below 500, as Unavailable", async () => {
    assert.equal(await get(answering(200, "ok"), "/log/key"), "ok");
    for (const status of [404, 302, 204, 503]) {
      await assert.rejects(get(answering(status, '{"error":{"code":"not_found"}}'), "/log/key"), (error: unknown) => {
        assert.ok(error instanceof Unavailable, `status ${status}: ${String(error)}`);
        return true;
      });
    }
  });

  void test("get reads a fetch that throws as Unavailable, naming the path and the failure", async () => {
    const failing = async (): Promise<never> => {
      throw new TypeError("Failed to fetch");
    };
    await assert.rejects(get(failing, "/log/checkpoint"), (error: unknown) => {
      assert.ok(error instanceof Unavailable, String(error));
      assert.match(error.message, /\/log\/checkpoint: Failed to fetch/);
      return true;
    });
  });

  void test("jsonOf parses JSON and alarms, of kind malformed, on text that is not JSON", () => {
    assert.deepEqual(jsonOf('{"a":1}', "the log key"), { a: 1 });
    assert.throws(
      () => jsonOf("not json", "the log key"),
      (error: unknown) => error instanceof Alarm && error.kind === "malformed",
    );
  });

  void test("the check reports a 404 or 302 answer as unavailable, with no alarm", async () => {
    const entries = history(2);
    const notFound = await logWith(entries);
    notFound.lie.key = () => notFound.json({ error: { code: "not_found" } }, 404);
    const redirected = await logWith(entries);
    redirected.lie.checkpoint = () => new Response(null, { status: 302, headers: { location: "/login" } });
    for (const log of [notFound, redirected]) {
      const { model } = modelFor(log, entries, new MemoryStorage());
      await model.check();
      assert.equal(model.alarm.value, null);
      assert.equal(model.status.value.state, "unavailable");
    }
  });

  void test("the check reports a fetch that throws as unavailable, with no alarm", async () => {
    const entries = history(2);
    const log = await logWith(entries);
    log.lie.key = () => Promise.reject(new TypeError("Failed to fetch"));
    const { model } = modelFor(log, entries, new MemoryStorage());
    await model.check();
    assert.equal(model.alarm.value, null);
    const status = model.status.value;
    assert.ok(status.state === "unavailable", JSON.stringify(status));
    assert.match(status.reason, /Failed to fetch/);
  });

  void test("the check alarms, of kind malformed, when the consistency proof is not JSON", async () => {
    const entries = history(2);
    const log = await logWith(entries);
    const storage = await verifiedOnce(log, entries);
    log.leaves.push(leafOf("w_other", 9, "cd".repeat(32)));
    log.lie.consistency = () => new Response("not json");
    const { model } = modelFor(log, entries, storage);
    await model.check();
    assert.equal(model.alarm.value?.kind, "malformed");
  });
});
