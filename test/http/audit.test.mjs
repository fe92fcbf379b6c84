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

function d1File() {
  const dir = join(server.stateDir, "v3", "d1", "miniflare-D1DatabaseObject");
  const name = readdirSync(dir).find((f) => f.endsWith(".sqlite") && f !== "metadata.sqlite");
  if (name === undefined) throw new Error(`no D1 database file in ${dir}`);
  return join(dir, name);
}

/** Edits the local D1 file with the server stopped, as someone with disk access could. */
async function tamper(sql, ...params) {
  await server.stop();
  const db = new DatabaseSync(d1File());
  db.exec("DROP TRIGGER IF EXISTS ledger_entries_no_update; DROP TRIGGER IF EXISTS ledger_entries_no_delete;");
  db.prepare(sql).run(...params);
  db.close();
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
