// The transparency log end to end (issue 15), in Chromium against one real `npm start`, with a witness of ours
// named in LOG_WITNESS_KEYS:
//   1. the user's browser shows "History verified up to <time>" against a signed checkpoint that the witness
//      (`npm run log:witness --once`) has cosigned (`?witnessed=1` serves its cosignature, which verifies), and
//      names the witness as "cosigned by <name> (verified)": it checked the cosignature with the witness key that
//      GET /log/key publishes and the browser pinned; and a
//      transfer's receipt verifies offline with its log proofs (`npm run verify-receipt --log-key-file`) and
//      fails after one character of a proof changes;
//   2. fresh browsers that have seen the honest log are each shown, through request interception, a rolled-back
//      checkpoint, a forked one (another root at the same size, signed with the log's own key as a dishonest
//      operator could), a log that dropped one of the user's leaves (re-signed and with proofs computed over
//      the shortened tree), and a witnessed checkpoint whose cosignature the operator forged (the witness's name
//      and key id, signed with another key): each raises the alarm;
//   3. the operator rewrites a past entry of the wallet behind the service's back, consistently: in D1, in the
//      wallet object, and in the log object (its leaves and node hashes recomputed and a new checkpoint signed),
//      with the server stopped. The user's still-open browser raises the alarm, and so does the witness.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, test } from "node:test";
import { hashToHex, leafHash, logLeaf, nodeHash, rootOf } from "../../src/domain/merkle.ts";
import {
  SIG_ED25519,
  base64Decode,
  checkNoteSignature,
  cosignBody,
  formatCheckpointBody,
  formatNote,
  formatVerifierKey,
  parseCheckpointBody,
  parseNote,
  parseVerifierKey,
  signNoteBody,
} from "../../src/domain/signed-note.ts";
import { hexOf, path as inclusionPath, subproof } from "../reference/rfc9162.ts";
import { browser, call, server, useServerAndBrowser } from "./browser.mjs";

const witnessScript = new URL("../../scripts/log-witness.mjs", import.meta.url).pathname;
const verifyScript = new URL("../../scripts/verify-receipt.mjs", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "log-e2e-"));
const witnessState = join(dir, "witness.json");
after(() => rmSync(dir, { recursive: true, force: true }));

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

// The witness's key is made before the server starts, so that the server can name it in LOG_WITNESS_KEYS.
const made = await witness(["--print-vkey"]);
const witnessVkey = made.stdout.trim().split("\n").at(-1) ?? "";
parseVerifierKey(witnessVkey);

useServerAndBrowser({
  env: { OUTBOX_FLUSH_DELAY_MS: "200", LOG_CHECKPOINT_INTERVAL_MS: "200", LOG_WITNESS_KEYS: witnessVkey },
});

const PASSWORD = "log-e2e-password";

/**
 * An entry's chain hash as docs/architecture.md ("Hash chain") publishes it, written out as the operator's
 * rewriting tool would: SHA-256 hex of the JSON array of the version tag, the wallet id and the entry's fields.
 * @param {string} walletId
 * @param {any} e
 */
function entryHash(walletId, e) {
  const fields = [e.seq, e.id, e.kind, e.amount, e.balance_after, e.transfer_id, e.counterparty, e.memo, e.created_at, e.prev_hash];
  return createHash("sha256")
    .update(JSON.stringify(["v1", walletId, ...fields]))
    .digest("hex");
}
/** @param {Uint8Array} bytes */
const decode = (bytes) => new TextDecoder().decode(bytes);

/**
 * Polls `probe` every 100 ms until it returns something other than undefined, for at most `ms`.
 * @template T
 * @param {string} what
 * @param {() => Promise<T | undefined>} probe
 * @param {number} ms
 * @returns {Promise<T>}
 */
async function until(what, probe, ms) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The SQLite file of one Durable Object class whose table `table` has a row matching `where`. */
function objectFile(className, sql, ...params) {
  const folder = join(server.stateDir, "v3", "do", `edge-wallet-${className}`);
  for (const name of readdirSync(folder).filter((f) => f.endsWith(".sqlite"))) {
    const db = new DatabaseSync(join(folder, name), { readOnly: true });
    try {
      if (db.prepare(sql).get(...params) !== undefined) return join(folder, name);
    } catch {
      // Another object's file, without that table.
    } finally {
      db.close();
    }
  }
  throw new Error(`no ${className} object matches ${sql}`);
}

