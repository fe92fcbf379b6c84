/**
 * The recovery sweep, the safety net behind every coordinator's alarm. A coordinator resumes unfinished
 * movements and delivers its outbox from its own alarm, and the runtime retries a failed alarm run a few times;
 * but an alarm that could not even be stored (its disk was full) and whose retries ran out is gone, and a
 * coordinator nobody calls would then wait for ever (issue 19: 271 movements stayed started until a restart).
 * Each Cron run therefore wakes the next `per_run` coordinators in user-id order, continuing where the last
 * run stopped (`cron_cursors`), spread over `spread_ms` like the self-audit. A coordinator with nothing owed
 * answers at once; one with work owed schedules its alarm again unless it trusts the one it has.
 */
import { eq, gt } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { cronCursors, users } from "../db/schema";
import { sleep } from "../domain/delays";
import { errorText, log } from "../observability/log";

/** What one sweep did. */
export interface SweepResult {
  woken: number;
  scheduled: number;
  failed: number;
  /** True when this run reached the last user and the next one starts again from the first. */
  wrapped: boolean;
}

/** Wakes the next `per_run` coordinators after the sweep's position, then moves the position on. */
export async function recoverySweep(env: Env, limits: { per_run: number; spread_ms: number }, now_ms: number): Promise<SweepResult> {
  const db = drizzle(env.DB);
  const cursor = await db.select({ position: cronCursors.position }).from(cronCursors).where(eq(cronCursors.name, "recovery_sweep")).get();
  const after = cursor?.position ?? "";
  const batch = await db.select({ id: users.id }).from(users).where(gt(users.id, after)).orderBy(users.id).limit(limits.per_run).all();
  const result: SweepResult = { woken: 0, scheduled: 0, failed: 0, wrapped: batch.length < limits.per_run };
  const pause_ms = batch.length > 1 ? Math.floor(limits.spread_ms / batch.length) : 0;
  for (const [i, user] of batch.entries()) {
    if (i > 0 && pause_ms > 0) await sleep(pause_ms);
    try {
      const answer = await env.COORDINATOR.getByName(user.id).wake();
      result.woken++;
      if (answer.code === "scheduled") result.scheduled++;
    } catch (error) {
      // One coordinator that cannot answer now is tried again on the next pass; the sweep goes on.
      result.failed++;
      log("warn", "recovery sweep could not wake a coordinator", { user_id: user.id, error: errorText(error) });
    }
  }
  const position = result.wrapped ? "" : (batch[batch.length - 1]?.id ?? "");
  const row = { name: "recovery_sweep" as const, position, updated_at: new Date(now_ms).toISOString() };
  await db.insert(cronCursors).values(row).onConflictDoUpdate({ target: cronCursors.name, set: row });
  return result;
}
