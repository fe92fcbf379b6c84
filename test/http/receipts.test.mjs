// `npm run verify-receipt` offline, on a receipt and key fetched from `npm start`: valid as fetched, invalid
// after one byte of the receipt changes, and invalid under another key.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { client, testServer } from "./server.mjs";

let server;
let call;
/** The status of a demo login sent the moment health first answered. */
let firstLogin;
before(async () => {
  // This file's server seeds the demo users before it opens its port, as `npm start` does on a fresh state.
  server = await testServer({ env: { PASSWORD_ARGON2_MEMORY_KIB: "1024", PASSWORD_ARGON2_PASSES: "1", SEED_BEFORE_OPEN: "1" } });
  call = client(server.baseUrl);
  let settled = false;
  const started = server.start().finally(() => (settled = true));
  firstLogin = await loginAtFirstHealth(() => settled);
  await started;
});

/** Polls health until it first answers (or the start ends), then logs in as a demo user at once: its status. */
async function loginAtFirstHealth(startEnded) {
  while (!startEnded()) {
    const health = await fetch(`${server.baseUrl}/api/v1/health`).catch(() => null);
    if (health?.ok) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return (await call("/auth/login", { body: { handle: "alice", password: "demo-password" } })).status;
}

test("a demo login sent as soon as health answers works: the seed is done before the port opens", () => {
  assert.equal(firstLogin, 200);
});
after(async () => {
  await server?.dispose();
});

const script = new URL("../../scripts/verify-receipt.mjs", import.meta.url).pathname;
const verifyFile = (...args) => spawnSync(process.execPath, [script, ...args], { encoding: "utf8" });

test("a receipt verifies offline, and fails after one byte changes", async () => {
  const login = await call("/auth/login", { body: { handle: "alice", password: "demo-password" } });
  assert.equal(login.status, 200);
  const me = await call("/me", { token: login.json.token });
  const sent = await call("/transfers", {
    token: login.json.token,
    key: crypto.randomUUID(),
    body: { from_wallet_id: me.json.wallets[0].id, to: { handle: "bob" }, amount: 1_250 },
  });
  assert.equal(sent.status, 201, sent.text);
  const receipt = await call(`/transfers/${sent.json.transfer.id}/receipt`, { token: login.json.token });
  assert.equal(receipt.status, 200, receipt.text);
  const key = await call("/receipts/public-key");
  const dir = mkdtempSync(join(tmpdir(), "receipt-"));
  writeFileSync(join(dir, "receipt.json"), receipt.text);
  writeFileSync(join(dir, "key.json"), key.text);

  const ok = verifyFile(join(dir, "receipt.json"), "--key-file", join(dir, "key.json"));
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /VALID/);

  const text = readFileSync(join(dir, "receipt.json"), "utf8");
  const at = text.indexOf("1250");
  writeFileSync(join(dir, "tampered.json"), text.slice(0, at) + "1350" + text.slice(at + 4));
  const bad = verifyFile(join(dir, "tampered.json"), "--key-file", join(dir, "key.json"));
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /INVALID/);

  const other = generateKeyPairSync("ed25519").publicKey.export({ format: "jwk" }).x;
  const wrongKey = verifyFile(join(dir, "receipt.json"), "--public-key", other);
  assert.equal(wrongKey.status, 1);
});