/**
 * The local D1 file that holds wallet `walletId`'s entries: the one of its audit partition (docs/architecture.md).
 * @param {string} walletId
 */
function d1File(walletId) {
  const folder = join(server.stateDir, "v3", "d1", "miniflare-D1DatabaseObject");
  for (const name of readdirSync(folder).filter((f) => f.endsWith(".sqlite") && f !== "metadata.sqlite")) {
    const db = new DatabaseSync(join(folder, name), { readOnly: true });
    try {
      if (db.prepare("SELECT 1 FROM ledger_entries WHERE wallet_id = ?").get(walletId) !== undefined) return join(folder, name);
    } finally {
      db.close();
    }
  }
  throw new Error(`no D1 database file in ${folder} holds ${walletId}'s entries`);
}

/** @type {Promise<{ origin: string, signer: import("../../src/domain/signed-note.ts").NoteSigner }> | null} */
let signing = null;
/** The log's signer, from the local secrets file: what an operator (or anyone with the disk) holds. Read once, while the server runs. */
function logSigner() {
  signing ??= readLogSigner();
  return signing;
}

async function readLogSigner() {
  const secrets = readFileSync(join(server.stateDir, "secrets.env"), "utf8");
  const secret = /^LOG_SIGNING_KEY=(.+)$/m.exec(secrets)?.[1];
  if (secret === undefined) throw new Error("no LOG_SIGNING_KEY in secrets.env");
  const pkcs8 = Buffer.from(secret, "base64url");
  const privateKey = await crypto.subtle.importKey("pkcs8", pkcs8, { name: "Ed25519" }, true, ["sign"]);
  const jwk = await crypto.subtle.exportKey("jwk", privateKey);
  const key = await call("/log/key");
  const vkey = formatVerifierKey(key.json.origin, SIG_ED25519, base64Decode(Buffer.from(jwk.x ?? "", "base64url").toString("base64")));
  assert.equal(vkey, key.json.vkey, "the secret is the key the log publishes");
  return { origin: key.json.origin, signer: { privateKey, key: parseVerifierKey(vkey) } };
}

/**
 * A checkpoint of `leafHashes` signed with the log's key.
 * @param {Uint8Array[]} leafHashes
 */
async function forge(leafHashes) {
  const { origin, signer } = await logSigner();
  const body = formatCheckpointBody({ origin, size: leafHashes.length, root: rootOf(leafHashes) });
  return formatNote(body, [await signNoteBody(body, signer)]);
}

/**
 * A browser context logged in as `handle`, on the dashboard.
 * @param {string} handle
 */
async function openApp(handle) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "en-US", timezoneId: "UTC" });
  context.setDefaultTimeout(20_000);
  const page = await context.newPage();
  await page.goto(server.baseUrl);
  await page.getByTestId("login-handle").fill(handle);
  await page.getByTestId("login-password").fill(PASSWORD);
  await page.getByTestId("login-submit").click();
  return { context, page };
}

/**
 * Waits for the alarm and returns its kind.
 * @param {import("playwright-core").Page} page
 */
async function alarmOf(page) {
  const alarm = page.getByTestId("log-alarm");
  await alarm.waitFor({ state: "visible" });
  assert.equal(await alarm.getAttribute("role"), "alert");
  return (await alarm.getAttribute("data-kind")) ?? "";
}

