/**
 * The browser's log verification (models/logcheck.ts over logverify.ts) against a fake log (logcheck-harness.ts).
 *
 * An honest log verifies (and its growth is checked for consistency), an entry not yet covered is skipped while
 * it is recent, the model checks by itself until disposed, and a service that does not answer is no verdict.
 */
import assert from "node:assert/strict";
import { describe, mock, test } from "node:test";
import { MemoryStorage } from "./memory-storage.ts";
import { freezeModelTimers, history, leafOf, logWith, modelFor, NOW, WALLET } from "./logcheck-harness.ts";
import type { Entry } from "../src/types.ts";

// Imported after the harness, whose resolve hook lets Node find the sources' extensionless imports.
const { entryHash } = await import("../../src/domain/hash-chain.ts");
const { LOG_CHECK_DEBOUNCE_MS, LOG_CHECK_EVERY_MS, LOG_CHECKPOINT_ITEM } = await import("../src/models/logcheck.ts");

void describe("the browser's log check: an honest log, the model's own schedule, and a service that does not answer", () => {
  freezeModelTimers();

  void test("an honest log verifies the newest entry, then its growth by a consistency proof", async () => {
    const entries = history(3);
    const log = await logWith(entries);
    const storage = new MemoryStorage();
    const { model } = modelFor(log, entries, storage);
    await model.check();
    assert.equal(model.alarm.value, null);
    const status = model.status.value;
    assert.ok(status.state === "verified", JSON.stringify(status));
    assert.deepEqual(status.verified.entry, { seq: 3, created_at: entries[0]?.created_at, hash: entries[0]?.hash });
    assert.equal(status.verified.chain_checked, 3);
    assert.equal(status.verified.previous_size, 0);
    assert.equal(storage.getItem("wallet.log.key"), log.vkey);
    assert.equal(storage.getItem(LOG_CHECKPOINT_ITEM), await log.checkpoint());

    // Two new entries: only the newest is in the log yet (the other was just written), and it verifies.
    const grown = history(5);
    log.leaves.push(leafOf(WALLET, 5, grown[0]?.hash ?? ""));
    log.leaves.splice(log.leaves.length - 1, 0, leafOf(WALLET, 4, grown[1]?.hash ?? ""));
    const next = modelFor(log, grown, storage).model;
    await next.check();
    const after = next.status.value;
    assert.ok(after.state === "verified", JSON.stringify(after));
    assert.equal(after.verified.entry?.seq, 5);
    assert.equal(after.verified.previous_size, 6);
    assert.equal(after.verified.checkpoint.size, 8);
  });

  void test("an entry the checkpoint does not cover yet is skipped while it is recent", async () => {
    const entries = history(3);
    const log = await logWith(entries.slice(1));
    const fresh = [{ ...entries[0], created_at: new Date(NOW - 1_000).toISOString() } as Entry, ...entries.slice(1)];
    fresh[0] = { ...(fresh[0] as Entry), hash: entryHash(WALLET, fresh[0] as Entry) };
    const { model } = modelFor(log, fresh, new MemoryStorage());
    await model.check();
    const status = model.status.value;
    assert.ok(status.state === "verified", JSON.stringify(status));
    assert.equal(status.verified.entry?.seq, 2);
  });

  void test("the model checks by itself after the history changes and every LOG_CHECK_EVERY_MS, until disposed", async () => {
    const entries = history(2);
    const log = await logWith(entries);
    let asked = 0;
    const counting = log.fetchFn;
    log.fetchFn = async (input: string | URL | Request) => {
      if ((input instanceof Request ? input.url : String(input)).endsWith("/log/key")) asked++;
      return counting(input);
    };
    const { model, wallet } = modelFor(log, entries, new MemoryStorage());
    // Waits (in real time: only the model's timers are mocked) until `done` holds, for at most 5 s.
    const until = async (done: () => boolean): Promise<void> => {
      const deadline = Date.now() + 5_000;
      while (!done() && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    };
    mock.timers.tick(LOG_CHECK_DEBOUNCE_MS);
    await until(() => model.status.value.state === "verified");
    assert.equal(asked, 1);
    assert.equal(model.status.value.state, "verified");
    wallet.entries.value = history(3).slice(1);
    mock.timers.tick(LOG_CHECK_DEBOUNCE_MS);
    await until(() => asked === 2);
    assert.equal(asked, 2);
    mock.timers.tick(LOG_CHECK_EVERY_MS);
    await until(() => asked === 3);
    assert.equal(asked, 3);
    model[Symbol.dispose]();
    mock.timers.tick(LOG_CHECK_EVERY_MS * 2);
    await new Promise((r) => setImmediate(r));
    assert.equal(asked, 3, "no check after dispose");
  });

  void test("a service that does not answer is unavailable, not an alarm and not verified", async () => {
    const entries = history(2);
    const log = await logWith(entries);
    log.lie.checkpoint = () => log.json({ error: { code: "unavailable" } }, 503);
    const { model } = modelFor(log, entries, new MemoryStorage());
    await model.check();
    assert.equal(model.alarm.value, null);
    assert.equal(model.status.value.state, "unavailable");
  });
});
