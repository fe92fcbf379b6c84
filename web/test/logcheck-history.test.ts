/**
 * The browser's log verification (models/logcheck.ts over logverify.ts) against a fake log (logcheck-harness.ts).
 *
 * A chain that does not link or does not match its hashes, a rewritten entry the log holds otherwise, a failed
 * inclusion proof and an entry missing from the log raise the alarm.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { MemoryStorage } from "./memory-storage.ts";
import { alarmOf, freezeModelTimers, history, logWith, NOW, verifiedOnce, WALLET } from "./logcheck-harness.ts";
import type { Entry } from "../src/types.ts";

// Imported after the harness, whose resolve hook lets Node find the sources' extensionless imports.
const { entryHash } = await import("../../src/domain/hash-chain.ts");
const { hexOf, path: inclusionPath } = await import("../../test/reference/rfc9162.ts");
const { COVER_GRACE_MS } = await import("../src/logverify.ts");

void describe("the browser's log check: the history against the log", () => {
  freezeModelTimers();

  void test("a history whose entry does not match its hash, or does not link, raises the alarm", async () => {
    const entries = history(3);
    const log = await logWith(entries);
    const changed = entries.map((e) => (e.seq === 2 ? { ...e, amount: 999 } : e));
    assert.equal(await alarmOf(log, changed, new MemoryStorage()), "chain_broken");
    // Entry 2 rewritten with a hash of its own, but entry 3 still points at the old one.
    const relinked = entries.map((e) => (e.seq === 2 ? { ...e, amount: 999, hash: entryHash(WALLET, { ...e, amount: 999 }) } : e));
    assert.equal(await alarmOf(log, relinked, new MemoryStorage()), "chain_broken");
  });

  void test("a past entry rewritten consistently (every later hash recomputed) is not the leaf the log holds", async () => {
    const entries = history(4);
    const log = await logWith(entries);
    const storage = await verifiedOnce(log, entries);
    const rewritten = history(4, (seq) => (seq === 2 ? 5_000 : seq * 100));
    assert.notEqual(rewritten[0]?.hash, entries[0]?.hash);
    assert.equal(await alarmOf(log, rewritten, storage), "not_included");
  });

  void test("an inclusion proof that does not verify raises the alarm", async () => {
    const entries = history(3);
    const log = await logWith(entries);
    log.lie.proof = async () => {
      const size = log.leaves.length;
      const index = log.leaves.length - 1;
      const inclusion = (await inclusionPath(index, log.leaves)).map(hexOf);
      inclusion[0] = "00".repeat(32);
      return log.json({ leaf_index: index, tree_size: size, leaf: new TextDecoder().decode(log.leaves[index]), inclusion });
    };
    assert.equal(await alarmOf(log, entries, new MemoryStorage()), "not_included");
  });

  void test("an entry older than the grace period that the log does not cover raises the alarm", async () => {
    const entries = history(3);
    const log = await logWith(entries.slice(1));
    const old = entries.map((e) => ({ ...e }));
    // Entry 3 was written an hour ago (its hash recomputed over the older time, and still linked).
    const three = { ...(old[0] as Entry), created_at: new Date(NOW - 3_600_000).toISOString() };
    three.hash = entryHash(WALLET, three);
    assert.ok(NOW - Date.parse(three.created_at) > COVER_GRACE_MS);
    assert.equal(await alarmOf(log, [three, ...old.slice(1)], new MemoryStorage()), "missing");
  });
});
