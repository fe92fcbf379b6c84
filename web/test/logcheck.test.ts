/**
 * The browser's log verification (models/logcheck.ts over logverify.ts) against a fake log built here with the
 * domain's signing code and the independent RFC 9162 reference's proofs, through a fake fetch: an honest log
 * verifies (and its growth is checked for consistency), the witnessed checkpoint's cosignatures are verified with
 * the witness keys pinned on first use and only verified ones reported, and every failure kind raises the alarm:
 * a changed key, a changed witness set, a forged cosignature, a bad signature, a rollback, a fork, an inconsistent log,
 * a chain that does not link or does not match its hashes, a rewritten entry the log holds otherwise, a failed
 * inclusion proof and an entry missing from the log. The alarm is stored, survives honest answers and a reload,
 * and only a dismissal clears it; the stored checkpoint never moves backwards.
 */
import assert from "node:assert/strict";
import { registerHooks } from "node:module";
import { afterEach, beforeEach, describe, mock, test } from "node:test";
import { MemoryStorage } from "./memory-storage.ts";
import { signal } from "@preact/signals";
import type { Entry } from "../src/types.ts";

registerHooks({
  resolve(specifier, context, nextResolve) {
    const relative = specifier.startsWith("./") || specifier.startsWith("../");
    if (!relative || /\.[cm]?[jt]sx?$/.test(specifier)) return nextResolve(specifier, context);
    return nextResolve(`${specifier}.ts`, context);
  },
});

const { entryHash, GENESIS_HASH } = await import("../../src/domain/hash-chain.ts");
const notes = await import("../../src/domain/signed-note.ts");
const { hexOf, mth, path: inclusionPath, subproof } = await import("../../test/reference/rfc9162.ts");
const { LOG_ALARM_ITEM, LOG_CHECK_DEBOUNCE_MS, LOG_CHECK_EVERY_MS, LOG_CHECKPOINT_ITEM, LOG_WITNESSES_ITEM, LogCheckModel } =
  await import("../src/models/logcheck.ts");
const { COVER_GRACE_MS } = await import("../src/logverify.ts");

const WALLET = "w_alice";
const NOW = Date.parse("2026-11-30T12:00:00.000Z");
const encoder = new TextEncoder();

/** A wallet history of `count` entries, oldest written `count` minutes before NOW; returned newest first. */
function history(count: number, amountOf = (seq: number) => seq * 100): Entry[] {
  const out: Entry[] = [];
  let prev = GENESIS_HASH;
  let balance = 0;
  for (let seq = 1; seq <= count; seq++) {
    balance += amountOf(seq);
    const fields = {
      id: `e${seq}`,
      seq,
      kind: "deposit" as const,
      amount: amountOf(seq),
      balance_after: balance,
      transfer_id: `t${seq}`,
      counterparty: null,
      memo: null,
      created_at: new Date(NOW - (count - seq + 1) * 60_000).toISOString(),
      prev_hash: prev,
      refund_of: null,
    };
    const hash = entryHash(WALLET, fields);
    out.unshift({ ...fields, hash });
    prev = hash;
  }
  return out;
}

const leafOf = (wallet: string, seq: number, hash: string): Uint8Array => encoder.encode(JSON.stringify([wallet, seq, hash]));

/** A witness: an Ed25519 cosigner (type 0x04) named `name`. */
async function makeWitness(name: string) {
  const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"]);
  const raw = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  const vkey = notes.formatVerifierKey(name, notes.SIG_COSIGNATURE_V1, raw);
  return { vkey, signer: { privateKey: pair.privateKey, key: notes.parseVerifierKey(vkey) } };
}
type Witness = Awaited<ReturnType<typeof makeWitness>>;

/**
 * A signing log with leaves, answering the contract's log routes; `lie` overrides a route. `witnesses` are
 * published by GET /log/key; the witnessed checkpoint is served only when `lie.witnessed` says what it is.
 */
