// `npm run log:witness` against a fake transparency log (test/http/fake-log.mjs, proofs from the RFC 9162
// reference): it pins the log key, cosigns honest checkpoints as the log grows (each cosignature verifies under
// the witness's printed verifier key), and stops with exit 1 and a report naming the failed check for each attack:
// a fork, a rollback, a bad log signature, a bad consistency proof and a rewritten past leaf. The alarm is kept in
// the state file, so an honest answer afterwards does not silence it.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { checkNoteSignature, parseNote, parseVerifierKey } from "../../src/domain/signed-note.ts";
import { fakeLog, leafOf } from "./fake-log.mjs";

const script = new URL("../../scripts/log-witness.mjs", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "witness-"));
const stateFile = join(dir, "state.json");

/**
 * Runs the witness to its end.
 * @param {string[]} args
 * @returns {Promise<{ code: number | null, stdout: string, stderr: string }>}
 */
function witness(args) {
  return new Promise((ok) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.once("exit", (code) => ok({ code, stdout, stderr }));
  });
}

/** @param {number} from @param {number} to */
const entries = (from, to) => Array.from({ length: to - from }, (_, i) => leafOf("w_alice", from + i + 1, String(i).padStart(64, "a")));

describe("log:witness against a fake log", () => {
  /** @type {Awaited<ReturnType<typeof fakeLog>>} */
  let log;
  /** @type {{ url: string, close: () => Promise<unknown> }} */
  let served;
  /** @type {string} */
  let witnessVkey;

  before(async () => {
    log = await fakeLog();
    served = await log.serve();
    log.append(...entries(0, 5));
  });
  after(async () => {
    await served.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * Runs one attack on a copy of the honest state: the witness must exit 1 and name `check` in its report.
   * @param {string} check
   * @param {boolean} [recheck] also show that an honest answer afterwards does not silence the recorded alarm
   */
  async function expectAlarm(check, recheck = false) {
    const attacked = join(dir, `attacked-${check}.json`);
    copyFileSync(stateFile, attacked);
    const run = await witness(["--url", served.url, "--state", attacked, "--once"]);
    assert.equal(run.code, 1, `${check}: ${run.stdout}${run.stderr}`);
    assert.match(run.stderr, new RegExp(`LOG MISBEHAVIOUR \\(${check}\\)`));
    assert.match(run.stderr, /the witness had accepted:/);
    assert.match(run.stderr, /the service now serves:/);
    if (!recheck) return run.stderr;
    // The alarm is recorded: the honest log is back, and the witness still refuses until told otherwise.
    const saved = log.lie.checkpoint;
    const savedProof = log.lie.consistency;
    delete log.lie.checkpoint;
    delete log.lie.consistency;
    const again = await witness(["--url", served.url, "--state", attacked, "--once"]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, new RegExp(`LOG MISBEHAVIOUR \\(${check}\\)`));
    if (saved) log.lie.checkpoint = saved;
    if (savedProof) log.lie.consistency = savedProof;
    return run.stderr;
  }

  test("first run: makes a key (state mode 600), pins the log key, cosigns the checkpoint with a valid cosignature", async () => {
    const run = await witness(["--url", served.url, "--state", stateFile, "--once"]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(statSync(stateFile).mode & 0o777, 0o600);
    const printed = await witness(["--state", stateFile, "--print-vkey"]);
    witnessVkey = printed.stdout.trim();
    assert.ok(run.stdout.includes(witnessVkey), "the first run prints the verifier key");
    const key = parseVerifierKey(witnessVkey);
    assert.equal(key.type, 0x04);
    assert.match(run.stdout, new RegExp(`pinned the log key ${log.vkey.replace(/[+/]/g, "\\$&")}`));
    assert.equal(log.cosignatures.length, 1);
    const posted = parseNote(/** @type {string} */ (log.cosignatures[0]));
    assert.equal(posted.body, parseNote(await log.checkpoint()).body);
    const check = await checkNoteSignature(posted, key);
    assert.equal(check.code, "verified");
    assert.ok(check.code === "verified" && Math.abs(/** @type {number} */ (check.timestamp) - Date.now() / 1000) < 60, "Unix seconds");
    assert.equal((await checkNoteSignature(posted, log.signer.key)).code, "verified", "the log's own signature is kept");
  });

  test("an unchanged checkpoint is not cosigned twice; a grown one is proven consistent and cosigned", async () => {
    const same = await witness(["--url", served.url, "--state", stateFile, "--once"]);
    assert.equal(same.code, 0, same.stderr);
    assert.equal(log.cosignatures.length, 1);
    for (const grow of [1, 7]) {
      log.append(...entries(log.leaves.length, log.leaves.length + grow));
      const run = await witness(["--url", served.url, "--state", stateFile, "--once"]);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, new RegExp(`cosigned the checkpoint of ${log.leaves.length} leaves`));
    }
    assert.equal(log.cosignatures.length, 3);
  });

  test("a fork (same size, another root) stops the witness", async () => {
    const forked = [...log.leaves];
    forked[2] = leafOf("w_alice", 3, "f".repeat(64));
    log.lie.checkpoint = () => log.checkpoint(forked.length, forked);
    const report = await expectAlarm("fork", true);
    assert.match(report, /two different roots for the same tree size 13/);
    delete log.lie.checkpoint;
  });

  test("a rollback (a smaller tree) stops the witness", async () => {
    log.lie.checkpoint = () => log.checkpoint(log.leaves.length - 2);
    const report = await expectAlarm("rollback");
    assert.match(report, /shrank from 13 to 11 leaves/);
    delete log.lie.checkpoint;
  });

  test("a bad log signature stops the witness", async () => {
    log.lie.checkpoint = async () => {
      const text = await log.checkpoint();
      // One bit of the signature's last byte flipped: still well-formed base64, no longer a valid signature.
      const line = text.trimEnd().split("\n").at(-1) ?? "";
      const bytes = Buffer.from(line.split(" ")[2] ?? "", "base64");
      bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 1;
      return text.replace(line, `${line.split(" ").slice(0, 2).join(" ")} ${bytes.toString("base64")}`);
    };
    const report = await expectAlarm("signature");
    assert.match(report, /does not verify/);
    delete log.lie.checkpoint;
  });

  test("a grown tree whose consistency proof does not verify stops the witness", async () => {
    log.append(...entries(log.leaves.length, log.leaves.length + 3));
    log.lie.consistency = async (from, to) => {
      const honest = /** @type {{ proof: string[] }} */ (await log.consistency(from, to));
      honest.proof[0] = "0".repeat(64);
      return honest;
    };
    const report = await expectAlarm("consistency");
    assert.match(report, /from 13 to 16 leaves does not verify/);
    delete log.lie.consistency;
  });

  test("a grown tree that rewrote a past leaf (the log signs it honestly) fails consistency", async () => {
    const rewritten = [...log.leaves];
    rewritten[4] = leafOf("w_alice", 5, "e".repeat(64));
    log.lie.checkpoint = () => log.checkpoint(rewritten.length, rewritten);
    log.lie.consistency = (from, to) => log.consistency(from, to, rewritten);
    await expectAlarm("consistency");
    delete log.lie.checkpoint;
    delete log.lie.consistency;
    // The honest state goes on: the witness accepts the honest grown log.
    const run = await witness(["--url", served.url, "--state", stateFile, "--once"]);
    assert.equal(run.code, 0, run.stderr);
  });

  test("following: cosigns as the log grows, and exits 1 at the first rollback", async () => {
    const follow = join(dir, "follow.json");
    copyFileSync(stateFile, follow);
    const before = log.cosignatures.length;
    const running = witness(["--url", served.url, "--state", follow, "--interval-ms", "20"]);
    log.append(...entries(log.leaves.length, log.leaves.length + 2));
    for (let i = 0; i < 200 && log.cosignatures.length === before; i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(log.cosignatures.length > before, "it cosigned the grown checkpoint");
    log.lie.checkpoint = () => log.checkpoint(3);
    const run = await running;
    delete log.lie.checkpoint;
    assert.equal(run.code, 1);
    assert.match(run.stderr, /LOG MISBEHAVIOUR \(rollback\)/);
    assert.deepEqual(JSON.parse(readFileSync(follow, "utf8")).alarm.check, "rollback");
  });

  test("an unreachable service with --once is exit 3, not an alarm", async () => {
    const run = await witness(["--url", "http://127.0.0.1:9", "--state", stateFile, "--once"]);
    assert.equal(run.code, 3, run.stderr);
    assert.equal(JSON.parse(readFileSync(stateFile, "utf8")).alarm, undefined);
  });
});
