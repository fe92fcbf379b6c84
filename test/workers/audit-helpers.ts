/**
 * The auditor's side of the tests: walking every page of `GET /audit/verify`, and tampering with D1 as an
 * attacker with database access would (the append-only triggers dropped, the change made, the triggers back).
 */
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { api, type ApiResponse, type TestUser } from "./helpers";
import { partitionDbs } from "../../src/db/partitions";

export interface Report {
  ok: boolean;
  wallets_checked: number;
  entries_checked: number;
  pending: number;
  problems: { wallet_id: string | null; seq: number | null; kind: string; detail: string; transfer_id?: string }[];
  next_cursor: string | null;
  progress: { wallets_done: number; wallets_total: number };
}

/** Runs every page of the verifier as `auditor` and gathers the problems. */
export async function verifyAll(
  auditor: TestUser,
  limit = 50,
): Promise<{ ok: boolean; problems: Report["problems"]; entries: number; pages: number; pending: number }> {
  const problems: Report["problems"] = [];
  let cursor: string | null = null;
  let entries = 0;
  let pages = 0;
  let pending = 0;
  do {
    const res: ApiResponse<Report> = await api<Report>(`/audit/verify?limit=${limit}${cursor === null ? "" : `&cursor=${cursor}`}`, {
      token: auditor.token,
    });
    expect(res.status, res.text).toBe(200);
    problems.push(...res.json.problems);
    entries += res.json.entries_checked;
    pending += res.json.pending;
    expect(res.json.progress.wallets_done).toBeLessThanOrEqual(res.json.progress.wallets_total);
    cursor = res.json.next_cursor;
    pages++;
  } while (cursor !== null);
  return { ok: problems.length === 0, problems, entries, pages, pending };
}

/**
 * Runs `sql` on D1 with the append-only triggers lifted for it, in every audit partition: a wallet's entries are
 * in one of them, and a movement's audit row in its home and, copied, beside each of its entries.
 */
export const tamper = async (sql: string, ...binds: unknown[]): Promise<void> => {
  for (const db of partitionDbs(env))
    await db.batch([
      db.prepare("DROP TRIGGER ledger_entries_no_update"),
      db.prepare("DROP TRIGGER ledger_entries_no_delete"),
      db.prepare("DROP TRIGGER audit_log_no_update"),
      db.prepare(sql).bind(...binds),
      db.prepare(
        "CREATE TRIGGER ledger_entries_no_update BEFORE UPDATE ON ledger_entries BEGIN SELECT RAISE(ABORT, 'ledger_entries is append-only'); END",
      ),
      db.prepare(
        "CREATE TRIGGER ledger_entries_no_delete BEFORE DELETE ON ledger_entries BEGIN SELECT RAISE(ABORT, 'ledger_entries is append-only'); END",
      ),
      db.prepare(
        "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
      ),
    ]);
};
