// Seeds a long history into one wallet for the history-read benchmark, the quickest way: with the server
// stopped, it appends chained deposit entries straight into the wallet object's SQLite file in the local state
// directory (found by the wallet id in its `wallet` row), and updates the wallet row to match, so the chain and
// the balance stay valid. Benchmark-only: it bypasses the coordinator, so these entries have no audit rows.
import { createHash } from "node:crypto";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";

function walletFile(stateDir, walletId) {
  const dir = join(stateDir, "v3", "do", "edge-wallet-WalletObject");
  for (const name of readdirSync(dir).filter((f) => f.endsWith(".sqlite") && f !== "metadata.sqlite")) {
    const db = new DatabaseSync(join(dir, name));
    try {
      const row = db.prepare("SELECT id FROM wallet WHERE id = ?").get(walletId);
      if (row) return join(dir, name);
    } catch {
      // Not a wallet with a schema yet.
    } finally {
      db.close();
    }
  }
  throw new Error(`no storage file for ${walletId}`);
}

/** Appends `count` deposits of 1 minor unit to `walletId`'s chain. */
export function seedHistory(stateDir, walletId, count) {
  const db = new DatabaseSync(walletFile(stateDir, walletId));
  const w = /** @type {{ balance: number, last_seq: number, head_hash: string }} */ (db.prepare("SELECT * FROM wallet").get());
  const insert = db.prepare(
    "INSERT INTO entries (seq, id, kind, amount, balance_after, transfer_id, counterparty, memo, created_at, prev_hash, hash) VALUES (?, ?, 'deposit', 1, ?, ?, NULL, NULL, ?, ?, ?)",
  );
  let { balance, last_seq: seq, head_hash: prev } = w;
  const created_at = new Date().toISOString();
  db.exec("BEGIN");
  for (let i = 0; i < count; i++) {
    seq++;
    balance++;
    const id = `ent_${walletId.slice(4)}_${seq}`;
    const transfer_id = `dep_benchseed_${walletId.slice(4)}_${seq}`;
    const hash = createHash("sha256")
      .update(JSON.stringify(["v1", walletId, seq, id, "deposit", 1, balance, transfer_id, null, null, created_at, prev]))
      .digest("hex");
    insert.run(seq, id, balance, transfer_id, created_at, prev, hash);
    prev = hash;
  }
  db.prepare("UPDATE wallet SET balance = ?, last_seq = ?, head_hash = ?, version = version + ?").run(balance, seq, prev, count);
  db.exec("COMMIT");
  db.close();
}
