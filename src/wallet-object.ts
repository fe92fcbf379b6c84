/**
 * WalletObject: one Durable Object per wallet, named by the wallet id. It is the only writer of its balance,
 * so it serialises every debit and credit of that wallet without locks. Each change is planned by the pure
 * functions in `wallet/ledger.ts` and written in its own transaction (a savepoint when it shares a group
 * commit with other operations, db/group-commit.ts): the balance, the hold and the hash-chained entry commit
 * together or not at all.
 *
 * Storage is created lazily by `init()`: a lookup of an unknown wallet id reads nothing and writes nothing,
 * so probing random ids cannot make the service allocate storage.
 *
 * It is also the live feed's server: the owner's WebSockets are accepted with the hibernation API, so an idle
 * wallet sleeps with its sockets open, and every committed change is pushed to each of them (wallet/sockets.ts
 * keeps each socket within its session and its unread budget). Messages sent right after a write are held by
 * the output gate until that write is durable, and a write that fails resets the object before anything is
 * sent, so no event describes a change that did not happen.
 */
import { DurableObject } from "cloudflare:workers";
import { drizzle, type DrizzleSqliteDODatabase } from "drizzle-orm/durable-sqlite";
import { configOf } from "./config";
import { hasSchema, migrate } from "./db/do-migrations";
import { GroupCommit } from "./db/group-commit";
import type { EntryView } from "./domain/views";
import {
  assertWallet,
  entryView,
  newWallet,
  planCapture,
  planCredit,
  planDeposit,
  planRelease,
  planReserve,
  planWithdraw,
  walletView,
  type Plan,
  type WalletLimits,
} from "./wallet/ledger";
import type {
  CaptureInput,
  ChainHeadResult,
  MarkVerifiedResult,
  CaptureResult,
  CreditInput,
  CreditResult,
  DepositInput,
  DepositResult,
  HistoryInput,
  HistoryResult,
  InitInput,
  InitResult,
  OpenHold,
  ReleaseInput,
  ReleaseResult,
  ReserveInput,
  ReserveResult,
  SnapshotResult,
  WithdrawInput,
  WithdrawResult,
} from "./wallet/rpc";
import type {
  BalanceAtResult,
  EntryRangeInput,
  EntryRangeResult,
  FindHistoryInput,
  StatementBoundsInput,
  StatementBoundsResult,
} from "./wallet/find-rpc";
import { entryAtOrBefore, entryLink, filteredPage, seqRangeOf } from "./wallet/history-queries";
import { GENESIS_HASH } from "./domain/hash-chain";
import { WALLET_MIGRATIONS, walletTable, type EntryRow, type HoldRow, type WalletRow } from "./wallet/schema";
import { prepareWalletStatements, type WalletStatements } from "./wallet/statements";
import { balanceEvent, entryEvent } from "./wallet/live";
import { LiveSockets, readUpgrade, type EntryReader } from "./wallet/sockets";
import { log } from "./observability/log";

