/**
 * The transparency log (issue 15): fed from real transfers through D1, each entry a leaf once; the proofs and
 * checkpoints the routes serve checked with an independent RFC 9162 implementation (test/reference/rfc9162.ts)
 * and the key from /log/key; witness cosignatures; append-only storage; bad inputs per route.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { parseCheckpointBody, parseNote, parseVerifierKey, checkNoteSignature } from "../../src/domain/signed-note";
import type { TransparencyLog } from "../../src/log-object";
import { bytesOf, cat, hexOf, mth, path, sha, subproof } from "../reference/rfc9162";
import { api, deposit, register, settle, transfer, type TestUser } from "./helpers";

const logStub = (): DurableObjectStub<TransparencyLog> => env.LOG.getByName("log");

/** D1's entries in rowid order: the leaf order the log must have used. */
async function d1Leaves(): Promise<{ wallet_id: string; seq: number; hash: string }[]> {
  return (
    await env.DB.prepare("SELECT wallet_id, seq, hash FROM ledger_entries ORDER BY rowid").all<{
      wallet_id: string;
      seq: number;
      hash: string;
    }>()
  ).results;
}

const leafBytes = (e: { wallet_id: string; seq: number; hash: string }): Uint8Array =>
  new TextEncoder().encode(JSON.stringify([e.wallet_id, e.seq, e.hash]));

async function checkpointText(query = ""): Promise<string> {
  const res = await api(`/log/checkpoint${query}`);
  expect(res.status, res.text).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
  return res.text;
}

let alice: TestUser;
let bob: TestUser;

async function someTransfers(): Promise<void> {
  alice = await register();
  bob = await register();
  await deposit(alice, 10_000);
  for (let i = 0; i < 3; i++) expect((await transfer(alice, { wallet_id: bob.wallet_id }, 100 + i)).status).toBe(201);
  await settle([alice.id, bob.id]);
}

describe("transparency log", () => {
  it("ingests every entry of real transfers once, in D1's order, even when fed twice", async () => {
    await someTransfers();
    const [first, second] = await Promise.all([logStub().feed(), logStub().feed()]);
    expect(first).toEqual(second);
    const again = await logStub().feed();
    expect(again.appended).toBe(0);
    expect(again.signed).toBe(false);
    const d1 = await d1Leaves();
    expect(again.tree_size).toBe(d1.length);
    // The same rows offered again directly are skipped: a (wallet, seq) is a leaf at most once.
    const rows = await env.DB.prepare("SELECT rowid AS source_rowid, wallet_id, seq, hash FROM ledger_entries").all<{
      source_rowid: number;
      wallet_id: string;
      seq: number;
      hash: string;
    }>();
    expect(await runInDurableObject(logStub(), (o) => o.appendLeaves(rows.results))).toBe(0);
    const body = parseCheckpointBody(parseNote(await checkpointText()).body);
    expect(body.size).toBe(d1.length);
    expect(hexOf(body.root)).toBe(hexOf(await mth(d1.map(leafBytes))));
  });
});
