/**
 * TransferCoordinator: one Durable Object per user, named by the user id. It owns that user's idempotency
 * keys, the durable record of every transfer, deposit and withdrawal the user starts, the outbox that carries
 * their audit rows and entries to D1, and the user's sessions (see coordinator/sessions.ts).
 *
 * A movement is recorded (`started`, with its key) before any wallet is touched; its steps then run (see
 * coordinator/steps.ts), and its outcome is recorded together with its outbox mark in one write (all driven by
 * coordinator/movement-driver.ts). If anything interrupts the steps (a crash, an eviction, a wallet that does not
 * answer) the movement stays `started` and the alarm resumes it, from the top, until it ends: every step is
 * idempotent by movement id. A retry of the same key after such a crash does the same at once, so the caller gets
 * the real outcome.
 *
 * Storage is created by the first write (a session or a movement): probing a random user id through a
 * token, a transfer id or a receipt reads nothing and allocates nothing.
 */
import { DurableObject } from "cloudflare:workers";
import { drizzle as drizzleD1 } from "drizzle-orm/d1";
import { drizzle } from "drizzle-orm/durable-sqlite";
import { configOf, type Config } from "./config";
import { RefundRooms, type ClaimRefundInput, type ClaimRefundResult, type SettledRefund } from "./coordinator/refund-rooms";
import { IncomingStore, RequestStore, type ListPosition, type RequestStatus } from "./coordinator/payment-requests";
import { RequestDesk } from "./coordinator/request-desk";
import type {
  CreateRequestsInput,
  CreateRequestsResult,
  PayQuote,
  PaymentRequestView,
  RequestChangeResult,
  RequestReadResult,
} from "./coordinator/request-views";
import { partitionDbs } from "./db/partitions";
import { Outbox, type ProducedEntry } from "./coordinator/outbox";
import { Directory } from "./coordinator/directory";
import { SessionStore } from "./coordinator/sessions";
import { ApiKeyStore, type ApiKeyView, type CreateApiKeyResult, type NewApiKey } from "./coordinator/api-keys";
import { ReplyStore, type BeginReplyResult, type StoredReply } from "./coordinator/replies";
import { SessionDesk } from "./coordinator/session-desk";
import { StepUnavailable, type RetryPolicy } from "./coordinator/wallet-calls";
import { backoffMs } from "./domain/delays";
import { isParty, movementView, prepareMovementStatements, sentToPhone, type MovementStatements } from "./coordinator/movements";
import type {
  AuthResult,
  FailMode,
  Failpoint,
  MovementEntriesResult,
  MovementOutcome,
  Profile,
  ReadMovementResult,
  RefundRequest,
  ContactSources,
  MovementView,
  PayRequest,
  SentQuery,
  SingleWalletRequest,
  TransferRequest,
} from "./coordinator/rpc";
import { COORDINATOR_MIGRATIONS, type MovementRow } from "./coordinator/schema";
import { sentTransfers } from "./coordinator/sent-list";
import { EventStore, type EventRow, type EventType, type NewEvent } from "./coordinator/events";
import { EventRelay } from "./coordinator/event-relay";
import { AlarmClock } from "./coordinator/alarm-clock";
import { FinishedSuccesses } from "./coordinator/finished-successes";
import { MovementDriver } from "./coordinator/movement-driver";
import { RefundDesk } from "./coordinator/refund-desk";
import { RECOVERY_BATCH, Recovery } from "./coordinator/recovery";
import { WebhookStore, type AttemptJob, type AttemptResult, type DeliveryView, type EndpointView } from "./coordinator/webhook-store";
import { WebhookDesk, type DeliveryPosition, type NewEndpointInput } from "./coordinator/webhook-desk";
import { hasSchema, migrate } from "./db/do-migrations";
import { checkD1, faultableStorage, noFaults, type Faults } from "./db/faults";
import { GroupCommit } from "./db/group-commit";
import { log } from "./observability/log";

/** Outbox batches sent per flush: bounded work per invocation. */
const FLUSH_BATCHES_PER_CALL = 20;
export { DRIVING_MAX } from "./coordinator/movement-driver";
export { ALARM_LOST_AFTER_MS } from "./coordinator/alarm-clock";

