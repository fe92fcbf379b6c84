/**
 * The payment-request side of a user's coordinator: as requester it creates requests (one, or a split's
 * several in one transaction), answers pays' claims, declines, cancels and expiry, and tells each payer of every
 * change; as payer it keeps the inbox, admits new requests within the daily limit and lists them. The state
 * machine itself is coordinator/payment-requests.ts, a request's row and view are request-rows.ts; this file is
 * their wiring to the other objects.
 */
import type { Config } from "../config";
import { newSplitId } from "../domain/ids";
import { assertAmount } from "../domain/money";
import { errorText, log } from "../observability/log";
import type { TransferCoordinator } from "../transfer-coordinator";
import type { Directory } from "./directory";
import { IncomingStore, RequestStore, type ListPosition, type RequestStatus } from "./payment-requests";
import type { PaymentRequestRow } from "./schema";
import type { NewEvent } from "./events";
import { newRequestRow, requestView, sealedRequestEvents } from "./request-rows";
import type {
  CreateRequestsInput,
  CreateRequestsResult,
  PayQuote,
  PaymentRequestView,
  RequestChangeResult,
  RequestReadResult,
} from "./request-views";

/** Requests whose payer has not heard of their latest status, told per alarm run. */
const NOTICES_PER_RUN = 100;

/** What the desk needs from its coordinator. */
export interface DeskPorts {
  env: Env;
  config: () => Config;
  storage: DurableObjectStorage;
  directory: Directory;
  /** The user this coordinator serves (null before their first session). */
  self: () => string | null;
  /** This user's wallet ids. */
  wallets: () => string[];
  /** Makes sure the alarm fires by then. */
  alarmBy: (at_ms: number) => Promise<void>;
  /** Appends events of this user, once per change key; runs inside the caller's transaction. */
  appendEvents: (events: NewEvent[]) => void;
}

/** The payment requests of one user's coordinator, as requester and as payer. */
export class RequestDesk {
  constructor(
    private readonly requests: RequestStore,
    private readonly incoming: IncomingStore,
    private readonly ports: DeskPorts,
  ) {}

  // ---- As requester ---------------------------------------------------------------------------------------

  /** Creates one request per share, all or none, after each payer's coordinator admitted them. */
  async create(input: CreateRequestsInput): Promise<CreateRequestsResult> {
    for (const s of input.shares) assertAmount(s.amount);
    const refused = await this.refusal(input);
    if (refused !== null) return refused;
    const currency = await this.ports.directory.walletCurrency(input.wallet_id);
    if (currency === null) return { code: "not_found" };
    const now_ms = Date.now();
    const split_id = input.split ? newSplitId() : null;
    const rows = input.shares.map((s) => newRequestRow(input, s, currency, split_id, now_ms));
    const admitted = await this.admitAll(rows);
    if (admitted !== null) return admitted;
    const max = this.ports.config().requests_max_open_per_user;
    const written = this.tryWrite("requests not created", () => {
      if (this.requests.countOpen(now_ms) + rows.length > max) return false;
      this.requests.insert(rows);
      return true;
    });
    if (written === null) {
      // Storage refused the rows (a full disk): the payers' admissions are taken back, as for a refusal.
      await this.takeBack(rows);
      return { code: "unavailable" };
    }
    if (!written) {
      await this.takeBack(rows);
      return { code: "limit_exceeded", field: "REQUESTS_MAX_OPEN_PER_USER", max };
    }
    await this.ports.alarmBy(Math.min(...rows.map((r) => r.expires_at_ms)));
    await this.notify(rows);
    return { code: "created", split_id, requests: await Promise.all(rows.map((r) => this.view(r))) };
  }

  /** A request, for its requester (this user) or its payer. */
  async read(id: string, viewer_id: string): Promise<RequestReadResult> {
    const row = this.current(id);
    if (row === null || (viewer_id !== row.payer_user_id && viewer_id !== this.ports.self())) return { code: "not_found" };
    return { code: "ok", payment_request: await this.view(row) };
  }

  /** The requests of `ids` this viewer may see (for the payer's inbox), in the order asked. */
  async readMany(ids: string[], viewer_id: string): Promise<PaymentRequestView[]> {
    const out: PaymentRequestView[] = [];
    for (const id of ids) {
      const found = await this.read(id, viewer_id);
      if (found.code === "ok") out.push(found.payment_request);
    }
    return out;
  }

