/**
 * The transparency log (issue 15): fed from real transfers through D1, each entry a leaf once; the proofs and
 * checkpoints the routes serve checked with an independent RFC 9162 implementation (test/reference/rfc9162.ts)
 * and WebCrypto against the key from /log/key; witness cosignatures; append-only storage; the auditor's verify
 * against a rewritten entry and a skipped one; bad inputs per route. Tests run in order and share one log.
 *
 * The audit store has two partitions here (wrangler.toml's AUDIT_PARTITIONS), and alice and bob are placed in
 * different ones, so every test feeds the log from both: D1's order is each partition's rowid order, and the
 * leaves interleave the partitions in an order the log chose (read from its leaves and checked against D1).
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { logVerifyOptions, verifyLog } from "../../src/audit/log-verify";
import type { Problem } from "../../src/audit/chain";
import { base64urlDecode } from "../../src/auth/encoding";
import {
  checkNoteSignature,
  cosignBody,
  formatVerifierKey,
  parseNote,
  parseVerifierKey,
  SIG_COSIGNATURE_V1,
} from "../../src/domain/signed-note";
import type { TransparencyLog } from "../../src/log-object";
import { bytesOf, cat, hexOf, mth, path, sha, subproof } from "../reference/rfc9162";
import { tamper } from "./audit-helpers";
import { partitionDbs } from "../../src/db/partitions";
import { api, deposit, grantAuditor, register, registerIn, settle, transfer, type TestUser } from "./helpers";

const logStub = (name = "log"): DurableObjectStub<TransparencyLog> => env.LOG.getByName(name);

interface D1Entry {
  source_partition: number;
  source_rowid: number;
  wallet_id: string;
  seq: number;
  hash: string;
}

/** Each partition's entries in its rowid order: the order that partition's leaves must be in. */
async function d1ByPartition(): Promise<D1Entry[][]> {
  return Promise.all(
    partitionDbs(env).map(async (db, source_partition) =>
      (
        await db
          .prepare("SELECT rowid AS source_rowid, wallet_id, seq, hash FROM ledger_entries ORDER BY rowid")
          .all<Omit<D1Entry, "source_partition">>()
      ).results.map((e) => ({ ...e, source_partition })),
    ),
  );
}

/**
 * D1's entries in the leaf order of `log` (up to its leaves' count): the log's leaves are read only for which
 * partition each came from; each partition's next row in rowid order must then be that leaf (wallet, seq and
 * recorded rowid), so this fails if the log skipped, repeated or reordered a partition's row.
 */
async function d1Entries(log = logStub()): Promise<D1Entry[]> {
  const d1 = await d1ByPartition();
  const leaves = await runInDurableObject(log, (_o, state) =>
    state.storage.sql
      .exec<{ wallet_id: string; seq: number; source_partition: number; source_rowid: number }>(
        "SELECT wallet_id, seq, source_partition, source_rowid FROM leaves ORDER BY leaf_index",
      )
      .toArray(),
  );
  const next = d1.map(() => 0);
  return leaves.map((leaf) => {
    const p = leaf.source_partition;
    const row = d1[p]?.[next[p] ?? 0];
    next[p] = (next[p] ?? 0) + 1;
    expect(row, `leaf of ${leaf.wallet_id} seq ${leaf.seq}`).toMatchObject({
      wallet_id: leaf.wallet_id,
      seq: leaf.seq,
      source_rowid: leaf.source_rowid,
    });
    return row as D1Entry;
  });
}

/** Every entry of every partition. */
const d1Count = async (): Promise<number> => (await d1ByPartition()).reduce((n, rows) => n + rows.length, 0);

const leafBytes = (e: { wallet_id: string; seq: number; hash: string }): Uint8Array =>
  new TextEncoder().encode(JSON.stringify([e.wallet_id, e.seq, e.hash]));

const b64 = (text: string): Uint8Array => Uint8Array.from(atob(text), (ch) => ch.charCodeAt(0));

/** A checkpoint's size and root, read by hand from its three lines (not with the production parser). */
function sizeAndRoot(note: string): { size: number; root: string } {
  const [, size, root] = note.split("\n");
  return { size: Number(size), root: hexOf(b64(root ?? "")) };
}

