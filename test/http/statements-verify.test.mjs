// Statements over real HTTP from `npm start`: the JSON statement verifies offline with
// `npm run verify-receipt` (signature, arithmetic and hash chain) and fails after any change, even one that
// keeps the sums consistent; the CSV and the PDF are served too (the PDF's fonts come from the static assets,
// as in production).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { generateKeyPairSync, sign } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { client, testServer } from "./server.mjs";
import { canonicalJson } from "../../src/domain/canonical.ts";
import { PDFDict, PDFDocument, PDFName } from "pdf-lib";

let server;
let call;
before(async () => {
  server = await testServer({ env: { PASSWORD_ARGON2_MEMORY_KIB: "1024", PASSWORD_ARGON2_PASSES: "1" } });
  await server.start();
  call = client(server.baseUrl);
});
after(async () => {
  await server?.dispose();
});

const script = new URL("../../scripts/verify-receipt.mjs", import.meta.url).pathname;
const verifyFile = (...args) => spawnSync(process.execPath, [script, ...args], { encoding: "utf8" });

test("a downloaded statement verifies offline; any change to it does not", async () => {
  const login = await call("/auth/login", { body: { handle: "alice", password: "demo-password" } });
  assert.equal(login.status, 200);
  const token = login.json.token;
  const me = await call("/me", { token });
  const wallet = me.json.wallets[0].id;
  for (const amount of [5_000, 700]) {
    const dep = await call(`/wallets/${wallet}/deposits`, { token, key: crypto.randomUUID(), body: { amount } });
    assert.equal(dep.status, 201, dep.text);
  }
  const sent = await call("/transfers", {
    token,
    key: crypto.randomUUID(),
    body: { from_wallet_id: wallet, to: { handle: "bob" }, amount: 1_250, memo: "=cmd| 家賃 شكرا" },
  });
  assert.equal(sent.status, 201, sent.text);
  const today = new Date().toISOString().slice(0, 10);
  const res = await call(`/wallets/${wallet}/statement?from=${today}&to=${today}`, { token });
  assert.equal(res.status, 200, res.text);
  assert.ok(res.json.statement.entries.length >= 3);
  const key = await call("/receipts/public-key");
  const dir = mkdtempSync(join(tmpdir(), "statement-"));
  writeFileSync(join(dir, "key.json"), key.text);
  writeFileSync(join(dir, "statement.json"), res.text);

  const ok = verifyFile(join(dir, "statement.json"), "--key-file", join(dir, "key.json"));
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /VALID: statement of/);

  const tampered = (change) => {
    const copy = structuredClone(res.json);
    change(copy.statement);
    writeFileSync(join(dir, "tampered.json"), JSON.stringify(copy));
    return verifyFile(join(dir, "tampered.json"), "--key-file", join(dir, "key.json"));
  };
  const last = (s) => s.entries[s.entries.length - 1];
  const cases = {
    "an amount": (s) => (last(s).amount -= 1),
    "a total": (s) => (s.total_in += 1),
    "a memo": (s) => (last(s).memo = "changed"),
    "the chain head": (s) => (s.chain_head.seq += 1),
  };
  for (const [what, change] of Object.entries(cases)) {
    const bad = tampered(change);
    assert.equal(bad.status, 1, `${what}: ${bad.stdout}`);
    assert.match(bad.stderr, /INVALID statement/, what);
  }
  // The figures and the chain are checked on their own too, not only through the signature.
  const unsigned = tampered((s) => (last(s).memo = "changed"));
  assert.match(unsigned.stderr, /hash does not match/);

  // A period that starts mid-chain: its first entry links to one outside it, which is not checked, while
  // every later link is. Re-signed here with a key of the test's own, as the service would sign it.
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const ownKey = publicKey.export({ format: "jwk" }).x;
  /** @param {(s: any) => unknown} [change] */
  const midChain = (change = () => undefined) => {
    const s = structuredClone(res.json.statement);
    const [first, ...rest] = s.entries;
    s.entries = rest;
    s.opening_balance = first.balance_after;
    s.total_in = rest.filter((e) => e.amount > 0).reduce((sum, e) => sum + e.amount, 0);
    s.total_out = -rest.filter((e) => e.amount < 0).reduce((sum, e) => sum + e.amount, 0);
    change(s);
    const value = sign(null, Buffer.from(canonicalJson(s)), privateKey).toString("base64url");
    writeFileSync(join(dir, "mid.json"), JSON.stringify({ statement: s, signature: { alg: "Ed25519", key_id: "test", value } }));
    return verifyFile(join(dir, "mid.json"), "--public-key", ownKey);
  };
  const mid = midChain();
  assert.equal(mid.status, 0, mid.stderr);
  // Signed, but a link in the middle broken (an entry's prev_hash, and so its own hash, no longer follow).
  const broken = midChain((s) => (s.entries[1].prev_hash = "f".repeat(64)));
  assert.equal(broken.status, 1);
  assert.match(broken.stderr, /prev_hash does not link/);

  const csv = await fetch(`${server.baseUrl}/api/v1/wallets/${wallet}/statement?from=${today}&to=${today}&format=csv`, {
    headers: { authorization: `Bearer ${token}` },
  });
  assert.equal(csv.status, 200);
  const csvText = await csv.text();
  assert.match(csvText, /^seq,created_at,kind,amount,currency,balance_after,counterparty,memo,transfer_id,hash\r\n/);
  assert.match(csvText, /,-12\.50,USD,/);
  assert.match(csvText, /,'=cmd\| 家賃 شكرا,/);
  const pdf = await fetch(`${server.baseUrl}/api/v1/wallets/${wallet}/statement?from=${today}&to=${today}&format=pdf`, {
    headers: { authorization: `Bearer ${token}` },
  });
  assert.equal(pdf.status, 200, await pdf.clone().text());
  const bytes = Buffer.from(await pdf.arrayBuffer());
  assert.equal(bytes.subarray(0, 5).toString(), "%PDF-");
  const doc = await PDFDocument.load(bytes);
  assert.equal(doc.getPageCount(), 1);
  // The memo's Japanese and Arabic need two Noto fonts beside Helvetica, fetched from the static assets.
  const fonts = doc.context
    .enumerateIndirectObjects()
    .filter(([, o]) => o instanceof PDFDict && o.get(PDFName.of("Type"))?.toString() === "/Font");
  assert.ok(fonts.length >= 3, `${fonts.length} font objects`);
});
