// The log's independent tools against a real `npm start` (one server, our witness named in LOG_WITNESS_KEYS):
// `npm run log:witness --once` cosigns the real log's checkpoint and `?witnessed=1` then serves it with that
// cosignature, which verifies under the witness's key; and a real transfer's receipt, once a checkpoint covers
// it, verifies offline with `npm run verify-receipt --log-key-file` and fails after one character of its
// inclusion proof changes.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { checkNoteSignature, parseNote, parseVerifierKey } from "../../src/domain/signed-note.ts";
import { client, testServer } from "./server.mjs";

const witnessScript = new URL("../../scripts/log-witness.mjs", import.meta.url).pathname;
const verifyScript = new URL("../../scripts/verify-receipt.mjs", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "log-tools-"));
const witnessState = join(dir, "witness.json");

/**
 * Runs the witness to its end.
 * @param {string[]} args
 * @returns {Promise<{ code: number | null, stdout: string, stderr: string }>}
 */
function witness(args) {
  return new Promise((ok) => {
    const child = spawn(process.execPath, [witnessScript, "--state", witnessState, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.once("exit", (code) => ok({ code, stdout, stderr }));
  });
}

let server;
let call;
let witnessVkey = "";
before(async () => {
  witnessVkey = (await witness(["--print-vkey"])).stdout.trim().split("\n").at(-1) ?? "";
  server = await testServer({
    env: {
      PASSWORD_ARGON2_MEMORY_KIB: "1024",
      PASSWORD_ARGON2_PASSES: "1",
      OUTBOX_FLUSH_DELAY_MS: "200",
      LOG_CHECKPOINT_INTERVAL_MS: "200",
      LOG_WITNESS_KEYS: witnessVkey,
    },
  });
  await server.start();
  call = client(server.baseUrl);
});
after(async () => {
  await server?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

test(
  "the witness cosigns the real log, and a covered receipt verifies offline and fails after one character",
  { timeout: 150_000 },
  async () => {
    const login = await call("/auth/login", { body: { handle: "alice", password: "demo-password" } });
    const me = await call("/me", { token: login.json.token });
    const sent = await call("/transfers", {
      token: login.json.token,
      key: crypto.randomUUID(),
      body: { from_wallet_id: me.json.wallets[0].id, to: { handle: "bob" }, amount: 1_250 },
    });
    assert.equal(sent.status, 201, sent.text);
    // The log feeds from D1 after the outbox, on an alarm the first Cron run arms: allow a minute and more.
    let receipt;
    for (const deadline = Date.now() + 100_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 200))) {
      receipt = await call(`/transfers/${sent.json.transfer.id}/receipt`, { token: login.json.token });
      if (receipt.json?.log !== undefined) break;
    }
    assert.ok(receipt?.json?.log !== undefined, `the receipt never carried log proofs: ${receipt?.text}`);

    const cosigned = await witness(["--url", server.baseUrl, "--once"]);
    assert.equal(cosigned.code, 0, cosigned.stdout + cosigned.stderr);
    const served = await call("/log/checkpoint?witnessed=1");
    assert.equal(served.status, 200);
    const check = await checkNoteSignature(parseNote(served.text), parseVerifierKey(witnessVkey));
    assert.equal(check.code, "verified", served.text);

    writeFileSync(join(dir, "receipt.json"), receipt.text);
    writeFileSync(join(dir, "key.json"), (await call("/receipts/public-key")).text);
    writeFileSync(join(dir, "log-key.json"), (await call("/log/key")).text);
    const verify = (file) =>
      spawnSync(process.execPath, [verifyScript, file, "--key-file", join(dir, "key.json"), "--log-key-file", join(dir, "log-key.json")], {
        encoding: "utf8",
      });
    const ok = verify(join(dir, "receipt.json"));
    assert.equal(ok.status, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /log: verified: checkpoint of \d+ leaves signed by /);

    const proofs = receipt.json.log.proofs;
    const hash = proofs.find((p) => p.inclusion.length > 0)?.inclusion[0];
    assert.ok(hash !== undefined, "a proof with at least one hash (the tree has the demo's entries too)");
    const changed = hash.slice(0, -1) + (hash.endsWith("0") ? "1" : "0");
    writeFileSync(join(dir, "tampered.json"), receipt.text.replace(hash, changed));
    const bad = verify(join(dir, "tampered.json"));
    assert.equal(bad.status, 1, bad.stdout);
    assert.match(bad.stderr, /log: proof \d: the entry .* is not proven/);
  },
);
