/**
 * The movement driver of a user's coordinator: a new movement's admission (session, key, limits), its record
 * before any wallet is touched, its steps (coordinator/steps.ts), and its outcome, written with its outbox mark
 * (a refusal) or kept for the outbox (a success, see coordinator/finished-successes.ts). Anything that interrupts
 * the steps leaves the movement `started`, deferred for the alarm, which drives it again from the top.
 */
import type { Config } from "../config";
import type { GroupCommit } from "../db/group-commit";
import { backoffMs } from "../domain/delays";
import { requestOwner, type MovementKind } from "../domain/ids";
import { assertAmount } from "../domain/money";
import { TokenBucket } from "../domain/token-bucket";
import { errorText, log } from "../observability/log";
import type { TransferCoordinator } from "../transfer-coordinator";
import type { AlarmClock } from "./alarm-clock";
import type { Directory } from "./directory";
import type { EventRelay } from "./event-relay";
import type { FinishedSuccesses } from "./finished-successes";
import { outcomeEvents } from "./movement-events";
import { finishedRow, newMovementRow, outcomeOf, type MovementFields, type MovementStatements } from "./movements";
import { refundPort, requestPort } from "./peer-ports";
import type {
  AuthResult,
  Failpoint,
  MovementOutcome,
  MovementRequestBase,
  PayRequest,
  RefundRequest,
  SingleWalletRequest,
  TransferRequest,
} from "./rpc";
import type { MovementRow } from "./schema";
import { runDeposit, runPayment, runRefund, runTransfer, runWithdrawal, type Decision, type StepPorts } from "./steps";
import { walletPort, type RetryPolicy } from "./wallet-calls";

/** Movements this coordinator drives (or is recording) at once; a new one past this is refused with 503. */
export const DRIVING_MAX = 1_000;

/** What the driver needs from its coordinator. */
export interface MovementDriverPorts {
  env: Env;
  config: () => Config;
  q: MovementStatements;
  /** Movements that start (or are refused) together share one commit (db/group-commit.ts). */
  commits: GroupCommit;
  clock: AlarmClock;
  relay: EventRelay;
  directory: Directory;
  /** Successes decided but not yet written (the coordinator's `finished` map; see finished-successes.ts). */
  finished: ReadonlyMap<string, MovementRow>;
  successes: FinishedSuccesses;
  /** The caller behind a token hash (the coordinator's `authenticate`). */
  authenticate: (token_hash: string) => Promise<AuthResult>;
  /** A movement as the coordinator reads it: in memory if decided there, else in storage (null: none). */
  movement: (id: string) => MovementRow | null;
  /** The user this coordinator serves (null before their first session). */
  self: () => string | null;
  /** The coordinator itself, whose own refund rooms and requests are called directly rather than through a stub. */
  local: Pick<TransferCoordinator, "claimRefund" | "settleRefund" | "releaseRefund" | "quoteRequest">;
  retryPolicy: () => RetryPolicy;
  /** Fails here if a test armed this point (see TransferCoordinator's `failpoint`). */
  failpoint: (name: Failpoint) => void;
}

/** Runs one user's money movements to completion, exactly once each. */
export class MovementDriver {
  /** Movements being driven in this instance now; a second driver for the same id joins nobody. */
  private readonly driving = new Map<string, Promise<MovementOutcome>>();
  /** Idempotency keys whose movement is queued to be recorded (see `commits`). */
  private readonly starting = new Set<string>();
  /** This user's new money movements per minute (a replayed key does not count). */
  private readonly moneyBucket = new TokenBucket();

  constructor(private readonly ports: MovementDriverPorts) {}

  /** Moves money from one of the user's wallets to a recipient, once per idempotency key. */
  async transfer(req: TransferRequest): Promise<MovementOutcome> {
    assertAmount(req.amount);
    const fields = { from_wallet_id: req.from_wallet_id, to_wallet_id: null, recipient: JSON.stringify(req.to), memo: req.memo };
    return this.submit("transfer", req, fields);
  }

  /** Tops up one of the user's wallets from outside the system, once per idempotency key. */
  async deposit(req: SingleWalletRequest): Promise<MovementOutcome> {
    assertAmount(req.amount);
    return this.submit("deposit", req, { from_wallet_id: null, to_wallet_id: req.wallet_id, recipient: null, memo: null });
  }

  /** Pays out of one of the user's wallets to outside the system, once per idempotency key. */
  async withdraw(req: SingleWalletRequest): Promise<MovementOutcome> {
    assertAmount(req.amount);
    return this.submit("withdrawal", req, { from_wallet_id: req.wallet_id, to_wallet_id: null, recipient: null, memo: null });
  }

  /** Gives money back for transfer `req.refund_of`, as its recipient, once per idempotency key. */
  async refund(req: RefundRequest): Promise<MovementOutcome> {
    assertAmount(req.amount);
    const fields = { from_wallet_id: null, to_wallet_id: null, recipient: null, memo: req.memo, refund_of: req.refund_of };
    return this.submit("transfer", req, fields);
  }

