/**
 * Schema migration for Durable Object SQLite. Each object runs this from its constructor under
 * `blockConcurrencyWhile`, so no request sees a half-migrated schema. Steps are append-only: step N is applied
 * exactly once, in a transaction with the version bump, so an eviction mid-migration leaves the old version.
 */

/** True when this object's storage has been migrated at least once (it has been initialised). */
export function hasSchema(sql: SqlStorage): boolean {
  return sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_schema'").toArray().length > 0;
}

/** Applies the steps after the stored version, each with its version bump, atomically. */
export function migrate(storage: DurableObjectStorage, steps: readonly string[]): void {
  storage.transactionSync(() => {
    const sql = storage.sql;
    sql.exec("CREATE TABLE IF NOT EXISTS _schema (version INTEGER NOT NULL) STRICT");
    const rows = sql.exec<{ version: number }>("SELECT version FROM _schema").toArray();
    const current = rows[0]?.version ?? 0;
    if (rows.length === 0) sql.exec("INSERT INTO _schema (version) VALUES (0)");
    if (current > steps.length) throw new Error(`schema version ${current} is newer than this code (${steps.length})`);
    // Up to date: write nothing, so waking an object costs no commit.
    if (current === steps.length) return;
    for (let version = current; version < steps.length; version++) {
      const step = steps[version];
      if (step === undefined) throw new Error(`missing migration step ${version}`);
      sql.exec(step);
    }
    sql.exec("UPDATE _schema SET version = ?", steps.length);
  });
}

/** SQL that makes `table` append-only: every UPDATE and every DELETE aborts, whatever issued it. */
export function appendOnlyTriggers(table: string): string {
  return `
    CREATE TRIGGER ${table}_no_update BEFORE UPDATE ON ${table}
      BEGIN SELECT RAISE(ABORT, '${table} is append-only'); END;
    CREATE TRIGGER ${table}_no_delete BEFORE DELETE ON ${table}
      BEGIN SELECT RAISE(ABORT, '${table} is append-only'); END;`;
}
