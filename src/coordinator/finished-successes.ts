/**
 * Successes decided but not yet written, held in memory for the outbox: the next delivery to D1 writes each with
 * its outcome in the commit that clears its outbox mark, instead of once per movement. This file keeps that
 * list bounded and hands it to the outbox (coordinator/outbox.ts); the list itself is the coordinator's
 * `finished` map, which its reads consult too (a success in memory is still `started` in storage).
 */
import type { Config } from "../config";
import type { GroupCommit } from "../db/group-commit";
import { errorText, log } from "../observability/log";
import { finishedRow, type MovementStatements } from "./movements";
import type { Outbox } from "./outbox";
import type { MovementRow } from "./schema";
import type { Decision } from "./steps";

/**
 * Successes kept in memory for the outbox, as a multiple of `OUTBOX_BATCH_MAX`: past it (D1 slow) a success
 * is written to storage with its outbox mark at once, like a refusal, so memory stays bounded whatever D1 does.
 */
const FINISHED_MAX_BATCHES = 2;

/** What the successes in memory need from their coordinator. */
export interface FinishedPorts {
  config: () => Config;
  storage: DurableObjectStorage;
  q: MovementStatements;
  commits: GroupCommit;
  /** The coordinator's outbox (built after this, as it calls back here). */
  outbox: () => Outbox;
  /** Records an outcome with its outbox mark (the driver's `finish`, coordinator/movement-driver.ts); runs inside the caller's commit. */
  finish: (m: MovementRow, d: Decision) => MovementRow;
}

/** The bounded list of successes waiting in memory for the outbox, and its hand-over to storage. */
export class FinishedSuccesses {
  constructor(
    private readonly finished: Map<string, MovementRow>,
    private readonly ports: FinishedPorts,
  ) {}

  /**
   * Keeps a success for the next outbox delivery, which writes it (see `finished`). While D1 is failing, or
   * when the in-memory list is full, it is written at once with its outbox mark instead, as a refusal is.
   */
  async finishLater(m: MovementRow, d: Decision): Promise<MovementRow> {
    const outbox = this.ports.outbox();
    if (outbox.backingOff() || this.finished.size >= this.max()) {
      const done = await this.ports.commits.run(() => this.ports.finish(m, d));
      outbox.soon();
      return done;
    }
    const done = finishedRow(m, d, 0);
    this.finished.set(m.id, done);
    if (this.finished.size >= this.ports.config().outbox_batch_max) void outbox.now();
    else outbox.soon();
    return done;
  }

  /** How many successes memory may hold (FINISHED_MAX_BATCHES batches). */
  max(): number {
    return FINISHED_MAX_BATCHES * this.ports.config().outbox_batch_max;
  }

  /**
   * After a failed delivery: writes every success kept in memory with its outcome and outbox mark, so none is
   * left `started` with a due time that has passed (which would wake the alarm at once, again and again) and
   * nothing waits in memory for D1. If even that write fails (a full disk), the list is dropped: each movement
   * is still `started` in storage and recovery derives the same outcome again.
   */
  spill(): void {
    if (this.finished.size === 0) return;
    const { storage, q } = this.ports;
    const rows = [...this.finished.values()];
    this.finished.clear();
    try {
      storage.transactionSync(() => {
        for (const done of rows) if (q.byId.get({ id: done.id })?.state === "started") q.updateMovement.run({ ...done, outbox_pending: 1 });
      });
    } catch (error) {
      log("warn", "outbox spill failed; recovery will derive these outcomes again", { movements: rows.length, error: errorText(error) });
    }
  }

  /** What D1 is owed: successes decided in memory first, then rows marked in storage (refusals, leftovers). */
  undelivered(limit: number): MovementRow[] {
    const owed = [...this.finished.values()].slice(0, limit);
    if (owed.length < limit) owed.push(...this.ports.q.outbox.all({ limit: limit - owed.length }));
    return owed;
  }

  /** After D1 has them: successes are written with their outcome and every mark is cleared, in one commit. */
  recordDelivered(ids: string[]): void {
    const { storage, q } = this.ports;
    storage.transactionSync(() => {
      const marked: string[] = [];
      for (const id of ids) {
        const done = this.finished.get(id);
        if (done === undefined) marked.push(id);
        else if (q.byId.get({ id })?.state !== "started") throw new Error(`invariant: movement ${id} ended twice`);
        else q.updateMovement.run(done);
      }
      if (marked.length > 0) q.delivered.run({ ids: JSON.stringify(marked) });
    });
    for (const id of ids) this.finished.delete(id);
  }
}