  /**
   * Pays request `req.payment_request_id` (see the coordinator's `payRequest`): the key first, then the request's
   * amount and recipient from its requester's coordinator, then a transfer to the requester's wallet.
   */
  async pay(req: PayRequest): Promise<MovementOutcome | { code: "not_found" | "forbidden" }> {
    const session = await this.ports.authenticate(req.token_hash);
    if (session.code !== "ok" || session.caller.user_id !== req.user_id) return { code: "unauthenticated" };
    const seen = this.seen({ ...req });
    if (seen !== null) return seen;
    const owner = requestOwner(req.payment_request_id);
    if (owner === null || !(await this.ports.directory.userExists(owner))) return { code: "not_found" };
    const quote =
      owner === req.user_id
        ? await this.ports.local.quoteRequest(req.payment_request_id, req.user_id)
        : await this.ports.env.COORDINATOR.getByName(owner).quoteRequest(req.payment_request_id, req.user_id);
    if (quote.code !== "ok") return quote;
    const fields = {
      from_wallet_id: req.from_wallet_id,
      to_wallet_id: null,
      recipient: JSON.stringify({ wallet_id: quote.requester_wallet_id }),
      memo: quote.memo,
      payment_request_id: req.payment_request_id,
    };
    return this.submit("transfer", { ...req, amount: quote.amount }, fields);
  }

  /** Admits, records and drives a new movement, or answers what its key already stands for. */
  private async submit(
    kind: MovementKind,
    req: MovementRequestBase & { amount: number },
    fields: MovementFields,
  ): Promise<MovementOutcome> {
    // The session first (it rides along with the movement: no separate call), then the key before anything
    // else: a replay never depends on the state of any wallet.
    const session = await this.ports.authenticate(req.token_hash);
    if (session.code !== "ok" || session.caller.user_id !== req.user_id) return { code: "unauthenticated" };
    const seen = this.seen(req);
    if (seen !== null) return seen;
    // A key whose movement is being recorded right now (its group has not committed yet) is in progress too.
    if (this.starting.has(req.idempotency_key)) return { code: "idempotency_in_progress" };
    // Bounded work in flight: past it (wallets that answer slowly), a new movement is refused before it is
    // recorded, so nothing moves and the client retries its key.
    if (this.driving.size + this.starting.size >= DRIVING_MAX) return { code: "unavailable" };
    const wait = this.moneyBucket.take(this.ports.config().rate_money_per_user_per_minute, Date.now());
    if (wait !== null) return { code: "rate_limited", retry_after_s: wait };
    this.starting.add(req.idempotency_key);
    let m: MovementRow;
    try {
      m = await this.ports.commits.run(() => this.start(kind, req, fields, session.caller.wallet_ids));
    } catch (error) {
      // Nothing was recorded (a full disk): nothing moved, and a retry with the same key starts afresh.
      log("warn", "movement not recorded", { error: errorText(error) });
      return { code: "unavailable" };
    } finally {
      this.starting.delete(req.idempotency_key);
    }
    this.ports.failpoint("before_alarm");
    await this.ports.clock.ensureQuietly(m.next_attempt_at_ms);
    this.ports.failpoint("after_start");
    return this.drive(m, false);
  }

  /** What an already-used key answers, or null for a new key. */
  private seen(req: MovementRequestBase): MovementOutcome | Promise<MovementOutcome> | null {
    const m = this.ports.q.byKey.get({ key: req.idempotency_key });
    if (m === undefined) return null;
    if (m.request_hash !== req.request_hash) return { code: "idempotency_key_reused" };
    if (m.state !== "started") return outcomeOf(m, true);
    const finished = this.ports.finished.get(m.id);
    if (finished !== undefined) return outcomeOf(finished, true);
    if (this.driving.has(m.id)) return { code: "idempotency_in_progress" };
    // Nobody is driving it: the instance that started it crashed. Finish it for this caller now.
    return this.drive(m, true);
  }

  /**
   * Drives a movement to its outcome unless this instance is already doing so. The row is read again here,
   * in the same turn as the check of `driving`: a caller may hold a row read before an `await` (the alarm
   * walks a list of due movements), and a movement that ended meanwhile must answer its outcome, never run its
   * steps again (a refusal for lack of funds, re-run after a deposit, would move money).
   */
  drive(stale: MovementRow, replayed: boolean): Promise<MovementOutcome> {
    const finished = this.ports.finished.get(stale.id);
    if (finished !== undefined) return Promise.resolve(outcomeOf(finished, replayed));
    const running = this.driving.get(stale.id);
    if (running !== undefined) return running;
    const m = this.ports.q.byId.get({ id: stale.id });
    if (m === undefined) throw new Error(`invariant: driving missing movement ${stale.id}`);
    if (m.state !== "started") return Promise.resolve(outcomeOf(m, replayed));
    const run = this.run(m, replayed).finally(() => this.driving.delete(m.id));
    this.driving.set(m.id, run);
    return run;
  }

