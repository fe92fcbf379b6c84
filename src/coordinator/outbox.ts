/**
 * The outbox: what the coordinator owes D1. A finished movement's row is marked `outbox_pending` in the same
 * transaction that records its outcome, so its audit row and entry mirrors can never be lost; a flush copies
 * a batch of them to D1 in one `batch()` (one D1 transaction) and then clears the mark. A flush that fails, or
 * that succeeds but crashes before clearing the mark, is simply repeated: every insert is
 * `ON CONFLICT DO NOTHING` on the row's natural key, so D1 ends with exactly one copy.
 */
import type { BatchItem } from "drizzle-orm/batch";
import type { DrizzleD1Database } from "drizzle-orm/d1";
import { auditLog, ledgerEntries } from "../db/schema";
import type { EntryView } from "../domain/views";
import type { MovementRow } from "./schema";

/** An entry a movement produced, with the wallet it belongs to. */
export interface ProducedEntry {
  wallet_id: string;
  entry: EntryView;
}

/** The D1 inserts that deliver one finished movement: its audit row, then its entries. */
export function movementInserts(db: DrizzleD1Database, m: MovementRow): BatchItem<"sqlite">[] {
  if (m.state === "started") throw new Error(`invariant: movement ${m.id} is not finished`);
  const audit = db
    .insert(auditLog)
    .values({
      id: `aud_${m.id.slice(4)}`,
      transfer_id: m.id,
      kind: m.kind,
      status: m.state,
      user_id: m.user_id,
      from_wallet_id: m.from_wallet_id,
      to_wallet_id: m.to_wallet_id,
      amount: m.amount,
      currency: m.currency,
      failure_code: m.failure_code,
      created_at: m.created_at,
    })
    .onConflictDoNothing({ target: auditLog.transfer_id });
  const entries = (JSON.parse(m.entries ?? "[]") as ProducedEntry[]).map((e) =>
    db
      .insert(ledgerEntries)
      .values({ wallet_id: e.wallet_id, ...e.entry })
      .onConflictDoNothing({ target: [ledgerEntries.wallet_id, ledgerEntries.seq] }),
  );
  return [audit, ...entries];
}

/** Delivers `movements` to D1 in one batch (one transaction). */
export async function deliver(db: DrizzleD1Database, movements: MovementRow[]): Promise<void> {
  const [first, ...rest] = movements.flatMap((m) => movementInserts(db, m));
  if (first === undefined) return;
  await db.batch([first, ...rest]);
}