  /** A page of this user's requests, newest first. */
  async listOutgoing(status: RequestStatus | null, after: ListPosition | null, limit: number): Promise<PaymentRequestView[]> {
    const rows = this.requests.list(status, after, limit, Date.now());
    return Promise.all(rows.map((r) => this.view(r)));
  }

  /** The requester withdraws an open request. */
  async cancel(id: string): Promise<RequestChangeResult> {
    return this.change(() => this.requests.resolve(id, "cancelled", {}, Date.now()));
  }

  /** The payer refuses an open request; the requester may not (403), anyone else learns nothing (404). */
  async decline(id: string, payer_user_id: string): Promise<RequestChangeResult> {
    const result = await this.change(() => this.requests.resolve(id, "declined", { payer_user_id }, Date.now()));
    if (result.code === "forbidden" && payer_user_id !== this.ports.self()) return { code: "not_found" };
    return result;
  }

  /** What a pay by `payer_user_id` would pay, read before the pay is recorded. */
  quote(id: string, payer_user_id: string): PayQuote {
    const row = this.current(id);
    if (row === null) return { code: "not_found" };
    if (row.payer_user_id !== payer_user_id) return { code: row.payer_user_id === this.ports.self() ? "forbidden" : "not_found" };
    return { code: "ok", amount: row.amount, currency: row.currency, requester_wallet_id: row.requester_wallet_id, memo: row.memo };
  }

  /** A pay's claim (see payment-requests.ts). */
  async claim(
    id: string,
    payer_user_id: string,
    movement_id: string,
    amount: number,
  ): Promise<{ code: "claimed" | "exists" | "request_not_open" | "not_found" | "forbidden" }> {
    const result = this.ports.storage.transactionSync(() => this.requests.claim(id, payer_user_id, movement_id, Date.now()));
    if ((result.code === "claimed" || result.code === "exists") && result.row.amount !== amount)
      throw new Error(`invariant: request ${id} is for ${result.row.amount}, the pay for ${amount}`);
    if (result.code === "request_not_open" && result.row.notify_pending === 1) await this.notify([result.row]);
    return { code: result.code };
  }

  /** A claimed pay was refused: the request is open again, or expired. */
  async unclaim(id: string, movement_id: string): Promise<{ code: "unclaimed" }> {
    const row = this.ports.storage.transactionSync(() => this.requests.unclaim(id, movement_id, Date.now()));
    if (row !== null && row.notify_pending === 1) await this.notify([row]);
    return { code: "unclaimed" };
  }

  /** A claimed pay moved the money: the request is paid. */
  async settle(id: string, movement_id: string): Promise<{ code: "settled" }> {
    const row = this.ports.storage.transactionSync(() => this.requests.settle(id, movement_id, Date.now()));
    if (row.notify_pending === 1) await this.notify([row]);
    return { code: "settled" };
  }

  /** The alarm's share: write due expiries and tell payers what they have not heard. True when all was told. */
  async alarmWork(now_ms: number): Promise<boolean> {
    this.ports.storage.transactionSync(() => this.requests.expireDue(now_ms, NOTICES_PER_RUN));
    const owed = this.requests.unnotified(NOTICES_PER_RUN);
    return (await this.notify(owed)) === owed.length;
  }

  /** Whether an expiry is due now or a payer is owed a notice: work for the alarm (and the Cron's wake-up). */
  owesWork(now_ms: number): boolean {
    return this.requests.unnotified(1).length > 0 || (this.requests.nextExpiry() ?? Number.POSITIVE_INFINITY) <= now_ms;
  }

  /** When the alarm is next needed for requests: the next expiry, or soon when a payer is still owed a notice. */
  nextDue(now_ms: number): number | null {
    const expiry = this.requests.nextExpiry();
    const owed = this.requests.unnotified(1).length > 0 ? now_ms + this.ports.config().recovery_delay_ms : null;
    const all = [expiry, owed].filter((at): at is number => at !== null);
    return all.length === 0 ? null : Math.min(...all);
  }

  // ---- As payer -------------------------------------------------------------------------------------------

