/**
 * What the tests of the browser's log verification (logcheck-*.test.ts) share: a fake log built with the
 * domain's signing code and the independent RFC 9162 reference's proofs, answering the contract's log routes
 * through a fake fetch (`lie` overrides a route), witnesses, wallet histories with real hashes, and the model
 * under test (models/logcheck.ts over logverify.ts) with its timers frozen.
 *
 * The model sources import each other without extensions, as Vite wants; the resolve hook below lets Node find
 * them, so everything they import is loaded with `await import` after it.
 */
import assert from "node:assert/strict";
import { registerHooks } from "node:module";
import { afterEach, beforeEach, mock } from "node:test";
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
const { LogCheckModel } = await import("../src/models/logcheck.ts");

export const WALLET = "w_alice";
export const NOW = Date.parse("2026-11-30T12:00:00.000Z");
const encoder = new TextEncoder();

/** A wallet history of `count` entries, oldest written `count` minutes before NOW; returned newest first. */
export function history(count: number, amountOf = (seq: number) => seq * 100): Entry[] {
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

export const leafOf = (wallet: string, seq: number, hash: string): Uint8Array => encoder.encode(JSON.stringify([wallet, seq, hash]));

/** A witness: an Ed25519 cosigner (type 0x04) named `name`. */
export async function makeWitness(name: string) {
  const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"]);
  const raw = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  const vkey = notes.formatVerifierKey(name, notes.SIG_COSIGNATURE_V1, raw);
  return { vkey, signer: { privateKey: pair.privateKey, key: notes.parseVerifierKey(vkey) } };
}
export type Witness = Awaited<ReturnType<typeof makeWitness>>;

/**
 * A signing log with leaves, answering the contract's log routes; `lie` overrides a route. `witnesses` are
 * published by GET /log/key; the witnessed checkpoint is served only when `lie.witnessed` says what it is.
 */
export async function makeLog(origin = "wallet.test/log") {
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

export type FakeLog = Awaited<ReturnType<typeof makeLog>>;

/** A log holding other wallets' leaves around the given entries of WALLET. */
export async function logWith(entries: Entry[]): Promise<FakeLog> {
  const log = await makeLog();
  for (const e of [...entries].reverse()) {
    log.leaves.push(leafOf("w_other", e.seq, "ab".repeat(32)));
    log.leaves.push(leafOf(WALLET, e.seq, e.hash));
  }
  return log;
}

/** The models the current test made, disposed after it. */
const models: { [Symbol.dispose](): void }[] = [];

/** A log check model of `entries` over `log`, disposed after the test (see `freezeModelTimers`). */
export function modelFor(log: FakeLog, entries: Entry[], storage: MemoryStorage, walletId: string | null = WALLET) {
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
export async function alarmOf(log: FakeLog, entries: Entry[], storage: MemoryStorage): Promise<string | null> {
  const { model } = modelFor(log, entries, storage);
  await model.check();
  return model.alarm.value?.kind ?? null;
}

/** A storage in which the honest `log` has been verified once (key pinned, checkpoint kept). */
export async function verifiedOnce(log: FakeLog, entries: Entry[]): Promise<MemoryStorage> {
  const storage = new MemoryStorage();
  assert.equal(await alarmOf(log, entries, storage), null);
  return storage;
}

/** Registers, in the calling describe, the hooks every log check test runs under (frozen timers, models disposed). */
export function freezeModelTimers(): void {
  // The model's own timers (the debounce after the history changes, the periodic check) are frozen, so each test
  // runs exactly the checks it asks for; one test (logcheck-honest) advances them to show they run. (Run from index.js, the
  // models' tests have enabled them already for every test in the process: reset first, then enable.)
  beforeEach(() => {
    mock.timers.reset();
    mock.timers.enable({ apis: ["setTimeout", "setInterval"] });
  });
  afterEach(() => {
    for (const m of models.splice(0)) m[Symbol.dispose]();
    mock.timers.reset();
  });
}
