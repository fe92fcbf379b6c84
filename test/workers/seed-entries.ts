/**
 * Appends chained, balanced entries with chosen times, kinds and counterparties straight into a wallet
 * object's SQLite, the way bench/seed-history.mjs does for the benchmark, so that tests of time ranges and
 * statements control `created_at`. It also moves the wallet row (and the live instance's copy of it) to the
 * new chain head, so the wallet stays consistent: balance = last balance_after, head = last hash.
 */
import { runInDurableObject } from "cloudflare:test";
import { entryHash } from "../../src/domain/hash-chain";
import type { EntryKind } from "../../src/domain/views";
import type { WalletRow } from "../../src/wallet/schema";
import { walletStub } from "./helpers";

export interface SeedEntry {
  kind: EntryKind;
  /** Signed, as stored: negative for withdrawals and transfers out. */
  amount: number;
  created_at: string;
  counterparty?: string | null;
  memo?: string | null;
}

/** Appends `entries` in order; returns the seq of the last one. */
export async function seedEntries(walletId: string, entries: SeedEntry[]): Promise<number> {
  return runInDurableObject(walletStub(walletId), (instance, ctx) => {
    const sql = ctx.storage.sql;
    const w = sql.exec<Record<string, SqlStorageValue>>("SELECT * FROM wallet").one() as unknown as WalletRow;
    let { balance, last_seq: seq, head_hash: prev } = w;
    ctx.storage.transactionSync(() => {
      for (const [i, e] of entries.entries()) {
        seq++;
        balance += e.amount;
        const unhashed = {
          id: `ent_${walletId.slice(4)}_${seq}`,
          seq,
          kind: e.kind,
          amount: e.amount,
          balance_after: balance,
          transfer_id: `seed_${walletId.slice(4)}_${seq}_${i}`,
          counterparty: e.counterparty ?? null,
          memo: e.memo ?? null,
          created_at: e.created_at,
          prev_hash: prev,
        };
        const hash = entryHash(walletId, unhashed);
        sql.exec(
          "INSERT INTO entries (seq, id, kind, amount, balance_after, transfer_id, counterparty, memo, created_at, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
          ...[
            seq,
            unhashed.id,
            e.kind,
            e.amount,
            balance,
            unhashed.transfer_id,
            unhashed.counterparty,
            unhashed.memo,
            e.created_at,
            prev,
            hash,
          ],
        );
        prev = hash;
      }
      sql.exec("UPDATE wallet SET balance = ?, last_seq = ?, head_hash = ?, version = version + ?", balance, seq, prev, entries.length);
    });
    const next = sql.exec<Record<string, SqlStorageValue>>("SELECT * FROM wallet").one() as unknown as WalletRow;
    (instance as unknown as { wallet: WalletRow }).wallet = next;
    return seq;
  });
}
