/**
 * The alarm's work for a user's coordinator: deliver the outbox, resume the movements that are due (through the
 * movement driver, coordinator/movement-driver.ts), retry relays, hand due webhook deliveries to the queue,
 * forget expired keys, and schedule the next run for the earliest thing still owed, backing off after runs
 * that could not finish. The alarm handler itself stays with the Durable Object (src/transfer-coordinator.ts).
 */
import type { Config } from "../config";
import { backoffMs, jittered } from "../domain/delays";
import { errorText, log } from "../observability/log";
import type { AlarmClock } from "./alarm-clock";
import type { EventRelay } from "./event-relay";
import type { EventStore } from "./events";
import type { MovementDriver } from "./movement-driver";
import type { MovementStatements } from "./movements";
import type { Outbox } from "./outbox";
import type { ReplyStore } from "./replies";
import type { RequestDesk } from "./request-desk";
import type { MovementRow } from "./schema";
import type { WebhookDesk } from "./webhook-desk";
import type { WebhookStore } from "./webhook-store";

/** Movements resumed per alarm run (and relays retried per run): bounded work per invocation. */
export const RECOVERY_BATCH = 50;

/** What the alarm's work needs from its coordinator. */
export interface RecoveryPorts {
  config: () => Config;
  q: MovementStatements;
  clock: AlarmClock;
  outbox: Outbox;
  driver: MovementDriver;
  desk: RequestDesk;
  relay: EventRelay;
  events: EventStore;
  webhooks: WebhookStore;
  hooks: WebhookDesk;
  replies: ReplyStore;
  /** Successes decided but not yet written (the coordinator's `finished` map): owed to the outbox too. */
  finished: ReadonlyMap<string, MovementRow>;
}

/** One alarm run's work, the wake-up of a coordinator whose alarm was lost, and the choice of the next run. */
export class Recovery {
  /** Alarm runs in a row that failed part of their work; the next run waits a back-off for each. */
  private failures = 0;

  constructor(private readonly ports: RecoveryPorts) {}

  /** Alarm runs in a row that failed part of their work (for tests). */
  failureCount(): number {
    return this.failures;
  }

  /**
   * Resumes every unfinished movement that is due, delivers the outbox, forgets expired idempotency keys and
   * schedules the alarm again while anything is left. Safe to run any number of times.
   */
  async run(): Promise<void> {
    let finishedAll: boolean;
    try {
      finishedAll = await this.recover(Date.now());
    } catch (error) {
      finishedAll = false;
      log("warn", "coordinator alarm failed", { failures: this.failures + 1, error: errorText(error) });
    }
    // A run that could not finish what was due (a full disk, wallets that do not answer) leaves it owed in
    // storage, perhaps with a due time it could not move forward; the next run then comes after a back-off
    // instead of at once, which would wake the object again immediately, for ever.
    this.failures = finishedAll ? 0 : this.failures + 1;
    // If even this fails (the disk is still full), the runtime retries the alarm with its own back-off, and
    // the clock's `by` stops trusting a time that never fired, so the next request sets it again.
    await this.scheduleNext();
  }

  /** Schedules the alarm if anything is owed (see the coordinator's `wake`); idle when nothing is. */
  async wake(): Promise<{ code: "idle" | "scheduled" }> {
    const { events, webhooks, finished, desk } = this.ports;
    const owed = this.pendingCounts();
    const relaysAndDeliveries = events.relaysOwed().count + webhooks.pendingCount();
    const idle = owed.started + owed.outbox + relaysAndDeliveries === 0 && finished.size === 0 && !desk.owesWork(Date.now());
    if (idle) return { code: "idle" };
    await this.scheduleNext();
    return { code: "scheduled" };
  }

  /** Unfinished movements and movements marked for the outbox, in storage. */
  pendingCounts(): { started: number; outbox: number } {
    const { q } = this.ports;
    return { started: q.countStarted.get()?.n ?? 0, outbox: q.countOutbox.get()?.n ?? 0 };
  }

  /**
   * One alarm run's work: deliver, resume what is due, deliver again, forget expired keys. True when every
   * due movement reached its outcome.
   */
  private async recover(now: number): Promise<boolean> {
    const { outbox, q, desk, driver, relay, hooks, replies } = this.ports;
    await outbox.due();
    const due = q.due.all({ now, limit: RECOVERY_BATCH });
    let finishedAll = await desk.alarmWork(now);
    for (const m of due) if ((await driver.drive(m, false)).code === "unavailable") finishedAll = false;
    const relayed = await relay.work(now);
    hooks.leaseDue(now);
    if (!relayed) finishedAll = false;
    await outbox.due();
    q.forgetKeys.run({ cutoff: now - this.ports.config().idempotency_retention_ms });
    replies.forgetOlderThan(now - this.ports.config().idempotency_retention_ms);
    return finishedAll;
  }

  /** Schedules the alarm for the earliest thing still owed: a movement, the outbox, or a key to forget. */
  private async scheduleNext(): Promise<void> {
    const { q, replies, finished, outbox, desk, events, webhooks, clock } = this.ports;
    const now = Date.now();
    const nextMovement = q.nextDue.get()?.at ?? null;
    const outboxRows = q.countOutbox.get()?.n ?? 0;
    const oldestKeys = [q.oldestKey.get()?.at ?? null, replies.oldest()].filter((at): at is number => at !== null);
    const oldestKey = oldestKeys.length === 0 ? null : Math.min(...oldestKeys);
    const config = this.ports.config();
    const candidates = [
      nextMovement,
      outboxRows > 0 || finished.size > 0 ? (outbox.retryAt ?? now + jittered(config.outbox_flush_delay_ms)) : null,
      oldestKey === null ? null : oldestKey + config.idempotency_retention_ms,
      desk.nextDue(now),
      events.relaysOwed().next_at_ms,
      events.nextPruneAt(config.event_retention_ms),
      webhooks.nextDue(),
    ].filter((at): at is number => at !== null);
    if (candidates.length === 0) return;
    // After failed runs, never sooner than the back-off: a movement due in the past must not wake us at once.
    const floor = this.failures > 0 ? now + backoffMs(this.failures, config.recovery_delay_ms, config.recovery_max_delay_ms) : 0;
    await clock.ensure(Math.max(floor, Math.min(...candidates)));
  }
}