/** The Durable Object that owns one wallet's balance, holds and history. */
export class WalletObject extends DurableObject<Env> {
  private readonly db: DrizzleSqliteDODatabase;
  private readonly q: WalletStatements;
  private readonly commits: GroupCommit;
  /** The live feed's sockets (wallet/sockets.ts). */
  private readonly live: LiveSockets;
  /** The entries a replay sends, read straight from storage. */
  private readonly readEntries: EntryReader;
  /** The wallet row as last committed; null until `init()` has run. */
  private wallet: WalletRow | null = null;
  /** When this instance was constructed: a new value after a wake-up shows the object had hibernated. */
  readonly instance_started_ms = Date.now();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.db = drizzle(ctx.storage);
    this.q = prepareWalletStatements(this.db);
    const config = configOf(env);
    this.commits = new GroupCommit(ctx.storage, config.group_commit_max_ops);
    this.live = new LiveSockets(ctx, {
      max_sockets: config.live_max_sockets_per_wallet,
      max_inbound_bytes: config.live_max_inbound_bytes,
      max_inbound_per_minute: config.live_max_inbound_per_minute,
      resume_max_entries: config.live_resume_max_entries,
      max_unread_bytes: config.live_max_unread_bytes,
    });
    this.readEntries = (after, upto, limit) => this.q.entriesAfter.all({ after, upto, limit }).map(entryView);
    // Heartbeats are answered by the runtime, without waking a hibernating object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('{"type":"ping"}', '{"type":"pong"}'));
    void ctx.blockConcurrencyWhile(async () => {
      if (!hasSchema(ctx.storage.sql)) return;
      migrate(ctx.storage, WALLET_MIGRATIONS);
      this.wallet = this.readWallet();
    });
  }

  /** Creates the wallet once; a repeat with the same owner and currency is `exists`. */
  async init(input: InitInput): Promise<InitResult> {
    if (this.wallet !== null) {
      const same = this.wallet.id === input.wallet_id && this.wallet.owner_id === input.owner_id && this.wallet.currency === input.currency;
      return same ? { code: "exists", wallet: walletView(this.wallet) } : { code: "conflict" };
    }
    migrate(this.ctx.storage, WALLET_MIGRATIONS);
    const row = newWallet(input.wallet_id, input.owner_id, input.currency, Date.now());
    assertWallet(row);
    this.db.insert(walletTable).values(row).run();
    this.wallet = row;
    return { code: "created", wallet: walletView(row) };
  }

  /** The wallet's balances now. */
  async snapshot(): Promise<SnapshotResult> {
    return this.wallet === null ? { code: "not_found" } : { code: "ok", wallet: walletView(this.wallet) };
  }

  /** One page of history, newest first, by `seq`; O(page) at any length thanks to the primary key. */
  async history(input: HistoryInput): Promise<HistoryResult> {
    if (this.wallet === null) return { code: "not_found" };
    const limit = Math.max(1, Math.min(input.limit, 1_000));
    const before = input.before_seq ?? Number.MAX_SAFE_INTEGER;
    const rows = this.q.historyPage.all({ before, limit: limit + 1 });
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    const next_before_seq = rows.length > limit && last !== undefined ? last.seq : null;
    return { code: "ok", items: page.map(entryView), next_before_seq };
  }

  /**
   * One page of history narrowed by kind, time range and counterparty (wallet/history-queries.ts), newest
   * first; O(page) at any length, on the indexes of the third migration step.
   */
  async findHistory(input: FindHistoryInput): Promise<HistoryResult> {
    const w = this.wallet;
    if (w === null) return { code: "not_found" };
    const limit = Math.max(1, Math.min(input.limit, 1_000));
    const before = input.before_seq ?? Number.MAX_SAFE_INTEGER;
    return { code: "ok", ...filteredPage(this.ctx.storage.sql, w.last_seq, input.filter, before, limit) };
  }

  /** The balance just after the last entry at or before `at` (an ISO instant as `toISOString()` writes it). */
  async balanceAt(at: string): Promise<BalanceAtResult> {
    if (this.wallet === null) return { code: "not_found" };
    const entry = entryAtOrBefore(this.ctx.storage.sql, at);
    return { code: "ok", balance: entry?.balance_after ?? 0, seq: entry?.seq ?? 0 };
  }

  /** Where a statement's period lies in the chain, with its opening balance and chain head (wallet/find-rpc.ts). */
  async statementBounds(input: StatementBoundsInput): Promise<StatementBoundsResult> {
    const w = this.wallet;
    if (w === null) return { code: "not_found" };
    const sql = this.ctx.storage.sql;
    const { lo, hi } = seqRangeOf(sql, w.last_seq, input.from, input.to);
    // With no entry in the period, the chain head is the last entry before it, which is lo - 1.
    const head_seq = hi >= lo ? hi : lo - 1;
    const head = head_seq >= 1 ? entryLink(sql, head_seq) : undefined;
    const before = lo > 1 ? entryLink(sql, lo - 1) : undefined;
    return {
      code: "ok",
      currency: w.currency,
      lo,
      hi,
      opening_balance: before?.balance_after ?? 0,
      chain_head: head === undefined ? { seq: 0, hash: GENESIS_HASH } : { seq: head_seq, hash: head.hash },
    };
  }

  /** Entries `after_seq + 1 ..= upto_seq`, oldest first, at most `limit` (for statements, read page by page). */
  async entryRange(input: EntryRangeInput): Promise<EntryRangeResult> {
    if (this.wallet === null) return { code: "not_found" };
    const limit = Math.max(1, Math.min(input.limit, 1_000));
    return { code: "ok", items: this.q.entriesAfter.all({ after: input.after_seq, upto: input.upto_seq, limit }).map(entryView) };
  }

  /** Entries with `seq` above `after_seq`, oldest first, at most `limit` (for replays and audits). */
  async entriesAfter(after_seq: number, limit: number): Promise<EntryView[]> {
    if (this.wallet === null) return [];
    return this.q.entriesAfter
      .all({ after: after_seq, upto: Number.MAX_SAFE_INTEGER, limit: Math.max(1, Math.min(limit, 1_000)) })
      .map(entryView);
  }

  /** Where the chain ends and what is held, for `GET /audit/verify`. */
  async chainHead(): Promise<ChainHeadResult> {
    const w = this.wallet;
    if (w === null) return { code: "not_found" };
    const oldest = this.q.openHolds.all()[0];
    return {
      code: "ok",
      last_seq: w.last_seq,
      head_hash: w.head_hash,
      balance: w.balance,
      held: w.held,
      oldest_hold_created_at_ms: oldest?.created_at_ms ?? null,
    };
  }

  /**
   * Records that the self-audit recomputed D1's chain through `seq` and it ends in `hash`, after checking
   * that this wallet's own entry at `seq` has that hash; then tells the live feed.
   */
  async markVerified(seq: number, hash: string): Promise<MarkVerifiedResult> {
    const w = this.wallet;
    if (w === null) return { code: "not_found" };
    if (!Number.isSafeInteger(seq) || seq < 0 || seq > w.last_seq)
      return { code: "mismatch", detail: `seq ${seq} is beyond this wallet's chain (${w.last_seq})` };
    if (seq <= w.verified_seq) return { code: "unchanged" };
    const own = this.q.entryAt.get({ seq });
    if (own === undefined || own.hash !== hash)
      return {
        code: "mismatch",
        detail: `this wallet's entry ${seq} hashes to ${own?.hash.slice(0, 12) ?? "nothing"}…, D1's to ${hash.slice(0, 12)}…`,
      };
    const next: WalletRow = { ...w, verified_seq: seq, verified_hash: hash };
    assertWallet(next);
    this.q.updateWallet.run(next);
    this.wallet = next;
    this.broadcast(next, undefined);
    return { code: "marked" };
  }

  /** Holds still open, oldest first. */
  async openHolds(): Promise<OpenHold[]> {
    if (this.wallet === null) return [];
    return this.q.openHolds.all();
  }

  async reserve(input: ReserveInput): Promise<ReserveResult> {
    return this.operate((w) => planReserve(w, this.hold(input.transfer_id), input, this.limits(), Date.now()));
  }

  async capture(input: CaptureInput): Promise<CaptureResult> {
    return this.operate((w) => planCapture(w, this.hold(input.transfer_id), this.entryFor(input.transfer_id), input, Date.now()));
  }

  async release(input: ReleaseInput): Promise<ReleaseResult> {
    return this.operate((w) => planRelease(w, this.hold(input.transfer_id), input, Date.now()));
  }

  async credit(input: CreditInput): Promise<CreditResult> {
    return this.operate((w) => planCredit(w, this.entryFor(input.transfer_id), input, this.limits(), Date.now()));
  }

  async deposit(input: DepositInput): Promise<DepositResult> {
    return this.operate((w) => planDeposit(w, this.entryFor(input.transfer_id), input, this.limits(), Date.now()));
  }

  async withdraw(input: WithdrawInput): Promise<WithdrawResult> {
    return this.operate((w) => planWithdraw(w, this.entryFor(input.transfer_id), input, this.limits(), Date.now()));
  }

  /**
   * One money operation: planned against the wallet as the operations before it in its group left it, and
   * written with them in one commit (db/group-commit.ts). A wallet that was never created is `not_found`.
   */
  private operate<R>(plan: (w: WalletRow) => Plan<R>): Promise<R | { code: "not_found" }> {
    return this.commits.run(() => (this.wallet === null ? { code: "not_found" as const } : this.apply(plan(this.wallet))));
  }

  /**
   * Writes a plan's rows and only then adopts the new wallet row, so memory never runs ahead of storage. It
   * runs inside a `commits` operation, which is its own transaction (or savepoint): the balance, the hold and
   * the entry are written together or not at all, and there is no `await` here, so nothing else runs between.
   */
  private apply<R>(plan: Plan<R>): R {
    const { wallet, hold, entry } = plan;
    if (wallet === undefined && hold === undefined && entry === undefined) return plan.result;
    if (wallet !== undefined) assertWallet(wallet);
    if (wallet !== undefined) this.q.updateWallet.run(wallet);
    if (hold !== undefined) this.q.upsertHold.run(hold);
    if (entry !== undefined) this.q.insertEntry.run(entry);
    if (wallet !== undefined) this.wallet = wallet;
    if (wallet !== undefined) this.broadcast(wallet, entry);
    return plan.result;
  }

  /**
   * The live feed's upgrade, reached only through the edge, which has authenticated the session and names the
   * user, the session and its expiry in headers (wallet/live.ts). `?after_seq=N` replays the entries after N
   * before any live event.
   */
  override async fetch(request: Request): Promise<Response> {
    const w = this.wallet;
    if (w === null) return new Response(null, { status: request.headers.get("upgrade")?.toLowerCase() === "websocket" ? 404 : 426 });
    const now_ms = Date.now();
    const upgrade = readUpgrade(request, w.owner_id, now_ms);
    if (!upgrade.ok) return new Response(null, { status: upgrade.status });
    if (!this.live.hasRoom()) return new Response(null, { status: 429 });
    const client = this.live.accept(upgrade.connection, walletView(w), this.readEntries, now_ms);
    return new Response(null, { status: 101, webSocket: client });
  }

  /**
   * Closes the live sockets opened with any of these sessions (their `liveSessionId`s), which the user's
   * coordinator has just ended. Touches no storage, so a wallet that was never created stays unallocated.
   */
  async closeSessions(session_ids: string[]): Promise<{ closed: number }> {
    return { closed: this.live.closeSessions(session_ids) };
  }

  /**
   * Pushes an event that is not a change of this wallet (a payment request's new status) to its sockets. The
   * caller sends it after its own change is durable; nothing is stored here, and a wallet that was never
   * created has no sockets.
   */
  async pushEvent(event: string): Promise<{ code: "sent" }> {
    if (this.wallet !== null) this.live.broadcast([event], Date.now());
    return { code: "sent" };
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    this.live.onMessage(ws, message, this.readEntries, Date.now());
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    try {
      ws.close(code === 1005 ? 1000 : code, reason);
    } catch {
      // Already closed by the runtime.
    }
  }

  override async webSocketError(_ws: WebSocket, error: unknown): Promise<void> {
    log("warn", "live socket error", { wallet_id: this.wallet?.id, error: String(error) });
  }

  /** Pushes a committed change to every open socket of this wallet: the balance, then the entry if any. */
  private broadcast(wallet: WalletRow, entry: EntryRow | undefined): void {
    const balance = balanceEvent(walletView(wallet));
    this.live.broadcast(entry === undefined ? [balance] : [balance, entryEvent(entryView(entry))], Date.now());
  }

  private readWallet(): WalletRow | null {
    const row = this.db.select().from(walletTable).get();
    if (row === undefined) return null;
    assertWallet(row);
    return row;
  }

  private hold(transfer_id: string): HoldRow | null {
    return this.q.hold.get({ transfer_id }) ?? null;
  }

  private entryFor(transfer_id: string): EntryRow | null {
    return this.q.entryFor.get({ transfer_id }) ?? null;
  }

  private limits(): WalletLimits {
    const config = configOf(this.env);
    return { daily_limit_minor: config.daily_limit_minor, max_balance_minor: config.max_balance_minor };
  }
}
