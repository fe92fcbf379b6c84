// `npm run verify-receipt` on a receipt that carries `log` (a signed checkpoint and the inclusion proofs of its
// two entries), made here with a receipt key of the test's and a fake log whose proofs come from the RFC 9162
// reference: it verifies with the log key given three ways, and fails when any one character of the `log`
// changes (every position, in process), when the `log` field's name is misspelt, when the receipt signature's
// base64url is respelt, and under another log's key.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { generateKeyPairSync, sign } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { canonicalJson } from "../../src/domain/canonical.ts";
import { receiptLogProblems } from "../../scripts/receipt-log.mjs";
import { fakeLog, leafOf } from "./fake-log.mjs";

const script = new URL("../../scripts/verify-receipt.mjs", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "receipt-log-"));
const verifyFile = (...args) => spawnSync(process.execPath, [script, ...args], { encoding: "utf8" });

/**
 * Writes `text` as a receipt file and runs the CLI on it with the receipt key and `extra` arguments.
 * @param {string} text
 * @param {string[]} extra
 */
function verifyText(text, extra) {
  const file = join(dir, `r-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, text);
  return verifyFile(file, "--key-file", join(dir, "key.json"), ...extra);
}

describe("verify-receipt with log proofs", () => {
  /** @type {Awaited<ReturnType<typeof fakeLog>>} */
  let log;
  /** @type {string} */
  let receiptText;

  before(async () => {
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    const x = /** @type {string} */ (publicKey.export({ format: "jwk" }).x);
    writeFileSync(join(dir, "key.json"), JSON.stringify({ key_id: "rk1", alg: "Ed25519", public_key: x }));
    const entries = [
      { wallet_id: "w_alice", seq: 4, kind: "transfer_out", amount: -1250, hash: "1a".repeat(32) },
      { wallet_id: "w_bob", seq: 9, kind: "transfer_in", amount: 1250, hash: "2b".repeat(32) },
    ];
    const receipt = {
      version: "v1",
      transfer: { id: "t_1", status: "succeeded", from_wallet_id: "w_alice", to_wallet_id: "w_bob", amount: 1250, currency: "USD" },
      entries,
    };
    const value = sign(null, Buffer.from(canonicalJson(receipt)), privateKey).toString("base64url");
    log = await fakeLog();
    // Other leaves around the receipt's two, so the proofs have several levels.
    for (let i = 1; i <= 6; i++) log.append(leafOf("w_carol", i, String(i).repeat(64)));
    log.append(leafOf("w_alice", 4, entries[0]?.hash ?? ""));
    log.append(leafOf("w_carol", 7, "7".repeat(64)));
    log.append(leafOf("w_bob", 9, entries[1]?.hash ?? ""));
    for (let i = 8; i <= 10; i++) log.append(leafOf("w_carol", i, "c".repeat(64)));
    const proofs = [];
    for (const [index, e] of /** @type {const} */ ([
      [6, entries[0]],
      [8, entries[1]],
    ])) {
      const p = await log.inclusion(index);
      proofs.push({ wallet_id: e?.wallet_id, seq: e?.seq, leaf_index: index, inclusion: p.inclusion });
    }
    receiptText = JSON.stringify({
      receipt,
      signature: { alg: "Ed25519", key_id: "rk1", value },
      log: { checkpoint: await log.checkpoint(), proofs },
    });
    writeFileSync(join(dir, "log-key.json"), JSON.stringify({ origin: log.origin, key_name: log.origin, vkey: log.vkey }));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("valid with --log-key, with --log-key-file, and says NOT CHECKED without a log key", () => {
    const ok = verifyText(receiptText, ["--log-key", log.vkey]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /log: verified: checkpoint of 12 leaves signed by wallet\.test\/log\+[0-9a-f]{8}; w_alice seq 4 is leaf 6/);
    const fromFile = verifyText(receiptText, ["--log-key-file", join(dir, "log-key.json")]);
    assert.equal(fromFile.status, 0, fromFile.stderr);
    assert.match(fromFile.stdout, /log: verified/);
    const unchecked = verifyText(receiptText, []);
    assert.equal(unchecked.status, 0, unchecked.stderr);
    assert.match(unchecked.stdout, /log: NOT CHECKED/);
  });

  test("every one-character change of the log fails it (or makes the file unreadable JSON)", async () => {
    const start = receiptText.indexOf('"log":') + '"log":'.length;
    assert.deepEqual((await receiptLogProblems(JSON.parse(receiptText), log.vkey)).problems, []);
    let tried = 0;
    for (let i = start; i < receiptText.length - 1; i++) {
      const code = receiptText.charCodeAt(i);
      for (const other of new Set([code ^ 1, code ^ 0x20, 0x30 + ((code + 1) % 10)])) {
        if (other === code) continue;
        const text = receiptText.slice(0, i) + String.fromCharCode(other) + receiptText.slice(i + 1);
        let parsed;
        try {
          parsed = JSON.parse(text);
        } catch {
          continue;
        }
        tried++;
        const { problems } = await receiptLogProblems(parsed, log.vkey);
        assert.ok(problems.length > 0, `a change at ${i} (${JSON.stringify(receiptText.slice(i - 10, i + 10))}) went unnoticed`);
      }
    }
    assert.ok(tried > 1000, `only ${tried} changes were readable JSON`);
  });

  test("a misspelt log field, a respelt signature and another log's key each fail the CLI", async () => {
    const misspelt = verifyText(receiptText.replace('"log":', '"lOg":'), ["--log-key", log.vkey]);
    assert.equal(misspelt.status, 1);
    assert.match(misspelt.stderr, /unknown fields: lOg/);
    // The last character of an Ed25519 signature in base64url carries 4 unused bits: respelling them keeps the bytes.
    const value = JSON.parse(receiptText).signature.value;
    const last = value.at(-1);
    const respelt = value.slice(0, -1) + (last === "A" ? "B" : "A");
    const alias = verifyText(receiptText.replace(value, respelt), ["--log-key", log.vkey]);
    assert.equal(alias.status, 1);
    const other = await fakeLog();
    const wrongKey = verifyText(receiptText, ["--log-key", other.vkey]);
    assert.equal(wrongKey.status, 1);
    assert.match(wrongKey.stderr, /log: the checkpoint is not signed by the log key given/);
  });
});