test("the browser verifies its history against the witnessed log and raises the alarm at every lie", { timeout: 240_000 }, async () => {
  const t0 = Date.now();
  const handle = `logu_${Math.random().toString(36).slice(2, 8)}`;
  const reg = await call("/auth/register", { body: { handle, password: PASSWORD } });
  assert.equal(reg.status, 201, reg.text);
  const token = reg.json.token;
  const walletId = reg.json.wallet.id;
  for (const amount of [1_000, 250, 400]) {
    const dep = await call(`/wallets/${walletId}/deposits`, { token, key: crypto.randomUUID(), body: { amount } });
    assert.equal(dep.status, 201, dep.text);
  }
  // The log feeds from D1 (after the outbox) on its alarm, which the first Cron run arms: up to a minute.
  const covered = await until(
    "the third entry in a checkpoint",
    async () => {
      const proof = await call(`/log/proof?wallet_id=${walletId}&seq=3`, { token });
      return proof.status === 200 ? proof.json : undefined;
    },
    90_000,
  );
  const coveredAt = Date.now();
  // One more entry, a transfer to alice, so the log signs a second checkpoint (the first is the one a rollback
  // will serve again) and there is a receipt to verify offline once a checkpoint covers both its entries.
  const older = (await call("/log/checkpoint")).text;
  const sent = await call("/transfers", {
    token,
    key: crypto.randomUUID(),
    body: { from_wallet_id: walletId, to: { handle: "alice" }, amount: 50 },
  });
  assert.equal(sent.status, 201, sent.text);
  const receipt = await until(
    "the receipt's log proofs",
    async () => {
      const r = await call(`/transfers/${sent.json.transfer.id}/receipt`, { token });
      return r.json?.log !== undefined ? r : undefined;
    },
    30_000,
  );
  const honest = (await call("/log/checkpoint")).text;
  const honestSize = parseCheckpointBody(parseNote(honest).body).size;
  assert.ok(honestSize > parseCheckpointBody(parseNote(older).body).size && honestSize > covered.tree_size);

  // The receipt verifies offline with its log proofs (scripts/verify-receipt.mjs), and not after one character
  // of a proof changes.
  writeFileSync(join(dir, "receipt.json"), receipt.text);
  writeFileSync(join(dir, "key.json"), (await call("/receipts/public-key")).text);
  writeFileSync(join(dir, "log-key.json"), (await call("/log/key")).text);
  const verify = (/** @type {string} */ file) =>
    spawnSync(process.execPath, [verifyScript, file, "--key-file", join(dir, "key.json"), "--log-key-file", join(dir, "log-key.json")], {
      encoding: "utf8",
    });
  const valid = verify(join(dir, "receipt.json"));
  assert.equal(valid.status, 0, valid.stdout + valid.stderr);
  assert.match(valid.stdout, /log: verified: checkpoint of \d+ leaves signed by /);
  const proofHash = receipt.json.log.proofs.find((/** @type {any} */ p) => p.inclusion.length > 0)?.inclusion[0];
  assert.ok(proofHash !== undefined, "a proof with at least one hash");
  writeFileSync(
    join(dir, "tampered.json"),
    receipt.text.replace(proofHash, proofHash.slice(0, -1) + (proofHash.endsWith("0") ? "1" : "0")),
  );
  const tampered = verify(join(dir, "tampered.json"));
  assert.equal(tampered.status, 1, tampered.stdout);
  assert.match(tampered.stderr, /log: proof \d: the entry .* is not proven/);

  // 1. The witness cosigns; the checkpoint served as witnessed carries its cosignature, which verifies.
  const cosigned = await witness(["--url", server.baseUrl, "--once"]);
  assert.equal(cosigned.code, 0, cosigned.stdout + cosigned.stderr);
  const witnessed = await call("/log/checkpoint?witnessed=1");
  assert.equal(witnessed.status, 200);
  assert.equal((await checkNoteSignature(parseNote(witnessed.text), parseVerifierKey(witnessVkey))).code, "verified", witnessed.text);

  const user = await openApp(handle);
  await user.page.getByTestId("log-verified").waitFor({ state: "visible" });
  const verified = (await user.page.getByTestId("log-verified").textContent()) ?? "";
  assert.match(verified, /History verified up to/);
  const witnessName = parseVerifierKey(witnessVkey).name;
  await user.page.getByText(`cosigned by ${witnessName} (verified)`).waitFor({ state: "visible" });
  assert.match((await user.page.getByTestId("log-witnessed").textContent()) ?? "", /is cosigned by \S+ \(verified\) at /);
  assert.equal(await user.page.getByTestId("log-alarm").count(), 0);

  // 2. Lies served to browsers that have seen the honest log.
  const logFile = objectFile("TransparencyLog", "SELECT 1 FROM leaves LIMIT 1");
  const readLeaves = () => {
    const db = new DatabaseSync(logFile, { readOnly: true });
    try {
      return db.prepare("SELECT wallet_id, seq, entry_hash FROM leaves ORDER BY leaf_index").all();
    } finally {
      db.close();
    }
  };
  const leafData = readLeaves().map((l) => logLeaf(String(l.wallet_id), Number(l.seq), String(l.entry_hash)));
  const latest = parseCheckpointBody(parseNote((await call("/log/checkpoint")).text).body);
  assert.equal(hashToHex(rootOf(leafData.slice(0, latest.size).map(leafHash))), hashToHex(latest.root), "the leaves read are the log's");

  /** The lies, each as request handlers for the log routes. */
  const lies = {
    rollback: async () => ({ checkpoint: older }),
    // The witnessed checkpoint with the witness's cosignature replaced by one the operator made with a key of its
    // own, under the witness's name and key id: only the witness's published key tells them apart.
    bad_cosignature: async () => {
      const note = parseNote(witnessed.text);
      const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"]);
      const forged = await cosignBody(
        note.body,
        { privateKey: pair.privateKey, key: parseVerifierKey(witnessVkey) },
        Math.floor(Date.now() / 1000),
      );
      const lines = note.signatures.map((s) => (s.name === witnessName ? forged : s.line));
      return { witnessed: formatNote(note.body, lines) };
    },
    fork: async () => {
      const forked = leafData.slice(0, latest.size).map(leafHash);
      forked[0] = leafHash(logLeaf("w_nobody", 1, "0".repeat(64)));
      return { checkpoint: await forge(forked) };
    },
    // The user's first entry removed, two leaves of nobody's added: a longer tree, honestly proven over itself.
    inconsistent: async () => {
      const first = readLeaves().find((l) => l.wallet_id === walletId && l.seq === 1);
      const mine = JSON.stringify([walletId, 1, first?.entry_hash]);
      const shortened = leafData.slice(0, latest.size).filter((d) => decode(d) !== mine);
      assert.equal(shortened.length, latest.size - 1);
      shortened.push(logLeaf("w_nobody", 1, "1".repeat(64)), logLeaf("w_nobody", 2, "2".repeat(64)));
      return {
        checkpoint: await forge(shortened.map(leafHash)),
        consistency: async (from, to) => ({ from, to, proof: (await subproof(from, shortened.slice(0, to), true)).map(hexOf) }),
        proof: async (seq) => {
          const index = shortened.findIndex((d) => decode(d).startsWith(JSON.stringify([walletId, seq]).slice(0, -1) + ","));
          if (index < 0) return null;
          return {
            leaf_index: index,
            tree_size: shortened.length,
            leaf: decode(/** @type {Uint8Array} */ (shortened[index])),
            inclusion: (await inclusionPath(index, shortened)).map(hexOf),
          };
        },
      };
    },
  };
  for (const [kind, makeLie] of Object.entries(lies)) {
    const lie = /** @type {{ checkpoint?: string, witnessed?: string, consistency?: Function, proof?: Function }} */ (await makeLie());
    const { context, page } = await openApp(handle);
    await page.getByTestId("log-verified").waitFor({ state: "visible" });
    await context.route("**/api/v1/log/**", async (route) => {
      const url = new URL(route.request().url());
      const q = url.searchParams;
      if (url.pathname.endsWith("/log/checkpoint")) {
        const body = q.get("witnessed") === "1" ? lie.witnessed : lie.checkpoint;
        if (body !== undefined) return route.fulfill({ body });
      }
      if (url.pathname.endsWith("/log/consistency") && lie.consistency)
        return route.fulfill({ json: await lie.consistency(Number(q.get("from")), Number(q.get("to"))) });
      if (url.pathname.endsWith("/log/proof") && lie.proof) {
        const proof = await lie.proof(Number(q.get("seq")));
        return proof === null ? route.fulfill({ status: 404, json: { error: { code: "not_found" } } }) : route.fulfill({ json: proof });
      }
      return route.continue();
    });
    await page.reload();
    assert.equal(await alarmOf(page), kind, `the ${kind} lie`);
    await context.close();
  }
  const liesAt = Date.now();

  // 3. The operator rewrites entry 1 (1,000 becomes 9,000) everywhere, consistently, with the server stopped.
  await server.stop();
  const delta = 8_000;
  const rewrite = (db, table, where) => {
    db.exec(`DROP TRIGGER IF EXISTS ${table}_no_update; DROP TRIGGER IF EXISTS ${table}_no_delete;`);
    const rows = db.prepare(`SELECT * FROM ${table} WHERE ${where} ORDER BY seq`).all(walletId);
    let prev = "0".repeat(64);
    /** @type {Map<number, string>} */
    const hashes = new Map();
    for (const row of rows) {
      const e = {
        ...row,
        amount: Number(row.seq) === 1 ? Number(row.amount) + delta : Number(row.amount),
        balance_after: Number(row.balance_after) + delta,
        prev_hash: prev,
      };
      const hash = entryHash(walletId, e);
      db.prepare(`UPDATE ${table} SET amount = ?, balance_after = ?, prev_hash = ?, hash = ? WHERE ${where} AND seq = ?`).run(
        e.amount,
        e.balance_after,
        prev,
        hash,
        walletId,
        row.seq,
      );
      hashes.set(Number(row.seq), hash);
      prev = hash;
    }
    return hashes;
  };
  const d1 = new DatabaseSync(d1File(walletId));
  const newHashes = rewrite(d1, "ledger_entries", "wallet_id = ?");
  d1.close();
  const walletFile = objectFile("WalletObject", "SELECT 1 FROM wallet WHERE id = ?", walletId);
  const wdb = new DatabaseSync(walletFile);
  // The wallet object's entries carry no wallet id: a WHERE that is always true keeps one rewrite for both.
  rewrite(wdb, "entries", "? IS NOT NULL");
  const head = [...newHashes.entries()].at(-1);
  wdb.prepare("UPDATE wallet SET balance = balance + ?, head_hash = ?").run(delta, head?.[1] ?? "");
  // The self-audit's mark, if it has passed any entry, moves with the rewrite too.
  const verifiedSeq = Number(wdb.prepare("SELECT verified_seq FROM wallet").get()?.verified_seq ?? 0);
  if (verifiedSeq > 0) wdb.prepare("UPDATE wallet SET verified_hash = ?").run(newHashes.get(verifiedSeq) ?? "");
  wdb.close();
  const ldb = new DatabaseSync(logFile);
  for (const table of ["leaves", "nodes", "checkpoints", "cosignatures"])
    ldb.exec(`DROP TRIGGER IF EXISTS ${table}_no_update; DROP TRIGGER IF EXISTS ${table}_no_delete;`);
  for (const [seq, hash] of newHashes)
    ldb.prepare("UPDATE leaves SET entry_hash = ? WHERE wallet_id = ? AND seq = ?").run(hash, walletId, seq);
  const rewritten = ldb
    .prepare("SELECT wallet_id, seq, entry_hash FROM leaves ORDER BY leaf_index")
    .all()
    .map((l) => leafHash(logLeaf(String(l.wallet_id), Number(l.seq), String(l.entry_hash))));
  ldb.exec("DELETE FROM nodes; DELETE FROM cosignatures; DELETE FROM checkpoints;");
  for (let level = 0, row = rewritten; row.length > 0; level++) {
    row.forEach((hash, idx) => ldb.prepare("INSERT INTO nodes (level, idx, hash) VALUES (?, ?, ?)").run(level, idx, hash));
    row = Array.from({ length: Math.floor(row.length / 2) }, (_, i) =>
      nodeHash(/** @type {Uint8Array} */ (row[2 * i]), /** @type {Uint8Array} */ (row[2 * i + 1])),
    );
  }
  const note = await forge(rewritten);
  ldb
    .prepare("INSERT INTO checkpoints (tree_size, root, note, signed_at) VALUES (?, ?, ?, ?)")
    .run(rewritten.length, rootOf(rewritten), note, new Date().toISOString());
  ldb.close();
  await server.start();

  // The user's open page reconnects, loads the rewritten history and checks it against what it had accepted.
  const kind = await alarmOf(user.page);
  assert.ok(["fork", "inconsistent", "not_included", "chain_broken"].includes(kind), kind);
  const caught = await witness(["--url", server.baseUrl, "--once"]);
  assert.equal(caught.code, 1, caught.stdout + caught.stderr);
  assert.match(caught.stderr, /LOG MISBEHAVIOUR \((fork|consistency|rollback)\)/);
  // A reload does not silence the browser's alarm either.
  await user.page.reload();
  assert.equal(await alarmOf(user.page), kind);
  await user.context.close();
  console.log(
    `[log e2e] covered after ${((coveredAt - t0) / 1000).toFixed(1)} s; lies caught by ${((liesAt - t0) / 1000).toFixed(1)} s; rewrite caught by ${((Date.now() - t0) / 1000).toFixed(1)} s (browser: ${kind}; witness: ${/LOG MISBEHAVIOUR \((\w+)\)/.exec(caught.stderr)?.[1]})`,
  );
});
