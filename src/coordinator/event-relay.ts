/**
 * The success path's events, for one user's coordinator: a success's own events and those owed to the other
 * party, the relay of the latter to their coordinators (at once, and then by the alarm until they answer), and
 * the pruning of events past their retention. The events themselves are kept by coordinator/events.ts.
 */
import type { Config } from "../config";
import type { GroupCommit } from "../db/group-commit";
import { backoffMs } from "../domain/delays";
import { errorText, log } from "../observability/log";
import type { EventStore, NewEvent } from "./events";
import { outcomeEvents } from "./movement-events";
import { finishedRow } from "./movements";
import type { Failpoint } from "./rpc";
import type { MovementRow } from "./schema";
import type { Decision } from "./steps";

/** An event owed to another user's coordinator. */
interface OwedEvent {
  user_id: string;
  event: NewEvent;
}

/** What the relay needs from its coordinator. */
export interface EventRelayPorts {
  env: Env;
  config: () => Config;
  storage: DurableObjectStorage;
  events: EventStore;
  /** The coordinator's group commit, shared with the movements it starts and ends. */
  commits: GroupCommit;
  /** Fails here if a test armed this point (see TransferCoordinator's `failpoint`). */
  failpoint: (name: Failpoint) => void;
  /** Makes sure the alarm fires by then, logging (not throwing) if it cannot be set. */
  alarmBy: (at_ms: number) => Promise<void>;
  /** Relays retried per alarm run: bounded work per invocation. */
  relays_per_run: number;
}

/** Records a success's events and relays those of other users until their coordinators have them. */
export class EventRelay {
  constructor(private readonly ports: EventRelayPorts) {}

  /** Appends this user's events (inside the caller's transaction), each once per change key. */
  appendOwn(events: NewEvent[], now_ms: number): void {
    for (const e of events) this.ports.events.append(e, now_ms);
  }

  /**
   * A success's events, once its money has moved and before it may end (be cached for the outbox, or written):
   * the other party's coordinator is asked first (bounded by half of EVENT_MAX_LAG_MS); then this user's own
   * events and a durable relay row for any party that did not answer are written in one commit. A crash before
   * that commit leaves the movement started, and recovery does all of it again; the appends are idempotent.
   */
  async recordSuccessEvents(m: MovementRow, d: Decision): Promise<void> {
    const done = finishedRow(m, d, 0);
    const { own, others } = outcomeEvents(done, d);
    const unheard = await this.tellOthers(others);
    const now_ms = Date.now();
    const retry_at_ms = now_ms + this.relayDelayMs(1);
    await this.ports.commits.run(() => {
      this.appendOwn(own, now_ms);
      for (const o of unheard) this.ports.events.owe(o.user_id, o.event, retry_at_ms);
    });
    this.ports.failpoint("after_events");
    if (unheard.length > 0) await this.ports.alarmBy(retry_at_ms);
  }

  /** Appends each event at its user's coordinator; returns those that could not be confirmed in time. */
  private async tellOthers(others: OwedEvent[]): Promise<OwedEvent[]> {
    const wait_ms = Math.max(1, Math.floor(this.ports.config().event_max_lag_ms / 2));
    const answers = await Promise.all(
      others.map(async (o) => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const call = this.ports.env.COORDINATOR.getByName(o.user_id)
          .appendEvents([o.event])
          .then(() => true);
        const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), wait_ms)));
        // The timer is cleared once the call answers, so a busy coordinator does not keep one live per transfer.
        return Promise.race([call, late])
          .catch((error: unknown) => {
            log("warn", "event not relayed; the alarm retries", { user_id: o.user_id, error: errorText(error) });
            return false;
          })
          .finally(() => {
            if (timer !== undefined) clearTimeout(timer);
          });
      }),
    );
    return others.filter((_, i) => answers[i] !== true);
  }

  /**
   * The alarm's share of events: relays that are due, and events past their retention (bounded batches).
   * True when every due relay was delivered.
   */
  async work(now_ms: number): Promise<boolean> {
    const { storage, events } = this.ports;
    const due = events.dueRelays(now_ms, this.ports.relays_per_run);
    let all = true;
    for (const relay of due) {
      const event = { change_key: relay.change_key, type: relay.type, object: relay.object };
      try {
        await this.ports.env.COORDINATOR.getByName(relay.user_id).appendEvents([event]);
        storage.transactionSync(() => events.relayed(relay.user_id, [relay.change_key]));
      } catch (error) {
        all = false;
        const next = Date.now() + this.relayDelayMs(relay.attempts + 1);
        storage.transactionSync(() => events.deferRelay(relay.user_id, relay.change_key, next));
        log("warn", "event relay failed", { user_id: relay.user_id, attempts: relay.attempts + 1, error: errorText(error) });
      }
    }
    storage.transactionSync(() => events.prune(now_ms - this.ports.config().event_retention_ms));
    return all;
  }

  private relayDelayMs(attempt: number): number {
    const config = this.ports.config();
    return backoffMs(attempt, Math.min(config.event_max_lag_ms, config.recovery_delay_ms), config.recovery_max_delay_ms);
  }
}