async function checkpointText(query = ""): Promise<string> {
  const res = await api(`/log/checkpoint${query}`);
  expect(res.status, res.text).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
  return res.text;
}

/** Checks the log's signature on a note with WebCrypto and the vkey from GET /log/key, by the C2SP rules. */
async function logSignatureVerifies(note: string): Promise<boolean> {
  const key = await api<{ origin: string; key_name: string; vkey: string }>("/log/key");
  expect(key.status).toBe(200);
  expect(key.json.key_name).toBe(key.json.origin);
  const [name, idHex, material64] = key.json.vkey.split("+") as [string, string, string];
  const material = b64(material64);
  expect(material[0]).toBe(0x01);
  const publicKey = material.slice(1);
  const id = (await sha(cat(new TextEncoder().encode(`${name}\n`), Uint8Array.of(0x01), publicKey))).slice(0, 4);
  expect(hexOf(id)).toBe(idHex);
  const split = note.indexOf("\n\n");
  const body = note.slice(0, split + 1);
  const line = note
    .slice(split + 2)
    .split("\n")
    .find((l) => l.startsWith(`\u2014 ${name} `));
  if (line === undefined) return false;
  const sig = b64(line.split(" ")[2] ?? "");
  if (hexOf(sig.slice(0, 4)) !== idHex) return false;
  const k = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
  return crypto.subtle.verify({ name: "Ed25519" }, k, sig.slice(4), new TextEncoder().encode(body));
}

/** The witness configured in vitest.config.ts, and one the log does not know. */
const WITNESS_SECRET = "MC4CAQAwBQYDK2VwBCIEICIzitV__vr9tee2TzlZGZwS8mc3ot4_ArbCaeEVLiCo";
async function witness(secret: string | null, name = "witness.test") {
  let privateKey: CryptoKey;
  let publicKey: Uint8Array;
  if (secret === null) {
    const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as CryptoKeyPair;
    privateKey = pair.privateKey;
    publicKey = new Uint8Array((await crypto.subtle.exportKey("raw", pair.publicKey)) as ArrayBuffer);
  } else {
    const pkcs8 = base64urlDecode(secret);
    const jwk = (await crypto.subtle.exportKey(
      "jwk",
      await crypto.subtle.importKey("pkcs8", pkcs8, { name: "Ed25519" }, true, ["sign"]),
    )) as JsonWebKey;
    privateKey = await crypto.subtle.importKey("pkcs8", pkcs8, { name: "Ed25519" }, false, ["sign"]);
    publicKey = base64urlDecode(jwk.x ?? "");
  }
  const key = parseVerifierKey(formatVerifierKey(name, SIG_COSIGNATURE_V1, publicKey));
  return { privateKey, key };
}

async function cosigned(note: string, secret: string | null, name?: string): Promise<string> {
  const body = parseNote(note).body;
  return `${note}${await cosignBody(body, await witness(secret, name), Math.floor(Date.now() / 1000))}\n`;
}

const postCosignature = (text: string, type = "text/plain; charset=utf-8") =>
  api("/log/cosignatures", { method: "POST", rawBody: text, headers: { "content-type": type } });

let alice: TestUser;
let bob: TestUser;
let auditor: TestUser;
let firstTransferId = "";

async function someTransfers(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const res = await transfer(alice, { wallet_id: bob.wallet_id }, 100 + i);
    expect(res.status).toBe(201);
    firstTransferId ||= (res.json as { transfer: { id: string } }).transfer.id;
  }
  await settle([alice.id, bob.id]);
}