async function makeLog(origin = "wallet.test/log") {
  const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"]);
  const publicKey = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  const vkey = notes.formatVerifierKey(origin, notes.SIG_ED25519, publicKey);
  const signer = { privateKey: pair.privateKey, key: notes.parseVerifierKey(vkey) };
  const leaves: Uint8Array[] = [];
  const witnesses: Witness[] = [];
  const lie: Partial<Record<"key" | "checkpoint" | "witnessed" | "consistency" | "proof", (url: URL) => Promise<Response> | Response>> = {};
  const checkpoint = async (size = leaves.length, data = leaves): Promise<string> => {
    const body = notes.formatCheckpointBody({ origin, size, root: await mth(data.slice(0, size)) });
    return notes.formatNote(body, [await notes.signNoteBody(body, signer)]);
  };
  const json = (value: unknown, status = 200): Response => new Response(JSON.stringify(value), { status });
  const routes = {
    async key() {
      return json({ origin, key_name: origin, vkey, witnesses: witnesses.map((w) => ({ name: w.signer.key.name, vkey: w.vkey })) });
    },
    async checkpoint(url: URL) {
      if (url.searchParams.get("witnessed") === "1")
        return lie.witnessed ? lie.witnessed(url) : json({ error: { code: "not_found" } }, 404);
      return new Response(await checkpoint());
    },
    async consistency(url: URL) {
      const from = Number(url.searchParams.get("from"));
      const to = Number(url.searchParams.get("to"));
      const proof = from === 0 || from === to ? [] : await subproof(from, leaves.slice(0, to), true);
      return json({ from, to, proof: proof.map(hexOf) });
    },
    async proof(url: URL) {
      const seq = Number(url.searchParams.get("seq"));
      const size = Number(url.searchParams.get("tree_size") ?? leaves.length);
      const index = leaves.findIndex((l) => {
        const [w, s] = JSON.parse(new TextDecoder().decode(l)) as [string, number];
        return w === url.searchParams.get("wallet_id") && s === seq;
      });
      if (index < 0 || index >= size) return json({ error: { code: "not_found" } }, 404);
      const inclusion = (await inclusionPath(index, leaves.slice(0, size))).map(hexOf);
      return json({ leaf_index: index, tree_size: size, leaf: new TextDecoder().decode(leaves[index]), inclusion });
    },
  };
  const fetchFn = (async (input: string | URL | Request) => {
    const url = new URL(input instanceof Request ? input.url : input, "http://wallet.test");
    const name = url.pathname.replace("/api/v1/log/", "") as keyof typeof routes;
    const override = name === "checkpoint" && url.searchParams.get("witnessed") === "1" ? undefined : lie[name];
    if (override) return override(url);
    if (!(name in routes)) return json({ error: { code: "not_found" } }, 404);
    return routes[name](url);
  }) as typeof fetch;
  /** The checkpoint of `size` leaves with a cosignature/v1 line by each of `by` at `time_s`. */
  const cosignedCheckpoint = async (size: number, by: readonly Witness[], time_s = 1_790_000_000): Promise<string> => {
    const note = notes.parseNote(await checkpoint(size));
    const lines = await Promise.all(by.map((w) => notes.cosignBody(note.body, w.signer, time_s)));
    return notes.formatNote(note.body, [...note.signatures.map((s) => s.line), ...lines]);
  };
  return { origin, vkey, signer, leaves, witnesses, lie, checkpoint, cosignedCheckpoint, fetchFn: fetchFn, json };
}

type FakeLog = Awaited<ReturnType<typeof makeLog>>;

/** A log holding other wallets' leaves around the given entries of WALLET. */
async function logWith(entries: Entry[]): Promise<FakeLog> {
  const log = await makeLog();
  for (const e of [...entries].reverse()) {
    log.leaves.push(leafOf("w_other", e.seq, "ab".repeat(32)));
    log.leaves.push(leafOf(WALLET, e.seq, e.hash));
  }
  return log;
}

const models: { [Symbol.dispose](): void }[] = [];

function modelFor(log: FakeLog, entries: Entry[], storage: MemoryStorage, walletId: string | null = WALLET) {
  const wallet = { entries: signal<readonly Entry[]>(entries), activeWalletId: () => walletId };
  const model = new LogCheckModel({
    wallet,
    storage: storage,
    fetchFn: (input) => log.fetchFn(input),
    now: () => NOW,
  });
  models.push(model);
  return { model, wallet };
}

/** Checks once and returns the alarm kind raised, or null. */
async function alarmOf(log: FakeLog, entries: Entry[], storage: MemoryStorage): Promise<string | null> {
  const { model } = modelFor(log, entries, storage);
  await model.check();
  return model.alarm.value?.kind ?? null;
}

/** A storage in which the honest `log` has been verified once (key pinned, checkpoint kept). */
async function verifiedOnce(log: FakeLog, entries: Entry[]): Promise<MemoryStorage> {
  const storage = new MemoryStorage();
  assert.equal(await alarmOf(log, entries, storage), null);
  return storage;
}

void describe("the browser's log check", () => {
  // The model's own timers (the debounce after the history changes, the periodic check) are frozen, so each test
  // runs exactly the checks it asks for; one test below advances them to show they run. (Run from index.js, the
  // models' tests have enabled them already for every test in the process: reset first, then enable.)
  beforeEach(() => {
    mock.timers.reset();
    mock.timers.enable({ apis: ["setTimeout", "setInterval"] });
  });
  afterEach(() => {
    for (const m of models.splice(0)) m[Symbol.dispose]();
    mock.timers.reset();
  });

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

  void test("a witnessed checkpoint that forks from the latest raises the alarm", async () => {
    const entries = history(2);
    const log = await logWith(entries);
    log.witnesses.push(await makeWitness("witness.one"));
    const forked = [...log.leaves];
    forked[0] = leafOf("w_other", 1, "cd".repeat(32));
    log.lie.witnessed = async () => new Response(await log.checkpoint(forked.length, forked));
    assert.equal(await alarmOf(log, entries, new MemoryStorage()), "fork");
  });

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