  /** Admits requests from `requester_id` into this user's inbox, within today's limit. */
  admit(ids: string[], requester_id: string): { code: "admitted" } | { code: "limit_exceeded"; max: number } {
    const max = this.ports.config().requests_max_per_payer_per_day;
    const ok = this.ports.storage.transactionSync(() => this.incoming.admit(ids, requester_id, max, Date.now()));
    return ok ? { code: "admitted" } : { code: "limit_exceeded", max };
  }

  /** Forgets admitted requests that were not created after all (another payer of the split refused). */
  dropAdmitted(ids: string[]): { code: "dropped" } {
    this.ports.storage.transactionSync(() => this.incoming.drop(ids));
    return { code: "dropped" };
  }

  /** A request to this user changed: the inbox records it and every wallet of the user's live feed hears it. */
  async heard(view: PaymentRequestView, requester_id: string): Promise<{ code: "heard" }> {
    const events = await this.sealedEvents(view);
    this.ports.storage.transactionSync(() => {
      this.incoming.heard(view.id, requester_id, view.status, Date.now());
      this.ports.appendEvents(events);
    });
    await this.push(this.ports.wallets(), view);
    return { code: "heard" };
  }

  /** A page of this user's inbox, newest first, each request as its requester's coordinator has it now. */
  async listIncoming(
    status: RequestStatus | null,
    after: ListPosition | null,
    limit: number,
  ): Promise<{ items: PaymentRequestView[]; last: ListPosition | null; full: boolean }> {
    const page = this.incoming.list(status, after, limit);
    const viewer = this.ports.self() ?? "";
    const byRequester = new Map<string, string[]>();
    for (const p of page) byRequester.set(p.requester_id, [...(byRequester.get(p.requester_id) ?? []), p.id]);
    const found = new Map<string, PaymentRequestView>();
    await Promise.all(
      [...byRequester].map(async ([requester_id, ids]) => {
        const views = await this.coordinator(requester_id).readRequests(ids, viewer);
        for (const v of views) found.set(v.id, v);
      }),
    );
    // The inbox's status was last heard; the requester's is the truth, so a filtered page is filtered again.
    const items = page.flatMap((p) => {
      const v = found.get(p.id);
      return v !== undefined && (status === null || v.status === status) ? [v] : [];
    });
    const lastRow = page[page.length - 1];
    return {
      items,
      last: lastRow === undefined ? null : { created_at_ms: lastRow.created_at_ms, id: lastRow.id },
      full: page.length === limit,
    };
  }

  /** The people of this user's most recent requests, both ways (for contacts). */
  people(limit: number): { user_id: string; at_ms: number; by_phone: boolean; transfer_id: string | null }[] {
    return [
      ...this.requests.recentPayers(limit),
      ...this.incoming.recentRequesters(limit).map((r) => ({ ...r, by_phone: false, transfer_id: null })),
    ];
  }

  /** Whether `transfer_id` paid one of this user's requests that named its payer by phone only (for contacts). */
  paidByPhone(transfer_id: string): boolean {
    return this.requests.paidByPhone(transfer_id);
  }

  // ---- Helpers ----------------------------------------------------------------------------------------------

  private async refusal(input: CreateRequestsInput): Promise<CreateRequestsResult | null> {
    if (!input.requester.wallet_ids.includes(input.wallet_id))
      return { code: (await this.ports.directory.walletExists(input.wallet_id)) ? "forbidden" : "not_found" };
    if (input.shares.some((s) => s.payer_user_id === input.requester.user_id)) return { code: "same_wallet" };
    const max = this.ports.config().requests_max_open_per_user;
    if (this.requests.countOpen(Date.now()) + input.shares.length > max)
      return { code: "limit_exceeded", field: "REQUESTS_MAX_OPEN_PER_USER", max };
    return null;
  }

  /** Asks each payer's coordinator to admit its requests; on a refusal, takes back what the others admitted. */
  private async admitAll(rows: PaymentRequestRow[]): Promise<CreateRequestsResult | null> {
    const self = this.ports.self() ?? "";
    const byPayer = groupBy(rows, (r) => r.payer_user_id);
    const answers = await Promise.all(
      [...byPayer].map(async ([payer, mine]) => ({
        payer,
        mine,
        answer: await this.coordinator(payer).admitRequests(
          mine.map((r) => r.id),
          self,
        ),
      })),
    );
    const refused = answers.find((a) => a.answer.code === "limit_exceeded");
    if (refused === undefined) return null;
    await this.takeBack(answers.filter((a) => a.answer.code === "admitted").flatMap((a) => a.mine));
    return { code: "limit_exceeded", field: "REQUESTS_MAX_PER_PAYER_PER_DAY", max: this.ports.config().requests_max_per_payer_per_day };
  }

