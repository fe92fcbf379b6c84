/**
 * Group commit for one Durable Object. Every commit of a Durable Object's SQLite is a synchronous disk flush,
 * and workerd commits each request's writes on their own; so when many requests reach one object at once (a
 * merchant's wallet, a payroll coordinator), each paid for a whole commit. Here every operation waits for the
 * next turn of the event loop, and the operations queued by then run together, each in its own savepoint
 * inside one transaction: N operations, one commit. Their answers are released only once that
 * commit is durable (the output gate), exactly as with one commit each. A group of one runs in a plain
 * transaction, with no savepoint inside.
 */

interface Pending {
  op: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** Operations one object may have waiting, as a number of full groups: past it, `run` refuses at once. */
export const QUEUE_MAX_GROUPS = 16;

/** Thrown by `run` when the queue is full. */
export class GroupCommitFull extends Error {
  constructor(waiting: number) {
    super(`group commit queue full (${waiting} operations waiting)`);
  }
}

/** Queues synchronous storage operations and runs each queue in one transaction. */
export class GroupCommit {
  private queue: Pending[] = [];

  constructor(
    private readonly storage: DurableObjectStorage,
    /** The most operations one transaction takes; more wait for the next one. */
    private readonly max_batch: number,
  ) {
    if (!Number.isSafeInteger(max_batch) || max_batch < 1) throw new Error(`invariant: group commit batch ${max_batch}`);
  }

  /**
   * Runs `op` in the next group. `op` must be synchronous (no `await`): it sees the writes of every operation
   * queued before it, and if it throws, only its own writes are rolled back and only its caller sees the error.
   */
  run<R>(op: () => R): Promise<R> {
    // A bounded queue: operations arriving faster than commits can take them are refused at once rather than
    // held in memory; the caller answers `unavailable` and the client retries with its key.
    if (this.queue.length >= this.max_batch * QUEUE_MAX_GROUPS) return Promise.reject(new GroupCommitFull(this.queue.length));
    return new Promise<R>((resolve, reject) => {
      // Always through the next turn, even when the queue is empty: running a lone operation at once measured
      // 14 % slower on a hot wallet (docs/performance.md), because the operations that reach it a moment
      // later then each pay a commit of their own.
      this.queue.push({ op, resolve: resolve as (value: unknown) => void, reject });
      if (this.queue.length === 1) setTimeout(() => this.flush(), 0);
    });
  }

  private flush(): void {
    const batch = this.queue.splice(0, this.max_batch);
    if (this.queue.length > 0) setTimeout(() => this.flush(), 0);
    // A group of one (the usual case when the object is not contended) needs no savepoint inside its transaction.
    const only = batch[0];
    if (batch.length === 1 && only !== undefined) return settle(only, this.attempt(only));
    const outcomes: Outcome[] = [];
    try {
      this.storage.transactionSync(() => {
        for (const pending of batch) outcomes.push(this.attempt(pending));
      });
    } catch (error) {
      for (const pending of batch) pending.reject(error);
      return;
    }
    batch.forEach((pending, i) =>
      settle(pending, outcomes[i] ?? { ok: false, error: new Error("invariant: group commit lost an outcome") }),
    );
  }

  /** Runs one operation in its own transaction (a savepoint when inside the group's). */
  private attempt(pending: Pending): Outcome {
    try {
      return { ok: true, value: this.storage.transactionSync(pending.op) };
    } catch (error) {
      return { ok: false, error };
    }
  }
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

function settle(pending: Pending, outcome: Outcome): void {
  if (outcome.ok) pending.resolve(outcome.value);
  else pending.reject(outcome.error);
}
