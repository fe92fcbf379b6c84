/**
 * The browser's log verification (models/logcheck.ts over logverify.ts) against a fake log (logcheck-harness.ts).
 *
 * The witnessed checkpoint's cosignatures are verified with the witness keys pinned on first use and only
 * verified ones reported; a forged cosignature, a changed witness set and a witnessed fork raise the alarm.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { MemoryStorage } from "./memory-storage.ts";
import { alarmOf, freezeModelTimers, history, leafOf, logWith, makeWitness, modelFor, verifiedOnce } from "./logcheck-harness.ts";

// Imported after the harness, whose resolve hook lets Node find the sources' extensionless imports.
const { LOG_WITNESSES_ITEM } = await import("../src/models/logcheck.ts");

void describe("the browser's log check: witnesses", () => {
  freezeModelTimers();

  void test("the witnessed checkpoint's cosignatures are verified with the pinned witness keys; only verified ones are reported", async () => {
    const entries = history(2);
    const log = await logWith(entries);
    const [one, two] = [await makeWitness("witness.one"), await makeWitness("witness.two")];
    log.witnesses.push(one, two);
    const stranger = await makeWitness("witness.stranger");
    const size = log.leaves.length - 1;
    // Witness one cosigned; two did not; a key the log does not publish cosigned too (ignored, never shown).
    log.lie.witnessed = async () => new Response(await log.cosignedCheckpoint(size, [one, stranger]));
    const storage = new MemoryStorage();
    const { model } = modelFor(log, entries, storage);
    await model.check();
    const status = model.status.value;
    assert.ok(status.state === "verified", JSON.stringify(status));
    assert.deepEqual(status.verified.witnessed, {
      size,
      cosigners: [{ name: "witness.one", time_s: 1_790_000_000 }],
      not_cosigned: ["witness.two"],
    });
    assert.deepEqual(JSON.parse(storage.getItem(LOG_WITNESSES_ITEM) ?? "null"), [one.vkey, two.vkey].sort());
  });

  void test("a log without witnesses is not asked for a witnessed checkpoint", async () => {
    const entries = history(2);
    const log = await logWith(entries);
    let asked = false;
    log.lie.witnessed = async () => {
      asked = true;
      return new Response(await log.checkpoint());
    };
    const { model } = modelFor(log, entries, new MemoryStorage());
    await model.check();
    const status = model.status.value;
    assert.ok(status.state === "verified", JSON.stringify(status));
    assert.equal(status.verified.witnessed, null);
    assert.equal(asked, false);
  });

  void test("a cosignature that fails to verify with its witness's key raises the alarm", async () => {
    const entries = history(2);
    const log = await logWith(entries);
    const witness = await makeWitness("witness.one");
    log.witnesses.push(witness);
    // Under the witness's name and key id, but signed by another key: a forgery the service could make.
    const forger = await makeWitness("witness.one");
    const forged = { vkey: witness.vkey, signer: { privateKey: forger.signer.privateKey, key: witness.signer.key } };
    log.lie.witnessed = async () => new Response(await log.cosignedCheckpoint(log.leaves.length, [forged]));
    const storage = new MemoryStorage();
    assert.equal(await alarmOf(log, entries, storage), "bad_cosignature");
    // One bit of an honest cosignature changed fails too.
    log.lie.witnessed = async () => {
      const text = await log.cosignedCheckpoint(log.leaves.length, [witness]);
      const at = text.lastIndexOf(" ") + 20;
      return new Response(text.slice(0, at) + (text[at] === "A" ? "B" : "A") + text.slice(at + 1));
    };
    assert.equal(await alarmOf(log, entries, new MemoryStorage()), "bad_cosignature");
  });

  void test("a changed witness set raises the alarm, shows what changed, and dismissing it pins the new set", async () => {
    const entries = history(2);
    const log = await logWith(entries);
    const [one, two] = [await makeWitness("witness.one"), await makeWitness("witness.two")];
    log.witnesses.push(one);
    log.lie.witnessed = async () => new Response(await log.cosignedCheckpoint(log.leaves.length, log.witnesses));
    const storage = await verifiedOnce(log, entries);
    // The service replaces witness one by a witness of its own (two), which cosigns.
    log.witnesses.splice(0, 1, two);
    const { model } = modelFor(log, entries, storage);
    await model.check();
    assert.equal(model.alarm.value?.kind, "witnesses_changed");
    assert.ok((model.alarm.value?.message ?? "").includes(`added ${two.vkey}; removed ${one.vkey}`), model.alarm.value?.message);
    assert.deepEqual(JSON.parse(storage.getItem(LOG_WITNESSES_ITEM) ?? "null"), [one.vkey], "not accepted before the user dismisses it");
    model.dismissAlarm();
    assert.deepEqual(JSON.parse(storage.getItem(LOG_WITNESSES_ITEM) ?? "null"), [two.vkey]);
    await model.check();
    assert.equal(model.alarm.value, null);
    const status = model.status.value;
    assert.ok(status.state === "verified", JSON.stringify(status));
    assert.deepEqual(
      status.verified.witnessed?.cosigners.map((c) => c.name),
      ["witness.two"],
    );
    // Every witness removed (as a service that stopped publishing them) is a change too.
    log.witnesses.splice(0);
    const again = modelFor(log, entries, storage).model;
    await again.check();
    assert.equal(again.alarm.value?.kind, "witnesses_changed");
  });

  void test("a witnessed checkpoint that forks from the latest raises the alarm", async () => {
    const entries = history(2);
    const log = await logWith(entries);
    log.witnesses.push(await makeWitness("witness.one"));
    const forked = [...log.leaves];
    forked[0] = leafOf("w_other", 1, "cd".repeat(32));
    log.lie.witnessed = async () => new Response(await log.checkpoint(forked.length, forked));
    assert.equal(await alarmOf(log, entries, new MemoryStorage()), "fork");
  });
});
