/**
 * The one alarm of a user's coordinator, as this instance last set or read it. Everything that owes work later
 * (a movement's recovery, the outbox, a relay, a delivery) asks for the alarm by a time; the earliest wins. The
 * alarm's handler stays with the Durable Object (src/transfer-coordinator.ts); its work, and what it schedules
 * next, are coordinator/recovery.ts.
 */
import { errorText, log } from "../observability/log";

/**
 * An alarm time this far in the past that has not fired is taken as lost (its setting, or its handler, failed
 * while the disk was full) and is set again, instead of being trusted to come.
 */
export const ALARM_LOST_AFTER_MS = 10_000;

/** The coordinator's alarm: set no later than asked, and never trusted once it should have fired long ago. */
export class AlarmClock {
  /** The scheduled alarm as this instance last set or read it (null: none). */
  private atMs: number | null = null;

  constructor(private readonly storage: DurableObjectStorage) {}

  /** Reads the alarm already set in storage (on start, once the tables exist). */
  async load(): Promise<void> {
    this.atMs = await this.storage.getAlarm();
  }

  /** Forgets the alarm: it is firing now (called first thing in the alarm handler). */
  fired(): void {
    this.atMs = null;
  }

  /**
   * Makes sure an alarm fires no later than `at_ms` (one alarm per object: keep the earliest). The time is
   * remembered before the write, so that a concurrent caller with a later time does not overwrite it, and
   * forgotten again if the write fails, so that a failed setting is never trusted.
   */
  async ensure(at_ms: number): Promise<void> {
    if (this.by(at_ms)) return;
    this.atMs = at_ms;
    try {
      await this.storage.setAlarm(at_ms);
    } catch (error) {
      if (this.atMs === at_ms) this.atMs = null;
      throw error;
    }
  }

  /** `ensure` for callers that answer anyway: the movement is recorded, and recovery finds it later. */
  async ensureQuietly(at_ms: number): Promise<void> {
    try {
      await this.ensure(at_ms);
    } catch (error) {
      log("warn", "alarm not set", { error: errorText(error) });
    }
  }

  /**
   * Whether an alarm is already set to fire no later than `at_ms`. A time long past is not trusted: an alarm
   * that should have fired by then and did not was lost (see ALARM_LOST_AFTER_MS).
   */
  readonly by = (at_ms: number): boolean => this.atMs !== null && this.atMs <= at_ms && this.atMs > Date.now() - ALARM_LOST_AFTER_MS;
}
