// `npm run audit:verify` against `npm start`, and tampering with the local D1 file behind the service's back
// (server stopped, trigger dropped, row edited or deleted, server restarted): each is named by wallet and seq.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, before, test } from "node:test";
import { client, testServer } from "./server.mjs";

let server;
let call;
before(async () => {
  server = await testServer({
    env: {
      PASSWORD_ARGON2_MEMORY_KIB: "1024",
      PASSWORD_ARGON2_PASSES: "1",
      OUTBOX_GRACE_MS: "1000",
      OUTBOX_RETRY_MAX_MS: "500",
      OUTBOX_FLUSH_DELAY_MS: "200",
    },
  });
  await server.start();
  call = client(server.baseUrl);
});
after(async () => {
  await server?.dispose();
});

const cli = new URL("../../scripts/audit-verify.mjs", import.meta.url).pathname;
const auditVerify = () => spawnSync(process.execPath, [cli, "--url", server.baseUrl], { encoding: "utf8" });

/** The local D1 files: the main database and every other audit partition (at least two). */
function d1Files() {
  const dir = join(server.stateDir, "v3", "d1", "miniflare-D1DatabaseObject");
  const names = readdirSync(dir).filter((f) => f.endsWith(".sqlite") && f !== "metadata.sqlite");
  assert.ok(names.length >= 2, `the audit store is split over at least two D1 databases in ${dir}`);
  return names.map((name) => join(dir, name));
}

/**
 * Edits the local D1 files with the server stopped, as someone with disk access could: every partition, since
 * the wallet's entries are in one of them.
 */
async function tamper(sql, ...params) {
  await server.stop();
  let changed = 0;
  for (const file of d1Files()) {
    const db = new DatabaseSync(file);
    db.exec("DROP TRIGGER IF EXISTS ledger_entries_no_update; DROP TRIGGER IF EXISTS ledger_entries_no_delete;");
    changed += Number(db.prepare(sql).run(...params).changes);
    db.close();
  }
  assert.equal(changed, 1, `${sql} changed one row`);
  await server.start();
}

test("the CLI verifies a clean ledger, then names each tampered wallet and seq", async () => {
  const login = await call("/auth/login", { body: { handle: "alice", password: "demo-password" } });
  const me = await call("/me", { token: login.json.token });
  const alice = me.json.wallets[0].id;
  for (const amount of [100, 200, 300]) {
    const res = await call("/transfers", {
      token: login.json.token,
      key: crypto.randomUUID(),
      body: { from_wallet_id: alice, to: { handle: "bob" }, amount },
    });
    assert.equal(res.status, 201, res.text);
  }
  // The outbox delivers within OUTBOX_FLUSH_DELAY_MS; verify until nothing is still on its way to D1.
  let clean = auditVerify();
  for (let i = 0; i < 100 && /on their way/.test(clean.stdout); i++) {
    await new Promise((r) => setTimeout(r, 200));
    clean = auditVerify();
  }
  assert.equal(clean.status, 0, clean.stdout + clean.stderr);
  assert.match(clean.stdout, /OK:/);

  await tamper("UPDATE ledger_entries SET amount = amount - 1 WHERE wallet_id = ? AND seq = 3", alice);
  const edited = auditVerify();
  assert.equal(edited.status, 1, edited.stdout + edited.stderr);
  assert.match(edited.stdout, new RegExp(`hash_mismatch[\\s\\S]*wallet ${alice}, seq 3`));

  await tamper("UPDATE ledger_entries SET amount = amount + 1 WHERE wallet_id = ? AND seq = 3", alice);
  assert.equal(auditVerify().status, 0);

  await tamper("DELETE FROM ledger_entries WHERE wallet_id = ? AND seq = 2", alice);
  const deleted = auditVerify();
  assert.equal(deleted.status, 1);
  assert.match(deleted.stdout, new RegExp(`missing_in_d1[\\s\\S]*wallet ${alice}, seq 2`));
});