  private async takeBack(rows: PaymentRequestRow[]): Promise<void> {
    for (const [payer, mine] of groupBy(rows, (r) => r.payer_user_id))
      await this.coordinator(payer)
        .dropAdmittedRequests(mine.map((r) => r.id))
        .catch((error: unknown) => log("warn", "admitted requests not dropped", { error: errorText(error) }));
  }

  private async change(run: () => ReturnType<RequestStore["resolve"]>): Promise<RequestChangeResult> {
    const result = this.tryWrite("request not changed", run);
    if (result === null) return { code: "unavailable" };
    if (result.code === "not_found" || result.code === "forbidden") return { code: result.code };
    if (result.row.notify_pending === 1) await this.notify([result.row]);
    if (result.code === "request_not_open") return { code: "request_not_open" };
    return { code: "ok", payment_request: await this.view(result.row) };
  }

  /**
   * The request as it stands, with a due expiry written first when storage allows. On a full disk the row is
   * read as stored: `view` still shows a due request expired, and whichever transition comes next writes it.
   */
  private current(id: string): PaymentRequestRow | null {
    const now_ms = Date.now();
    const read = this.tryWrite("request expiry not written", () => ({ row: this.requests.get(id, now_ms) }));
    return read === null ? this.requests.peek(id) : read.row;
  }

  /**
   * `run` in one transaction, or null (logged) when storage refuses it: SQLite's full disk is the failure a
   * coordinator lives through (src/db/faults.ts), and the transaction is rolled back whole, so nothing changed.
   */
  private tryWrite<T>(what: string, run: () => T): T | null {
    try {
      return this.ports.storage.transactionSync(run);
    } catch (error) {
      log("warn", what, { error: errorText(error) });
      return null;
    }
  }

  /**
   * Tells each request's payer (inbox and live feed) and the requester's wallet (live feed) of its current status,
   * after that status is durable. A payer that cannot be reached is told again by the alarm. Returns how many
   * payers heard.
   */
  private async notify(rows: PaymentRequestRow[]): Promise<number> {
    const self = this.ports.self() ?? "";
    let told = 0;
    for (const row of rows) {
      const view = await this.view(row);
      try {
        // The requester's events first: the status is durable, and stays owed (notify_pending) until both sides
        // have theirs, so an alarm re-run after a crash anywhere here appends whatever is missing.
        const events = await this.sealedEvents(view);
        this.ports.storage.transactionSync(() => this.ports.appendEvents(events));
        await this.coordinator(row.payer_user_id).requestHeard(view, self);
        this.ports.storage.transactionSync(() => this.requests.markNotified(row));
        told++;
      } catch (error) {
        log("warn", "payer not told of a request", { request: row.id, error: errorText(error) });
        await this.ports.alarmBy(Date.now() + this.ports.config().recovery_delay_ms);
      }
      await this.push([row.requester_wallet_id], view);
    }
    return told;
  }

  /** Sends the `payment_request` event to these wallets' sockets; a wallet that cannot be reached misses it. */
  private async push(wallet_ids: string[], view: PaymentRequestView): Promise<void> {
    const event = JSON.stringify({ type: "payment_request", payment_request: view });
    await Promise.all(
      wallet_ids.map((id) =>
        this.ports.env.WALLET.getByName(id)
          .pushEvent(event)
          .catch((error: unknown) => log("warn", "request event not pushed", { wallet_id: id, error: errorText(error) })),
      ),
    );
  }

  /** The request's contract view as of now (request-rows.ts). */
  private view(row: PaymentRequestRow): Promise<PaymentRequestView> {
    return requestView(this.ports.env, row, Date.now());
  }

  /** The events `view` owes, phones sealed (request-rows.ts). */
  private sealedEvents(view: PaymentRequestView): Promise<NewEvent[]> {
    return sealedRequestEvents(this.ports.env, view);
  }

  private coordinator(user_id: string): DurableObjectStub<TransferCoordinator> {
    return this.ports.env.COORDINATOR.getByName(user_id);
  }
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) out.set(key(item), [...(out.get(key(item)) ?? []), item]);
  return out;
}
