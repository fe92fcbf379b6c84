/**
 * The browser's log verification (models/logcheck.ts over logverify.ts) against a fake log (logcheck-harness.ts).
 *
 * A changed log key, a badly signed checkpoint, a rollback, a fork and an inconsistent log raise the alarm;
 * the alarm is stored, survives honest answers and a reload, and only a dismissal clears it; the stored checkpoint
 * never moves backwards.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { MemoryStorage } from "./memory-storage.ts";
import { alarmOf, freezeModelTimers, history, leafOf, logWith, modelFor, verifiedOnce } from "./logcheck-harness.ts";

// Imported after the harness, whose resolve hook lets Node find the sources' extensionless imports.
const { LOG_ALARM_ITEM, LOG_CHECKPOINT_ITEM } = await import("../src/models/logcheck.ts");

void describe("the browser's log check: the log key and its checkpoints", () => {
  freezeModelTimers();

  void test("a changed log key raises the alarm; dismissing it pins the new key", async () => {
    const entries = history(2);
    const storage = await verifiedOnce(await logWith(entries), entries);
    const other = await logWith(entries);
    const { model } = modelFor(other, entries, storage);
    await model.check();
    assert.equal(model.alarm.value?.kind, "key_changed");
    model.dismissAlarm();
    assert.equal(storage.getItem("wallet.log.key"), other.vkey);
    await model.check();
    assert.equal(model.alarm.value, null);
    assert.equal(model.status.value.state, "verified");
  });

  void test("a badly signed checkpoint raises the alarm", async () => {
    const entries = history(2);
    const log = await logWith(entries);
    log.lie.checkpoint = async () => {
      const text = await log.checkpoint();
      const at = text.lastIndexOf(" ") + 10;
      return new Response(text.slice(0, at) + (text[at] === "A" ? "B" : "A") + text.slice(at + 1));
    };
    assert.equal(await alarmOf(log, entries, new MemoryStorage()), "bad_signature");
  });

  void test("a rollback raises the alarm, stays after honest answers and a reload, and the stored checkpoint never moves back", async () => {
    const entries = history(3);
    const log = await logWith(entries);
    const storage = await verifiedOnce(log, entries);
    const kept = storage.getItem(LOG_CHECKPOINT_ITEM);
    log.lie.checkpoint = async () => new Response(await log.checkpoint(log.leaves.length - 2));
    const { model } = modelFor(log, entries.slice(1), storage);
    await model.check();
    assert.equal(model.alarm.value?.kind, "rollback");
    assert.equal(storage.getItem(LOG_CHECKPOINT_ITEM), kept);
    delete log.lie.checkpoint;
    await model.check();
    assert.equal(model.alarm.value?.kind, "rollback", "an honest answer does not silence it");
    const reloaded = modelFor(log, entries, storage).model;
    assert.equal(reloaded.alarm.value?.kind, "rollback", "a reload shows the stored alarm");
    assert.match((JSON.parse(storage.getItem(LOG_ALARM_ITEM) ?? "{}") as { message: string }).message, /went back in time/);
    reloaded.dismissAlarm();
    assert.equal(storage.getItem(LOG_ALARM_ITEM), null);
    await reloaded.check();
    assert.equal(reloaded.alarm.value, null);
    assert.equal(reloaded.status.value.state, "verified");
  });

  void test("a fork (same size, another root) raises the alarm", async () => {
    const entries = history(3);
    const log = await logWith(entries);
    const storage = await verifiedOnce(log, entries);
    const forked = [...log.leaves];
    forked[0] = leafOf("w_other", 1, "cd".repeat(32));
    log.lie.checkpoint = async () => new Response(await log.checkpoint(forked.length, forked));
    assert.equal(await alarmOf(log, entries, storage), "fork");
  });

  void test("a log that dropped a leaf it had logged fails its consistency proof", async () => {
    const entries = history(3);
    const log = await logWith(entries);
    const storage = await verifiedOnce(log, entries);
    log.leaves.splice(1, 1);
    log.leaves.push(leafOf("w_other", 9, "ef".repeat(32)), leafOf("w_other", 10, "ef".repeat(32)));
    assert.equal(await alarmOf(log, entries, storage), "inconsistent");
  });
});
