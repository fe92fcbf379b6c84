/**
 * The outbox: what the coordinator owes D1. A movement's audit row and the entries it produced are written to
 * the outbox in the same transaction as the movement's outcome, so they can never be lost; a flush then copies
 * them to D1 in one batch (one D1 transaction) and deletes them from the outbox. A flush that fails, or that
 * succeeds but crashes before the delete, is simply repeated: every insert is `ON CONFLICT DO NOTHING` on the
 * row's natural key, so D1 ends with exactly one copy.
 */
import type { BatchItem } from "drizzle-orm/batch";
import type { DrizzleD1Database } from "drizzle-orm/d1";
import { auditLog, ledgerEntries } from "../db/schema";
import type { AuditRowView, EntryView } from "../domain/views";

/** One thing owed to D1. */
export type OutboxItem =
  | { type: "audit"; row: AuditRowView & { user_id: string } }
  | { type: "entry"; wallet_id: string; entry: EntryView };

/** The D1 insert that delivers `item` exactly once. */
export function outboxInsert(db: DrizzleD1Database, item: OutboxItem): BatchItem<"sqlite"> {
  if (item.type === "audit") {
    return db.insert(auditLog).values(item.row).onConflictDoNothing({ target: auditLog.transfer_id });
  }
  return db
    .insert(ledgerEntries)
    .values({ wallet_id: item.wallet_id, ...item.entry })
    .onConflictDoNothing({ target: [ledgerEntries.wallet_id, ledgerEntries.seq] });
}

/** Delivers `items` to D1 in one batch (one transaction). */
export async function deliver(db: DrizzleD1Database, items: OutboxItem[]): Promise<void> {
  const [first, ...rest] = items.map((item) => outboxInsert(db, item));
  if (first === undefined) return;
  await db.batch([first, ...rest]);
}