/** The Durable Object that runs one user's money movements to completion, exactly once each. */
export class TransferCoordinator extends DurableObject<Env> {
  private readonly q: MovementStatements;
  private readonly sessions: SessionStore;
  /** The user's API keys (coordinator/api-keys.ts), checked wherever a session is. */
  private readonly apiKeys: ApiKeyStore;
  /** The sessions' and API keys' RPC bodies, which close the live feeds of what they end (coordinator/session-desk.ts). */
  private readonly sessionDesk: SessionDesk;
  /** Refunds claimed against the transfers this user sent (coordinator/refund-rooms.ts). */
  private readonly refundRooms: RefundRooms;
  /** The refund rooms' RPC bodies: claim, settle, release (coordinator/refund-desk.ts). */
  private readonly refundDesk: RefundDesk;
  /** Payment requests this user made or received (coordinator/request-desk.ts). */
  private readonly desk: RequestDesk;
  /** Answers to keyed POSTs that move no money (coordinator/replies.ts). */
  private readonly replies: ReplyStore;
  private readonly directory: Directory;
  private readonly outbox: Outbox;
  /** The user's events, and those owed to other users (coordinator/events.ts). */
  private readonly events: EventStore;
  /** The user's webhook endpoints and deliveries (coordinator/webhook-store.ts). */
  private readonly webhooks: WebhookStore;
  /** The webhook endpoints' RPC bodies and the deliveries' queue hand-off (coordinator/webhook-desk.ts). */
  private readonly hooks: WebhookDesk;
  /** A success's events, and their relay to the other party's coordinator (coordinator/event-relay.ts). */
  private readonly relay: EventRelay;
  /** Whether this object's tables exist; false until its first write. */
  private schemaReady = false;
  /**
   * Successes decided but not yet written: their outcome is derivable (every wallet step is durable and
   * answers `exists` on a re-run, and `completed_at` is read back from the wallet), so it is written once, with
   * the outbox delivery that clears it, instead of once per movement. A crash loses only this cache; the
   * movement is still `started` in storage and recovery derives the same outcome again.
   */
  private readonly finished = new Map<string, MovementRow>();
  /** Keeps `finished` bounded and hands it to the outbox (coordinator/finished-successes.ts). */
  private readonly successes: FinishedSuccesses;
  /** New movements' admission, record, steps and outcome (coordinator/movement-driver.ts). */
  private readonly driver: MovementDriver;
  /** Movements that start (or are refused) together share one commit (db/group-commit.ts). */
  private readonly commits: GroupCommit;
  /** The object's one alarm, as this instance last set or read it (coordinator/alarm-clock.ts). */
  private readonly clock: AlarmClock;
  /** Failpoints armed by tests (one-shot); always empty in production. */
  readonly failpoints = new Map<Failpoint, FailMode>();
  /** Sustained faults held on by tests (a full disk, a refusing D1); always off in production. */
  readonly faults: Faults = noFaults();
  /** This object's storage, through the test faults (a plain pass-through while they are off). */
  private readonly storage: DurableObjectStorage;
  /** The alarm's work: recovery, delivery, forgetting, and when to run next (coordinator/recovery.ts). */
  private readonly recovery: Recovery;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.storage = faultableStorage(ctx.storage, this.faults);
    this.clock = new AlarmClock(this.storage);
    const db = drizzle(this.storage);
    this.q = prepareMovementStatements(db);
    this.sessions = new SessionStore(db);
    this.apiKeys = new ApiKeyStore(db);
    this.replies = new ReplyStore(db);
    this.sessionDesk = new SessionDesk({
      env,
      config: () => this.config(),
      storage: this.storage,
      sessions: this.sessions,
      apiKeys: this.apiKeys,
      retryPolicy: () => this.retryPolicy(),
    });
    this.refundRooms = new RefundRooms(db);
    this.events = new EventStore(this.storage.sql);
    this.webhooks = new WebhookStore(this.storage.sql);
    // Deliveries are written in the transaction that appends their event, and enqueued once it has committed.
    this.hooks = new WebhookDesk({
      env,
      config: () => this.config(),
      storage: this.storage,
      webhooks: this.webhooks,
      events: this.events,
      self: () => this.sessions.profile()?.user_id ?? null,
      alarmBy: (at_ms) => this.clock.ensureQuietly(at_ms),
    });
    this.events.onAppend = (event) => this.hooks.onAppend(event);
    this.directory = new Directory(drizzleD1(env.DB));
    this.desk = new RequestDesk(new RequestStore(db), new IncomingStore(db), {
      env,
      config: () => this.config(),
      storage: this.storage,
      directory: this.directory,
      self: () => this.sessions.profile()?.user_id ?? null,
      wallets: () => this.sessions.profile()?.wallet_ids ?? [],
      alarmBy: (at_ms) => this.clock.ensureQuietly(at_ms),
      appendEvents: (events) => this.relay.appendOwn(events, Date.now()),
    });
    const config = this.config();
    this.commits = new GroupCommit(this.storage, config.group_commit_max_ops);
    this.successes = new FinishedSuccesses(this.finished, {
      config: () => this.config(),
      storage: this.storage,
      q: this.q,
      commits: this.commits,
      outbox: () => this.outbox,
      finish: (m, d) => this.driver.finish(m, d),
    });
    this.relay = new EventRelay({
      env,
      config: () => this.config(),
      storage: this.storage,
      events: this.events,
      commits: this.commits,
      failpoint: (name) => this.failpoint(name),
      alarmBy: (at_ms) => this.clock.ensureQuietly(at_ms),
      relays_per_run: RECOVERY_BATCH,
    });
    this.outbox = new Outbox(
      {
        d1: partitionDbs(env),
        pending: (limit) => this.successes.undelivered(limit),
        markDelivered: (ids) => this.successes.recordDelivered(ids),
        failed: () => this.successes.spill(),
        beforeWrite: () => {
          this.failpoint("before_d1_write");
          return checkD1(this.faults);
        },
        afterWrite: () => this.failpoint("after_d1_write"),
        retryAt: (at_ms) => this.clock.ensure(at_ms),
        alarmBy: (at_ms) => this.clock.by(at_ms),
        backoffMs: (failures) =>
          backoffMs(failures, Math.min(config.recovery_delay_ms, config.outbox_retry_max_ms), config.outbox_retry_max_ms),
        log: (message, fields) => log("warn", message, fields),
      },
      { batch_max: config.outbox_batch_max, flush_delay_ms: config.outbox_flush_delay_ms, batches_per_flush: FLUSH_BATCHES_PER_CALL },
    );
    this.driver = new MovementDriver({
      env,
      config: () => this.config(),
      q: this.q,
      commits: this.commits,
      clock: this.clock,
      relay: this.relay,
      directory: this.directory,
      finished: this.finished,
      successes: this.successes,
      authenticate: (token_hash) => this.authenticate(token_hash),
      movement: (id) => this.movement(id),
      self: () => this.sessions.profile()?.user_id ?? null,
      local: this,
      retryPolicy: () => this.retryPolicy(),
      failpoint: (name) => this.failpoint(name),
    });
    this.refundDesk = new RefundDesk({
      storage: this.storage,
      rooms: this.refundRooms,
      events: this.events,
      relay: this.relay,
      driver: this.driver,
      movement: (id) => this.movement(id),
    });
    this.recovery = new Recovery({
      config: () => this.config(),
      q: this.q,
      clock: this.clock,
      outbox: this.outbox,
      driver: this.driver,
      desk: this.desk,
      relay: this.relay,
      events: this.events,
      webhooks: this.webhooks,
      hooks: this.hooks,
      replies: this.replies,
      finished: this.finished,
    });
    void ctx.blockConcurrencyWhile(async () => {
      if (!hasSchema(ctx.storage.sql)) return;
      this.ensureSchema();
      await this.clock.load();
    });
  }

  // ---- Sessions -------------------------------------------------------------------------------------------

  /** Records the user's profile (as of this login) and a new session for `token_hash`. */
  async openSession(input: { profile: Profile; token_hash: string }): Promise<{ code: "opened" }> {
    this.ensureSchema();
    return this.sessionDesk.open(input);
  }

  /**
   * The caller behind `token_hash`, if its session is live, or if it is the hash of one of the user's API keys
   * (which do not expire; revoking one deletes it). A key's use is recorded here, at most once a minute.
   */
  async authenticate(token_hash: string): Promise<AuthResult> {
    if (!this.schemaReady) return { code: "unauthenticated" };
    return this.sessionDesk.authenticate(token_hash);
  }

  // ---- API keys (coordinator/api-keys.ts) -----------------------------------------------------------------

  /** Records a new API key of the user (its hash only), within `max_keys`. */
  async createApiKey(input: NewApiKey): Promise<CreateApiKeyResult> {
    this.ensureSchema();
    return this.sessionDesk.createApiKey(input);
  }

  /** The user's API keys, newest first, without the keys themselves. */
  async listApiKeys(): Promise<ApiKeyView[]> {
    if (!this.schemaReady) return [];
    return this.apiKeys.list();
  }

  /** Revokes key `id` at once: the next request with it gets 401, and its live feed sockets close (4401). */
  async revokeApiKey(id: string): Promise<{ code: "revoked" | "not_found" }> {
    if (!this.schemaReady) return { code: "not_found" };
    return this.sessionDesk.revokeApiKey(id);
  }

  /** Ends one session, and closes its live feed sockets. */
  async revokeSession(token_hash: string): Promise<{ code: "revoked" }> {
    if (!this.schemaReady) return { code: "revoked" };
    return this.sessionDesk.revokeSession(token_hash);
  }

  /** Ends every session of the user ("log out everywhere"), and closes their live feed sockets. */
  async revokeAllSessions(): Promise<{ code: "revoked" }> {
    if (!this.schemaReady) return { code: "revoked" };
    return this.sessionDesk.revokeAllSessions();
  }

  /** Changes the user's role for their live sessions (the operator's auditor grant). */
  async setRole(role: Profile["role"]): Promise<{ code: "changed" | "no_profile" }> {
    if (!this.schemaReady) return { code: "no_profile" };
    return { code: this.sessions.setRole(role) ? "changed" : "no_profile" };
  }

  /** Records the user's wallets after one was added (the D1 directory's list, oldest first). */
  async setWallets(wallet_ids: string[]): Promise<{ code: "changed" | "no_profile" }> {
    if (!this.schemaReady) return { code: "no_profile" };
    return { code: this.sessions.setWallets(wallet_ids) ? "changed" : "no_profile" };
  }

  // ---- Keyed requests that move no money ------------------------------------------------------------------

  /**
   * Checks the session, then the key: a repeat of a finished request gets its stored answer, one still running
   * 409, one with another body 422; a new key is recorded as running (coordinator/replies.ts).
   */
  async beginReply(input: {
    token_hash: string;
    key: string;
    request_hash: string;
    request_id: string;
  }): Promise<BeginReplyResult | { code: "unauthenticated" }> {
    const session = await this.authenticate(input.token_hash);
    if (session.code !== "ok") return { code: "unauthenticated" };
    const now_ms = Date.now();
    const begun = this.storage.transactionSync(() => this.replies.begin({ ...input, now_ms }));
    if (begun.code === "new") await this.clock.ensureQuietly(now_ms + this.config().idempotency_retention_ms);
    return begun;
  }

  /** Stores the answer a repeat of `key` replays; null forgets the key (the request may be tried afresh). */
  async endReply(key: string, reply: StoredReply | null): Promise<{ code: "stored" }> {
    this.storage.transactionSync(() => this.replies.end(key, reply));
    return { code: "stored" };
  }

  // ---- Money movements ------------------------------------------------------------------------------------

  /** Moves money from one of the user's wallets to a recipient, once per idempotency key. */
  async transfer(req: TransferRequest): Promise<MovementOutcome> {
    return this.driver.transfer(req);
  }

  /** Tops up one of the user's wallets from outside the system, once per idempotency key. */
  async deposit(req: SingleWalletRequest): Promise<MovementOutcome> {
    return this.driver.deposit(req);
  }

  /** Pays out of one of the user's wallets to outside the system, once per idempotency key. */
  async withdraw(req: SingleWalletRequest): Promise<MovementOutcome> {
    return this.driver.withdraw(req);
  }

  /** Gives money back for transfer `req.refund_of`, as its recipient, once per idempotency key. */
  async refund(req: RefundRequest): Promise<MovementOutcome> {
    return this.driver.refund(req);
  }

  /** A movement, for its sender or its recipient only, with the sum of its succeeded refunds. */
  async getMovement(id: string, requester: { user_id: string; wallet_ids: string[] }): Promise<ReadMovementResult> {
    const m = this.movement(id);
    if (m === null) return { code: "not_found" };
    if (!isParty(m, requester)) return { code: "forbidden" };
    return { code: "ok", movement: { ...movementView(m), refunded_amount: this.refundRooms.refunded(m.id) } };
  }

  // ---- Payment requests (coordinator/request-desk.ts) -----------------------------------------------------

  /** Creates a request, or a split's requests, for the caller (this user). */
  async createRequests(
    token_hash: string,
    input: Omit<CreateRequestsInput, "requester"> & { display_name: string },
  ): Promise<CreateRequestsResult | { code: "unauthenticated" }> {
    const session = await this.authenticate(token_hash);
    if (session.code !== "ok") return { code: "unauthenticated" };
    const { user_id, handle, wallet_ids } = session.caller;
    return this.desk.create({ ...input, requester: { user_id, handle, display_name: input.display_name, wallet_ids } });
  }

  /** One of this user's requests, for its requester or its payer (`viewer_id`). */
  async readRequest(id: string, viewer_id: string): Promise<RequestReadResult> {
    if (!this.schemaReady) return { code: "not_found" };
    return this.desk.read(id, viewer_id);
  }

  /** Several of this user's requests, those `viewer_id` may see (a payer's inbox page). */
  async readRequests(ids: string[], viewer_id: string): Promise<PaymentRequestView[]> {
    if (!this.schemaReady) return [];
    return this.desk.readMany(ids, viewer_id);
  }

  /** A page of the requests this user made, or received (`incoming`). */
  async listRequests(
    role: "incoming" | "outgoing",
    status: RequestStatus | null,
    after: ListPosition | null,
    limit: number,
  ): Promise<{ items: PaymentRequestView[]; last: ListPosition | null; full: boolean }> {
    if (!this.schemaReady) return { items: [], last: null, full: false };
    if (role === "incoming") return this.desk.listIncoming(status, after, limit);
    const items = await this.desk.listOutgoing(status, after, limit);
    const last = items[items.length - 1];
    return {
      items,
      last: last === undefined ? null : { created_at_ms: Date.parse(last.created_at), id: last.id },
      full: items.length === limit,
    };
  }

  /** The requester (this user) cancels an open request. */
  async cancelRequest(id: string): Promise<RequestChangeResult> {
    if (!this.schemaReady) return { code: "not_found" };
    return this.desk.cancel(id);
  }

  /** The payer declines an open request of this user. */
  async declineRequest(id: string, payer_user_id: string): Promise<RequestChangeResult> {
    if (!this.schemaReady) return { code: "not_found" };
    return this.desk.decline(id, payer_user_id);
  }

  /** What a pay of request `id` by `payer_user_id` would pay. */
  async quoteRequest(id: string, payer_user_id: string): Promise<PayQuote> {
    if (!this.schemaReady) return { code: "not_found" };
    return this.desk.quote(id, payer_user_id);
  }

  /** A pay's claim on one of this user's requests (called by the payer's coordinator). */
  async claimRequest(id: string, payer_user_id: string, movement_id: string, amount: number) {
    return this.desk.claim(id, payer_user_id, movement_id, amount);
  }

  /** A claimed pay was refused. */
  async unclaimRequest(id: string, movement_id: string) {
    return this.desk.unclaim(id, movement_id);
  }

  /** A claimed pay moved the money. */
  async settleRequest(id: string, movement_id: string) {
    return this.desk.settle(id, movement_id);
  }

  /** A requester asks this user (the payer) to admit new requests into the inbox, within today's limit. */
  async admitRequests(ids: string[], requester_id: string) {
    this.ensureSchema();
    return this.desk.admit(ids, requester_id);
  }

  /** The requester takes back admitted requests it did not create after all. */
  async dropAdmittedRequests(ids: string[]) {
    if (!this.schemaReady) return { code: "dropped" as const };
    return this.desk.dropAdmitted(ids);
  }

  /** A request to this user changed (or was created): inbox and live feed. */
  async requestHeard(view: PaymentRequestView, requester_id: string) {
    this.ensureSchema();
    return this.desk.heard(view, requester_id);
  }

  /**
   * Pays request `req.payment_request_id` from one of the user's wallets, once per idempotency key. The key is
   * checked first; a request that does not exist or is not the caller's to pay is then refused without
   * recording anything (that answer cannot change). Otherwise the pay is a transfer to the requester's wallet
   * that claims the request before any money is reserved (coordinator/steps.ts, runPayment).
   */
  async payRequest(req: PayRequest): Promise<MovementOutcome | { code: "not_found" | "forbidden" }> {
    return this.driver.pay(req);
  }

  /**
   * Where this user's contacts come from, as far as this object knows them: the recipients of their most recent
   * succeeded transfers (by wallet), and the people of their most recent requests both ways (by user), each
   * marked when it was named by phone only. The edge adds who paid them (from their wallets) and the names;
   * `asked` are the ids its incoming entries name (each one's transfer and the transfer it refunds), checked by id
   * here, since the transfer or request they answer may be older than the latest `scan_max` rows.
   */
  async contactSources(scan_max: number, asked: string[] = []): Promise<ContactSources> {
    // The edge names at most two ids per incoming entry it read (its transfer and the one it refunds), `scan_max`
    // entries per wallet: ids past that bound are not looked up, so one call's work stays bounded.
    const asked_max = 2 * scan_max * this.config().wallets_max_per_user;
    if (!this.schemaReady) return { wallets: [], users: [], phone_only: [] };
    // Successes still waiting for the outbox are in memory, not yet written as succeeded.
    const waiting = [...this.finished.values()].filter((m) => m.kind === "transfer" && m.state === "succeeded");
    const wallets = [...waiting, ...this.q.recentSent.all({ limit: scan_max })].flatMap((s) =>
      s.to_wallet_id === null
        ? []
        : [
            {
              wallet_id: s.to_wallet_id,
              at_ms: s.created_at_ms,
              by_phone: sentToPhone(s.recipient),
              transfer_id: s.id,
              refund_of: s.refund_of,
            },
          ],
    );
    const users = this.desk.people(scan_max);
    const named = [
      ...wallets.flatMap((w) => (w.by_phone ? [w.transfer_id] : [])),
      ...users.flatMap((u) => (u.by_phone && u.transfer_id !== null ? [u.transfer_id] : [])),
    ];
    const unsure = [...wallets.flatMap((w) => (w.refund_of === null ? [] : [w.refund_of])), ...asked.slice(0, asked_max)];
    return { wallets, users, phone_only: [...new Set([...named, ...unsure.filter((id) => this.phoneOnly(id))])] };
  }

  /** Whether transfer `id` is one this user sent to a phone, or one that paid their request addressed to a phone. */
  private phoneOnly(id: string): boolean {
    const sent = this.movement(id);
    if (sent !== null) return sent.kind === "transfer" && sentToPhone(sent.recipient);
    return this.desk.paidByPhone(id);
  }

  /**
   * A page of this user's sent transfers, newest first, before `before` (exclusive), each with its
   * `refunded_amount`. Successes still waiting for the outbox are read from memory, where they are decided.
   */
  async listSent(input: SentQuery): Promise<MovementView[]> {
    if (!this.schemaReady) return [];
    return sentTransfers(this.storage.sql, this.finished, (id) => this.refundRooms.refunded(id), input);
  }

  // ---- Events (coordinator/events.ts) ---------------------------------------------------------------------

  /** A page of this user's events after `after`, oldest first, of `types` (null: all). */
  async listEvents(after: number, types: EventType[] | null, limit: number): Promise<EventRow[]> {
    if (!this.schemaReady) return [];
    return this.events.page(after, types, limit);
  }

  /**
   * Another user's coordinator records events of a change that concerns this user too (the recipient of their
   * transfer): appended once per change key, so a repeat (a retried relay, a re-run after a crash) adds nothing.
   */
  async appendEvents(events: NewEvent[]): Promise<{ code: "appended" }> {
    this.ensureSchema();
    const now_ms = Date.now();
    await this.commits.run(() => this.relay.appendOwn(events, now_ms));
    return { code: "appended" };
  }

  // ---- Webhooks (coordinator/webhook-store.ts; the attempts run in the queue consumer, src/webhooks) -------

  /** Registers an endpoint (its secret arrives sealed), unless the user has WEBHOOK_ENDPOINTS_MAX_PER_USER. */
  async createWebhookEndpoint(
    input: NewEndpointInput,
  ): Promise<{ code: "created"; webhook_endpoint: EndpointView } | { code: "limit_exceeded"; max: number }> {
    this.ensureSchema();
    return this.hooks.create(input);
  }

  /** The user's endpoints, oldest first (at most WEBHOOK_ENDPOINTS_MAX_PER_USER). */
  async listWebhookEndpoints(): Promise<EndpointView[]> {
    if (!this.schemaReady) return [];
    return this.hooks.list();
  }

  /** Removes an endpoint; its pending deliveries end. */
  async deleteWebhookEndpoint(id: string): Promise<{ code: "deleted" | "not_found" }> {
    if (!this.schemaReady) return { code: "not_found" };
    return this.hooks.remove(id);
  }

  /** A page of an endpoint's deliveries, newest first. */
  async listDeliveries(
    endpoint_id: string,
    before: DeliveryPosition | null,
    limit: number,
  ): Promise<{ code: "ok"; items: DeliveryView[]; last: DeliveryPosition | null } | { code: "not_found" }> {
    if (!this.schemaReady) return { code: "not_found" };
    return this.hooks.deliveries(endpoint_id, before, limit);
  }

  /** A manual retry of one delivery of one of the user's endpoints: pending again and enqueued now. */
  async retryDelivery(
    endpoint_id: string,
    delivery_id: string,
  ): Promise<{ code: "accepted"; delivery: DeliveryView } | { code: "not_found" }> {
    if (!this.schemaReady) return { code: "not_found" };
    return this.hooks.retry(endpoint_id, delivery_id);
  }

  /** The queue consumer starts an attempt: the job (with the sealed secret and the event's body), or skip. */
  async beginDeliveryAttempt(delivery_id: string): Promise<(AttemptJob & { body: string }) | { code: "skip" }> {
    if (!this.schemaReady) return { code: "skip" };
    return this.hooks.begin(delivery_id);
  }

  /** The queue consumer reports an attempt; the row says what comes next (the alarm enqueues it when due). */
  async endDeliveryAttempt(
    delivery_id: string,
    result: AttemptResult,
  ): Promise<{ code: "recorded"; status: DeliveryView["status"] | null }> {
    if (!this.schemaReady) return { code: "recorded", status: null };
    return this.hooks.end(delivery_id, result);
  }

  /** Pending deliveries (for tests). */
  async pendingDeliveries(): Promise<number> {
    return this.schemaReady ? this.webhooks.pendingCount() : 0;
  }

  // ---- Refund rooms of this user's transfers (called by the refunder's coordinator) ----------------------

  /** Claims room for a refund of one of this user's transfers (coordinator/refund-desk.ts). */
  async claimRefund(input: ClaimRefundInput): Promise<ClaimRefundResult> {
    return this.refundDesk.claim(input);
  }

  /** The refund's money has moved: its room counts, and the sender gets `transfer.refunded` (refund-desk.ts). */
  async settleRefund(refund_id: string, transfer_id: string): Promise<SettledRefund> {
    return this.refundDesk.settle(refund_id, transfer_id);
  }

  /** The refund was refused after its claim; its room is given back. */
  async releaseRefund(refund_id: string, reason: string): Promise<{ code: "released" | "exists" }> {
    return this.refundDesk.release(refund_id, reason);
  }

  /** A movement with the entries it produced, for its sender or its recipient only (receipts). */
  async getMovementEntries(id: string, requester: { user_id: string; wallet_ids: string[] }): Promise<MovementEntriesResult> {
    const m = this.movement(id);
    if (m === null) return { code: "not_found" };
    if (!isParty(m, requester)) return { code: "forbidden" };
    return { code: "ok", movement: movementView(m), entries: JSON.parse(m.entries ?? "[]") as ProducedEntry[] };
  }

  /**
   * Whether D1 is still owed movement `id` (it is unfinished, or finished and waiting for the outbox), for the
   * verifier: an entry D1 lacks is on its way, not missing, while its movement is owed, however long D1 was down.
   */
  async outboxState(id: string): Promise<{ code: "owed" | "delivered" | "not_found" }> {
    const m = this.movement(id);
    if (m === null) return { code: "not_found" };
    return { code: m.state === "started" || m.outbox_pending === 1 || this.finished.has(id) ? "owed" : "delivered" };
  }

  /** Unfinished movements and undelivered outbox rows: what recovery still owes (for tests and audits). */
  async pending(): Promise<{ started: number; outbox: number; relays: number }> {
    if (!this.schemaReady) return { started: 0, outbox: 0, relays: 0 };
    return { ...this.recovery.pendingCounts(), relays: this.events.relaysOwed().count };
  }

  /** What this coordinator holds in memory for D1 (bounded: see FINISHED_MAX_BATCHES in coordinator/finished-successes.ts), for tests. */
  async memory(): Promise<{ finished: number; finished_max: number; alarm_failures: number; outbox_failures: number }> {
    return {
      finished: this.finished.size,
      finished_max: this.successes.max(),
      alarm_failures: this.recovery.failureCount(),
      outbox_failures: this.outbox.failureCount,
    };
  }

  /**
   * Resumes every unfinished movement that is due, delivers the outbox, forgets expired idempotency keys and
   * schedules itself again while anything is left (coordinator/recovery.ts). Safe to run any number of times.
   */
  override async alarm(): Promise<void> {
    this.clock.fired();
    if (!this.schemaReady) return;
    await this.recovery.run();
  }

  /**
   * Wakes the alarm if anything is owed and no alarm can be trusted to come: the Cron sweep's safety net for a
   * coordinator whose alarm was lost while its disk was full and that nobody has called since.
   */
  async wake(): Promise<{ code: "idle" | "scheduled" }> {
    if (!this.schemaReady) return { code: "idle" };
    return this.recovery.wake();
  }

  /** Creates the tables on the first write (and migrates them on every start once they exist). */
  private ensureSchema(): void {
    if (this.schemaReady) return;
    migrate(this.storage, COORDINATOR_MIGRATIONS);
    this.schemaReady = true;
  }

  /** Fails here if a test armed this point: by throwing, or by aborting the whole object. */
  private failpoint(name: Failpoint): void {
    const mode = this.failpoints.get(name);
    if (mode === undefined) return;
    this.failpoints.delete(name);
    if (mode === "fill_disk") {
      this.faults.disk_full = true;
      return;
    }
    if (mode === "abort") this.ctx.abort(`failpoint ${name}`);
    throw new StepUnavailable(`failpoint ${name}`);
  }

  private movement(id: string): MovementRow | null {
    if (!this.schemaReady) return null;
    return this.finished.get(id) ?? this.q.byId.get({ id }) ?? null;
  }

  private config(): Config {
    return configOf(this.env);
  }

  private retryPolicy(): RetryPolicy {
    const c = this.config();
    return { max_attempts: c.wallet_call_max_attempts, base_ms: c.wallet_call_retry_base_ms, max_ms: c.wallet_call_retry_max_ms };
  }
}