  /**
   * Records a refusal and marks what D1 is owed for it, in one UPDATE, before answering: a refusal may depend
   * on state that changes (a balance), so it could not be derived again. Idempotent: a finished movement stays.
   * Runs inside the caller's commit (also FinishedSuccesses', for a success it writes at once).
   */
  finish(m: MovementRow, d: Decision): MovementRow {
    const { q, relay } = this.ports;
    const current = q.byId.get({ id: m.id });
    if (current === undefined) throw new Error(`invariant: finishing missing movement ${m.id}`);
    if (current.state !== "started") return current;
    const done = finishedRow(current, d, 1);
    q.updateMovement.run(done);
    // A refusal's event is written with the refusal itself; a success's events were appended before it ended.
    if (d.status === "failed") relay.appendOwn(outcomeEvents(done, d).own, Date.now());
    return done;
  }

  /** Records the movement and its key in one transaction, before any wallet is touched. */
  private start(
    kind: MovementKind,
    req: MovementRequestBase & { amount: number },
    fields: MovementFields,
    owned_wallet_ids: string[],
  ): MovementRow {
    const m = newMovementRow(kind, req, fields, owned_wallet_ids, Date.now(), this.ports.config().recovery_delay_ms);
    this.ports.q.insertMovement.run(m);
    return m;
  }

  private async run(m: MovementRow, replayed: boolean): Promise<MovementOutcome> {
    let decision: Decision;
    try {
      decision = await this.steps(m);
    } catch (error) {
      await this.deferRecovery(m, error);
      return { code: "unavailable" };
    }
    if (decision.status === "succeeded") {
      try {
        await this.ports.relay.recordSuccessEvents(m, decision);
      } catch (error) {
        // The events could not be written (a full disk). The success is answered (it is derivable), but it is not
        // kept for the outbox: the movement stays started, and recovery derives it again and appends its events.
        await this.deferRecovery(m, error);
        return outcomeOf(finishedRow(m, decision, 0), replayed);
      }
    }
    let done: MovementRow;
    try {
      done =
        decision.status === "succeeded"
          ? await this.ports.successes.finishLater(m, decision)
          : await this.ports.commits.run(() => this.finish(m, decision));
    } catch (error) {
      // The outcome could not be written (a full disk). A success is still derivable from the wallets, so it is
      // answered; a refusal may not be (it can depend on a balance), so the caller retries its key. Either way
      // the movement stays started and recovery writes its outcome once the disk has room.
      await this.deferRecovery(m, error);
      if (decision.status !== "succeeded") return { code: "unavailable" };
      done = finishedRow(m, decision, 0);
    }
    this.ports.failpoint("after_finish");
    return outcomeOf(done, replayed);
  }

  private steps(m: MovementRow): Promise<Decision> {
    const ports = this.stepPorts();
    if (m.kind === "transfer" && m.refund_of !== null) return runRefund(m, ports);
    if (m.kind === "transfer" && m.payment_request_id !== null) return runPayment(m, ports);
    if (m.kind === "transfer") return runTransfer(m, ports);
    if (m.kind === "deposit") return runDeposit(m, ports);
    return runWithdrawal(m, ports);
  }

  /** Leaves `m` started, to be resumed by the alarm after a capped exponential back-off. */
  private async deferRecovery(m: MovementRow, error: unknown): Promise<void> {
    const config = this.ports.config();
    const current = this.ports.movement(m.id);
    if (current === null || current.state !== "started") return;
    const attempts = current.attempts + 1;
    const next_attempt_at_ms = Date.now() + backoffMs(attempts, config.recovery_delay_ms, config.recovery_max_delay_ms);
    try {
      this.ports.q.updateMovement.run({ ...current, attempts, next_attempt_at_ms });
    } catch (writeError) {
      // A full disk: the old due time stays, and the alarm's own back-off keeps it from spinning.
      log("warn", "movement deferral not recorded", { movement_id: m.id, error: errorText(writeError) });
    }
    log("warn", "movement deferred", { movement_id: m.id, attempts, error: errorText(error) });
    await this.ports.clock.ensureQuietly(next_attempt_at_ms);
  }

  /** What the steps reach: the wallets, the directory, and other users' coordinators (peer-ports.ts). */
  private stepPorts(): StepPorts {
    const { env, directory, self, local, failpoint } = this.ports;
    const peers = { env, directory, self, local };
    return {
      wallets: walletPort(env.WALLET, this.ports.retryPolicy()),
      refunds: refundPort(peers),
      requests: requestPort(peers),
      resolve: (recipient, currency) => directory.resolve(recipient, currency),
      walletCurrency: (walletId) => directory.walletCurrency(walletId),
      walletExists: (walletId) => directory.walletExists(walletId),
      failpoint: (name) => failpoint(name),
    };
  }
}
