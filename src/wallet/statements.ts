/**
 * The wallet object's prepared statements: every Drizzle query it runs more than once, built with placeholders
 * on its first use and kept (db/prepared.ts explains why building is the cost worth saving). They live apart
 * from wallet-object.ts so that the object reads as what it does with a wallet, and this file as how each row
 * is found and written; the history filters, which name their index, are plain SQL in history-queries.ts.
 */
import { desc, eq, lt, sql } from "drizzle-orm";
import type { DrizzleSqliteDODatabase } from "drizzle-orm/durable-sqlite";
import { lazily, placeholdersFor, setPlaceholdersFor } from "../db/prepared";
import { entriesTable, holdsTable, walletTable } from "./schema";

/** The wallet object's statements, each built on first use (see `prepareWalletStatements`). */
export type WalletStatements = ReturnType<typeof prepareWalletStatements>;

/** Every query the wallet object runs more than once, each built on its first use and kept (see db/prepared.ts). */
export function prepareWalletStatements(db: DrizzleSqliteDODatabase) {
  const p = sql.placeholder;
  return lazily({
    hold: () =>
      db
        .select()
        .from(holdsTable)
        .where(eq(holdsTable.transfer_id, p("transfer_id")))
        .prepare(),
    entryFor: () =>
      db
        .select()
        .from(entriesTable)
        .where(eq(entriesTable.transfer_id, p("transfer_id")))
        .prepare(),
    entryAt: () =>
      db
        .select()
        .from(entriesTable)
        .where(eq(entriesTable.seq, p("seq")))
        .prepare(),
    updateWallet: () =>
      db
        .update(walletTable)
        .set(setPlaceholdersFor(walletTable))
        .where(eq(walletTable.id, p("id")))
        .prepare(),
    upsertHold: () =>
      db
        .insert(holdsTable)
        .values(placeholdersFor(holdsTable))
        .onConflictDoUpdate({ target: holdsTable.transfer_id, set: setPlaceholdersFor(holdsTable) })
        .prepare(),
    insertEntry: () => db.insert(entriesTable).values(placeholdersFor(entriesTable)).prepare(),
    historyPage: () =>
      db
        .select()
        .from(entriesTable)
        .where(lt(entriesTable.seq, p("before")))
        .orderBy(desc(entriesTable.seq))
        .limit(p("limit"))
        .prepare(),
    entriesAfter: () =>
      db
        .select()
        .from(entriesTable)
        .where(sql`${entriesTable.seq} > ${p("after")} AND ${entriesTable.seq} <= ${p("upto")}`)
        .orderBy(entriesTable.seq)
        .limit(p("limit"))
        .prepare(),
    openHolds: () =>
      db
        .select({ transfer_id: holdsTable.transfer_id, amount: holdsTable.amount, created_at_ms: holdsTable.created_at_ms })
        .from(holdsTable)
        .where(eq(holdsTable.state, "held"))
        .orderBy(holdsTable.created_at_ms)
        .prepare(),
  });
}