describe("transparency log", () => {
  it("ingests every entry of real transfers once, in D1's order, even when fed twice", async () => {
    alice = await registerIn(0);
    bob = await registerIn(1);
    auditor = await register();
    await grantAuditor(auditor);
    await deposit(alice, 100_000);
    await someTransfers(3);
    const [first, second] = await Promise.all([logStub().feed(), logStub().feed()]);
    expect(first).toEqual(second);
    const again = await logStub().feed();
    expect(again).toMatchObject({ appended: 0, signed: false });
    const d1 = await d1Entries();
    expect(again.tree_size).toBe(d1.length);
    expect(d1.length).toBe(await d1Count());
    expect(new Set(d1.map((e) => e.source_partition))).toEqual(new Set([0, 1]));
    // The same rows offered again directly are skipped: a (wallet, seq) is a leaf at most once.
    expect(await runInDurableObject(logStub(), (o) => o.appendLeaves(d1))).toBe(0);
    const cp = sizeAndRoot(await checkpointText());
    expect(cp.size).toBe(d1.length);
    expect(cp.root).toBe(hexOf(await mth(d1.map(leafBytes))));
  });

  it("serves checkpoints signed by the key of /log/key, and inclusion and consistency proofs the RFC reference agrees with", async () => {
    const before = sizeAndRoot(await checkpointText());
    await someTransfers(4);
    await logStub().feed();
    const note = await checkpointText();
    expect(await logSignatureVerifies(note)).toBe(true);
    // One byte changed in the body: the signature no longer verifies.
    expect(await logSignatureVerifies(note.replace(/\n(\d+)\n/, (_m, n: string) => `\n${Number(n) + 1}\n`))).toBe(false);
    const leaves = (await d1Entries()).map(leafBytes);
    expect(leaves.length).toBe(await d1Count());
    const after = sizeAndRoot(note);
    expect(after.size).toBe(leaves.length);
    expect(after.root).toBe(hexOf(await mth(leaves)));
    for (const seq of [1, 2, 5]) {
      for (const size of [after.size, before.size]) {
        const res = await api<{ leaf_index: number; tree_size: number; leaf: string; inclusion: string[] }>(
          `/log/proof?wallet_id=${alice.wallet_id}&seq=${seq}${size === after.size ? "" : `&tree_size=${size}`}`,
          { token: alice.token },
        );
        if (res.status === 404) {
          expect(seq).toBe(5); // alice's 5th entry came after the older checkpoint
          continue;
        }
        expect(res.status, res.text).toBe(200);
        expect(res.json.tree_size).toBe(size);
        expect(new TextEncoder().encode(res.json.leaf)).toEqual(leaves[res.json.leaf_index]);
        expect(res.json.inclusion).toEqual((await path(res.json.leaf_index, leaves.slice(0, size))).map(hexOf));
      }
    }
    const consistency = await api<{ from: number; to: number; proof: string[] }>(`/log/consistency?from=${before.size}&to=${after.size}`);
    expect(consistency.status).toBe(200);
    expect(consistency.json.proof).toEqual((await subproof(before.size, leaves, true)).map(hexOf));
    expect(consistency.json.proof.length).toBeGreaterThan(0);
    // An auditor may read anyone's proof.
    expect((await api(`/log/proof?wallet_id=${bob.wallet_id}&seq=1`, { token: auditor.token })).status).toBe(200);
  });

  it("lists every checkpoint oldest first, paged", async () => {
    const first = await api<{ items: string[]; next_cursor: string | null }>("/log/checkpoints?limit=1");
    expect(first.status).toBe(200);
    expect(first.json.items).toHaveLength(1);
    expect(first.json.next_cursor).not.toBeNull();
    const rest = await api<{ items: string[]; next_cursor: string | null }>(`/log/checkpoints?after=${first.json.next_cursor}`);
    const sizes = [...first.json.items, ...rest.json.items].map((n) => sizeAndRoot(n).size);
    expect(sizes).toEqual([...sizes].sort((a, b) => a - b));
    expect(sizes[sizes.length - 1]).toBe(sizeAndRoot(await checkpointText()).size);
    expect(rest.json.next_cursor).toBeNull();
  });

  it("follows the checkpoint list by `cursor` as every other list is followed, and refuses a cursor that is not one", async () => {
    // A client that passes next_cursor back as `cursor` (as history, transfers and events take it) must get the next
    // page: an ignored `cursor` answered the first page again, for ever.
    const first = await api<{ items: string[]; next_cursor: string | null }>("/log/checkpoints?limit=1");
    expect(first.json.next_cursor).not.toBeNull();
    const byCursor = await api<{ items: string[] }>(`/log/checkpoints?limit=1&cursor=${first.json.next_cursor}`);
    const byAfter = await api<{ items: string[] }>(`/log/checkpoints?limit=1&after=${first.json.next_cursor}`);
    expect(byCursor.status, byCursor.text).toBe(200);
    expect(byCursor.json.items).toEqual(byAfter.json.items);
    expect(byCursor.json.items).not.toEqual(first.json.items);
    expect((await api(`/log/checkpoints?cursor=garbage`)).status).toBe(400);
    expect((await api(`/log/checkpoints?cursor=1&after=2`)).status).toBe(400);
    expect((await api(`/log/checkpoints?cursor=2&after=2`)).status).toBe(200);
  });

  it("puts the inclusion proofs of both entries beside a receipt's signature once a checkpoint covers them", async () => {
    const res = await api<{
      receipt: { entries: { wallet_id: string; seq: number }[] };
      log: { checkpoint: string; proofs: { wallet_id: string; seq: number; leaf_index: number; inclusion: string[] }[] };
    }>(`/transfers/${firstTransferId}/receipt`, { token: alice.token });
    expect(res.status, res.text).toBe(200);
    const { size, root } = sizeAndRoot(res.json.log.checkpoint);
    const leaves = (await d1Entries()).map(leafBytes).slice(0, size);
    expect(root).toBe(hexOf(await mth(leaves)));
    expect(res.json.log.proofs.map((p) => [p.wallet_id, p.seq])).toEqual(res.json.receipt.entries.map((e) => [e.wallet_id, e.seq]));
    for (const p of res.json.log.proofs) expect(p.inclusion).toEqual((await path(p.leaf_index, leaves)).map(hexOf));
  });

  it("accepts a configured witness's cosignature and serves it; refuses unknown keys, foreign checkpoints and bad input", async () => {
    const note = await checkpointText();
    expect((await api("/log/checkpoint?witnessed=1")).status).toBe(404);
    const good = await cosigned(note, WITNESS_SECRET);
    expect((await postCosignature(good)).status).toBe(204);
    expect((await postCosignature(good)).status).toBe(204); // a repeat is harmless
    const served = await checkpointText();
    expect(served).toBe(good);
    expect(await checkpointText("?witnessed=1")).toBe(good);
    // GET /log/key publishes the witness's verifier key (exactly as configured), and it verifies the cosignature served.
    const keys = await api<{ witnesses: { name: string; vkey: string }[] }>("/log/key");
    const configured = (env as unknown as { LOG_WITNESS_KEYS: string }).LOG_WITNESS_KEYS;
    expect(keys.json.witnesses).toEqual([{ name: "witness.test", vkey: configured }]);
    expect(await checkNoteSignature(parseNote(good), parseVerifierKey(configured))).toMatchObject({ code: "verified" });
    // An unknown key, even under the configured witness's name.
    const stranger = await postCosignature(await cosigned(note, null));
    expect(stranger.status).toBe(400);
    expect(stranger.json).toMatchObject({ error: { code: "validation_error" } });
    expect((await postCosignature(await cosigned(note, null, "someone.else"))).status).toBe(400);
    // A checkpoint the log never signed (another root), cosigned by the real witness.
    const [origin, sizeLine] = note.split("\n");
    const forged = `${origin}\n${sizeLine}\n${btoa(String.fromCharCode(...bytesOf("ab".repeat(32))))}\n\n${note.split("\n\n")[1]}`;
    expect((await postCosignature(await cosigned(forged, WITNESS_SECRET))).status).toBe(400);
    expect((await postCosignature("not a note")).status).toBe(400);
    expect((await postCosignature(good, "application/json")).status).toBe(400);
    expect((await postCosignature(`${good}${"x".repeat(17_000)}`)).status).toBe(413);
    expect(await checkpointText()).toBe(good);
  });

  it("refuses to change or remove anything it stored: leaves, nodes, checkpoints, cosignatures", async () => {
    await runInDurableObject(logStub(), (_o, state) => {
      for (const statement of [
        "UPDATE leaves SET seq = seq + 1000",
        "DELETE FROM leaves",
        "UPDATE nodes SET hash = zeroblob(32)",
        "DELETE FROM nodes",
        "UPDATE checkpoints SET note = ''",
        "DELETE FROM checkpoints",
        "UPDATE cosignatures SET line = ''",
        "DELETE FROM cosignatures",
      ]) {
        expect(() => state.storage.sql.exec(statement), statement).toThrow(/append-only/);
      }
    });
  });

  it("answers bad inputs with their codes", async () => {
    const latest = sizeAndRoot(await checkpointText()).size;
    const carol = await register();
    const cases: [string, string | undefined, number][] = [
      [`/log/proof?wallet_id=${alice.wallet_id}&seq=1`, undefined, 401],
      [`/log/proof?wallet_id=${alice.wallet_id}&seq=1`, carol.token, 403],
      [`/log/proof?wallet_id=w_nobody&seq=1`, carol.token, 404],
      [`/log/proof?wallet_id=${alice.wallet_id}&seq=999`, alice.token, 404],
      [`/log/proof?wallet_id=${alice.wallet_id}&seq=1&tree_size=0`, alice.token, 404],
      [`/log/proof?wallet_id=${alice.wallet_id}&seq=1&tree_size=${latest + 1}`, alice.token, 400],
      [`/log/proof?wallet_id=${alice.wallet_id}&seq=0`, alice.token, 400],
      [`/log/proof?wallet_id=${alice.wallet_id}&seq=x`, alice.token, 400],
      [`/log/proof?wallet_id=${alice.wallet_id}`, alice.token, 400],
      [`/log/consistency?from=2&to=1`, undefined, 400],
      [`/log/consistency?from=1&to=${latest + 1}`, undefined, 400],
      [`/log/consistency?from=-1&to=1`, undefined, 400],
      [`/log/consistency?from=1`, undefined, 400],
      [`/log/checkpoints?limit=0`, undefined, 400],
      [`/log/checkpoints?limit=201`, undefined, 400],
      [`/log/checkpoints?after=01`, undefined, 400],
      [`/log/checkpoint?witnessed=2`, undefined, 400],
    ];
    for (const [url, token, status] of cases) {
      const res = await api(url, token === undefined ? {} : { token });
      expect(res.status, `${url}: ${res.text}`).toBe(status);
    }
    expect((await api(`/log/consistency?from=${latest}&to=${latest}`)).json).toEqual({ from: latest, to: latest, proof: [] });
  });

  it("the auditor's verify reports an entry rewritten in D1 after it was logged, a skipped entry and late coverage", async () => {
    const clean = await api<{ ok: boolean; problems: Problem[]; log: { tree_size: number; leaves_checked: number } }>("/audit/verify", {
      token: auditor.token,
    });
    expect(clean.json.problems).toEqual([]);
    expect(clean.json.log.leaves_checked).toBe(clean.json.log.tree_size);
    // A log that skipped one entry (bob's, in partition 1): D1's rows appended by hand without it, then signed.
    const d1 = await d1Entries();
    const skipped = d1.find((e) => e.source_partition === 1 && e.seq === 2) as D1Entry;
    const dropped = logStub("log-dropped");
    await runInDurableObject(dropped, async (o) => {
      o.appendLeaves(d1.filter((e) => e !== skipped));
      await o.signIfGrown();
    });
    const problems: Problem[] = [];
    await verifyLog(partitionDbs(env), { ...(await logVerifyOptions(env, Date.now())), log: dropped }, problems);
    expect(problems).toEqual(
      expect.arrayContaining([expect.objectContaining({ kind: "log_missing_leaf", wallet_id: skipped.wallet_id, seq: skipped.seq })]),
    );
    // Entries written, not yet logged, past the coverage promise.
    await someTransfers(1);
    const late: Problem[] = [];
    const coverage = await verifyLog(
      partitionDbs(env),
      { ...(await logVerifyOptions(env, Date.now() + 60_000)), cover_max_ms: 30_000 },
      late,
    );
    expect(coverage.uncovered).toBe(2);
    expect(late.map((p) => p.kind)).toEqual(["log_not_covered"]);
    // An entry rewritten in D1 after it was logged (alice's, in partition 0; partition 1 is tampered with below).
    const target = d1.find((e) => e.source_partition === 0 && e.seq === 3) as D1Entry;
    await tamper("UPDATE ledger_entries SET hash = ? WHERE wallet_id = ? AND seq = ?", "0".repeat(64), target.wallet_id, target.seq);
    const report = await api<{ ok: boolean; problems: Problem[] }>("/audit/verify", { token: auditor.token });
    expect(report.json.ok).toBe(false);
    expect(report.json.problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: "log_leaf_mismatch", wallet_id: target.wallet_id, seq: target.seq }),
        expect.objectContaining({ kind: "log_root_mismatch" }),
      ]),
    );
  });
});
