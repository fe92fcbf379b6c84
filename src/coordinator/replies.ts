/**
 * Answers to keyed POSTs that move no money (a new wallet, a payment request, a decline...). The contract lets
 * such a POST carry an Idempotency-Key and promises that a repeat replays the first answer. The key is scoped to
 * the user, so its record lives in the user's coordinator, like the keys of money movements: `begin` records the
 * key as running (or answers what a repeat must get), the edge runs the request and `end` stores the rendered
 * answer. A running record left by a Worker that died between the two is taken over after
 * `REPLY_RUNNING_STALE_MS`; every operation behind these routes is safe to run again (it changes state at most
 * once, and a second run answers with that state).
 */
import { eq, lt, min, sql } from "drizzle-orm";
import type { DrizzleSqliteDODatabase } from "drizzle-orm/durable-sqlite";
import { lazily } from "../db/prepared";
import { repliesTable } from "./schema";

/** How long a key's first request may run before a repeat is allowed to run it again. */
export const REPLY_RUNNING_STALE_MS = 60_000;

/** A rendered answer: its status and the exact bytes of its body. */
export interface StoredReply {
  status: number;
  body: string;
}

export type BeginReplyResult =
  { code: "new" } | { code: "replay"; reply: StoredReply } | { code: "idempotency_in_progress" } | { code: "idempotency_key_reused" };

/** The `replies` table of one coordinator. */
export class ReplyStore {
  private readonly q: ReturnType<typeof prepareStatements>;

  constructor(db: DrizzleSqliteDODatabase) {
    this.q = prepareStatements(db);
  }

  /** Records `key` as running, or says what a repeat of it gets. Call inside a transaction. */
  begin(input: { key: string; request_hash: string; request_id: string; now_ms: number }): BeginReplyResult {
    const row = this.q.byKey.get({ key: input.key });
    if (row !== undefined && row.request_hash !== input.request_hash) return { code: "idempotency_key_reused" };
    if (row !== undefined && row.result !== null) return { code: "replay", reply: JSON.parse(row.result) as StoredReply };
    if (row !== undefined && row.created_at_ms > input.now_ms - REPLY_RUNNING_STALE_MS) return { code: "idempotency_in_progress" };
    this.q.upsert.run({ key: input.key, request_hash: input.request_hash, request_id: input.request_id, now: input.now_ms });
    return { code: "new" };
  }

  /** Stores the answer to replay for `key`, or (null: a failure worth retrying) forgets the key. */
  end(key: string, reply: StoredReply | null): void {
    if (reply === null) this.q.forget.run({ key });
    else this.q.store.run({ key, result: JSON.stringify(reply) });
  }

  /** Forgets keys recorded before `cutoff_ms` (the contract keeps them at least 24 hours). */
  forgetOlderThan(cutoff_ms: number): void {
    this.q.forgetOld.run({ cutoff: cutoff_ms });
  }

  /** When the oldest key was recorded, or null: the alarm comes back to forget it. */
  oldest(): number | null {
    return this.q.oldest.get()?.at ?? null;
  }
}

function prepareStatements(db: DrizzleSqliteDODatabase) {
  const p = sql.placeholder;
  const r = repliesTable;
  return lazily({
    byKey: () =>
      db
        .select()
        .from(r)
        .where(eq(r.idempotency_key, p("key")))
        .prepare(),
    upsert: () =>
      db
        .insert(r)
        .values({
          idempotency_key: p("key"),
          request_hash: p("request_hash"),
          request_id: p("request_id"),
          result: null,
          created_at_ms: p("now"),
        })
        .onConflictDoUpdate({
          target: r.idempotency_key,
          set: { request_id: sql`excluded.request_id`, created_at_ms: sql`excluded.created_at_ms` },
        })
        .prepare(),
    store: () =>
      db
        .update(r)
        .set({ result: sql`${p("result")}` })
        .where(eq(r.idempotency_key, p("key")))
        .prepare(),
    forget: () =>
      db
        .delete(r)
        .where(eq(r.idempotency_key, p("key")))
        .prepare(),
    forgetOld: () =>
      db
        .delete(r)
        .where(lt(r.created_at_ms, p("cutoff")))
        .prepare(),
    oldest: () =>
      db
        .select({ at: min(r.created_at_ms) })
        .from(r)
        .prepare(),
  });
}
