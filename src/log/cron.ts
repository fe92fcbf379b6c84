/**
 * The transparency log's part of the Cron run every minute: make sure the log's feeding alarm is armed (a
 * fresh deployment, or an alarm lost), and compare this minute's windows of leaves with D1 (the rotation of
 * src/audit/log-verify.ts), so that every leaf is compared again every (leaves / LOG_VERIFY_LEAVES_MAX)
 * minutes even when no auditor asks. What it finds is logged as an error; the auditor's verify finds the same.
 */
import { logVerifyOptions, verifyLog } from "../audit/log-verify";
import type { Problem } from "../audit/chain";
import { LOG_OBJECT_NAME } from "./name";
import { partitionDbs } from "../db/partitions";
import { errorText, log } from "../observability/log";

/** One Cron run's work for the log. Never throws: the other Cron work must not depend on it. */
export async function logCron(env: Env, now_ms: number): Promise<void> {
  try {
    await env.LOG.getByName(LOG_OBJECT_NAME).ensureAlarm();
    const problems: Problem[] = [];
    const coverage = await verifyLog(partitionDbs(env), await logVerifyOptions(env, now_ms), problems);
    log(problems.length > 0 ? "error" : "info", "transparency log audit", { ...coverage, problems: problems.slice(0, 20) });
  } catch (error) {
    log("error", "transparency log cron failed", { error: errorText(error) });
  }
}
