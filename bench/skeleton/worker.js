// The skeleton of a transfer: only the fixed work of the product's design, with no application code, so
// `npm run bench:skeleton` can show what the design itself costs on this machine, next to our service and the
// peer. It speaks just enough of the contract for the bench driver (register, deposit, transfer, read a
// wallet) and checks nothing it does not need to: no sessions (the token is the user id), no validation, no
// hash chain, no D1 audit mirror or outbox (except in the "audit" variant), no alarms, no live feed. Never deployed, never part of the
// service.
//
// A transfer is what our service does on its money path, in the same objects:
//   the Worker calls the sender's coordinator (one Durable Object per user), which, under the idempotency key,
//   VARIANT "design":    commits its intent, then reserves on the sender's wallet (a commit), credits the
//                        recipient's wallet (a commit) and captures on the sender's wallet (a commit):
//                        4 calls between objects, 4 commits;
//   VARIANT "no-intent": the same without the coordinator's intent: 4 calls, 3 commits;
//   VARIANT "one-phase": the intent, then a plain debit of the sender and a credit of the recipient, no hold:
//                        3 calls, 3 commits;
//   VARIANT "grouped":   "design", with operations that reach an object together sharing one commit (as our
//                        db/group-commit.ts does): fewer commits where transfers meet on one object.
//   VARIANT "audit":     "grouped", plus the other half of the design's fixed work: each movement's immutable audit
//                        row in D1, sent as our outbox sends it (one D1 batch per coordinator per 5 s or per 100
//                        movements, then the movements marked delivered in one commit). One row per movement, keyed
//                        by its id, with no other index and no entry mirror.
//   VARIANT "contract":  "audit", plus the events the contract requires of every success (v1.1, "Events"): each
//                        party's `transfer.succeeded` in its own user's event log (one coordinator per user, a
//                        gapless per-user seq, unique per change), durable before the answer. The sender's
//                        coordinator appends its own in a grouped commit while the recipient's coordinator
//                        appends the other (one more call between objects); both commits group with whatever
//                        else reaches those objects together. The least durable work a success may do under the
//                        contract's v1.1 events, with no webhooks or live feed (the bench has none subscribed).
//   VARIANT "wallet-events": "audit", with each party's event written instead inside the wallet commit that moves
//                        its money (the credit for the recipient, the capture for the sender): no commit or call
//                        of its own. A user's per-user seq would then be given when the user's coordinator first
//                        reads the event (on `GET /events`, or for a webhook); that read-side work is not in this
//                        bench. The least any design that keeps the contract's events can write per success.
// Each wallet keeps a balance, its holds and an entry per movement in its own SQLite, and checks funds.
import { DurableObject } from "cloudflare:workers";

/** The variants whose objects group the operations that reach them together into one commit. */
const GROUPED_VARIANTS = new Set(["grouped", "audit", "contract", "wallet-events"]);
/** The variants that send each movement's audit row to D1. */
const AUDITED_VARIANTS = new Set(["audit", "contract", "wallet-events"]);

const json = (status, body) => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

/**
 * Runs queued synchronous operations together on the next turn, in one transaction (one commit), each in its
 * own savepoint, and answers each caller with its own result.
 */
class Group {
  constructor(storage) {
    this.storage = storage;
    this.queue = [];
  }

  run(op) {
    return new Promise((resolve, reject) => {
      this.queue.push({ op, resolve, reject });
      if (this.queue.length === 1) setTimeout(() => this.flush(), 0);
    });
  }

  flush() {
    const batch = this.queue.splice(0);
    this.storage.transactionSync(() => {
      for (const { op, resolve, reject } of batch) {
        try {
          resolve(this.storage.transactionSync(op));
        } catch (error) {
          reject(error);
        }
      }
    });
  }
}

/** One wallet: balance, holds and entries, each change in one transaction. */
export class SkeletonWallet extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    const sql = ctx.storage.sql;
    sql.exec(`CREATE TABLE IF NOT EXISTS wallet (id INTEGER PRIMARY KEY CHECK (id = 1), balance INTEGER NOT NULL, held INTEGER NOT NULL) STRICT;
      CREATE TABLE IF NOT EXISTS holds (transfer_id TEXT PRIMARY KEY, amount INTEGER NOT NULL, state TEXT NOT NULL) STRICT;
      CREATE TABLE IF NOT EXISTS entries (seq INTEGER PRIMARY KEY, transfer_id TEXT NOT NULL UNIQUE, amount INTEGER NOT NULL, balance_after INTEGER NOT NULL) STRICT;
      CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, change_key TEXT NOT NULL UNIQUE, type TEXT NOT NULL,
        created_at TEXT NOT NULL, object TEXT NOT NULL) STRICT;
      INSERT OR IGNORE INTO wallet VALUES (1, 0, 0);`);
    this.walletEvents = env.SKELETON_VARIANT === "wallet-events";
    this.wallet = sql.exec("SELECT balance, held FROM wallet").one();
    // Every variant from "grouped" on groups its wallets' operations too.
    this.group = GROUPED_VARIANTS.has(env.SKELETON_VARIANT) ? new Group(ctx.storage) : null;
  }

  /** Runs `op` now, or with the others that reach this wallet together when grouping. */
  operate(op) {
    return this.group === null ? op() : this.group.run(op);
  }

  snapshot() {
    return { balance: this.wallet.balance, held: this.wallet.held };
  }

  credit(transfer_id, amount) {
    return this.operate(() => this.change(transfer_id, amount, () => true));
  }

  debit(transfer_id, amount) {
    return this.operate(() => this.change(transfer_id, -amount, () => this.wallet.balance - this.wallet.held >= amount));
  }

  reserve(transfer_id, amount) {
    return this.operate(() => this.hold(transfer_id, amount));
  }

  capture(transfer_id) {
    return this.operate(() => this.settle(transfer_id));
  }

  hold(transfer_id, amount) {
    const sql = this.ctx.storage.sql;
    if (sql.exec("SELECT 1 FROM holds WHERE transfer_id = ?", transfer_id).toArray().length > 0) return "exists";
    if (this.wallet.balance - this.wallet.held < amount) return "insufficient_funds";
    const next = { balance: this.wallet.balance, held: this.wallet.held + amount };
    this.ctx.storage.transactionSync(() => {
      sql.exec("INSERT INTO holds VALUES (?, ?, 'held')", transfer_id, amount);
      sql.exec("UPDATE wallet SET held = ? WHERE id = 1", next.held);
    });
    this.wallet = next;
    return "reserved";
  }

  settle(transfer_id) {
    const sql = this.ctx.storage.sql;
    const hold = sql.exec("SELECT amount, state FROM holds WHERE transfer_id = ?", transfer_id).toArray()[0];
    if (hold === undefined) return "no_hold";
    if (hold.state === "captured") return "exists";
    const next = { balance: this.wallet.balance - hold.amount, held: this.wallet.held - hold.amount };
    this.ctx.storage.transactionSync(() => {
      sql.exec("UPDATE holds SET state = 'captured' WHERE transfer_id = ?", transfer_id);
      sql.exec("INSERT INTO entries (transfer_id, amount, balance_after) VALUES (?, ?, ?)", transfer_id, -hold.amount, next.balance);
      sql.exec("UPDATE wallet SET balance = ?, held = ? WHERE id = 1", next.balance, next.held);
      this.event(transfer_id, -hold.amount);
    });
    this.wallet = next;
    return "captured";
  }

  /** The "wallet-events" variant: this party's event, in the commit that moves its money. */
  event(transfer_id, amount_minor) {
    if (!this.walletEvents) return;
    const object = JSON.stringify({ id: transfer_id, status: "succeeded", amount: Math.abs(amount_minor) });
    this.ctx.storage.sql.exec(
      "INSERT INTO events (change_key, type, created_at, object) VALUES (?, 'transfer.succeeded', ?, ?)",
      `${transfer_id}:succeeded`,
      new Date().toISOString(),
      object,
    );
  }

  change(transfer_id, amount, allowed) {
    const sql = this.ctx.storage.sql;
    if (sql.exec("SELECT 1 FROM entries WHERE transfer_id = ?", transfer_id).toArray().length > 0) return "exists";
    if (!allowed()) return "insufficient_funds";
    const next = { balance: this.wallet.balance + amount, held: this.wallet.held };
    this.ctx.storage.transactionSync(() => {
      sql.exec("INSERT INTO entries (transfer_id, amount, balance_after) VALUES (?, ?, ?)", transfer_id, amount, next.balance);
      sql.exec("UPDATE wallet SET balance = ? WHERE id = 1", next.balance);
      this.event(transfer_id, amount);
    });
    this.wallet = next;
    return "done";
  }
}

/** One user's coordinator: idempotency keys and the transfer's steps. */
export class SkeletonCoordinator extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS movements (key TEXT PRIMARY KEY, id TEXT NOT NULL, state TEXT NOT NULL) STRICT;
      CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, change_key TEXT NOT NULL UNIQUE,
        type TEXT NOT NULL, created_at TEXT NOT NULL, object TEXT NOT NULL) STRICT;`);
    this.outcomes = new Map();
    this.group = GROUPED_VARIANTS.has(env.SKELETON_VARIANT) ? new Group(ctx.storage) : null;
    /** Audit rows owed to D1 ("audit" variant), and the timer of the next flush. */
    this.owed = [];
    this.timer = null;
  }

  /** Queues a finished movement's audit row: flushed at 100 rows, or 5 s after the first one waiting. */
  owe(row) {
    this.owed.push(row);
    if (this.owed.length >= 100) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), 5_000);
  }

  /** One D1 batch of the owed rows, then their movements marked delivered in one commit (as our outbox does). */
  async flush() {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const rows = this.owed.splice(0);
    if (rows.length === 0) return;
    const insert = this.env.AUDIT.prepare(
      "INSERT INTO audit (id, from_wallet, to_wallet, amount, status) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
    );
    await this.env.AUDIT.batch(rows.map((r) => insert.bind(r.id, r.from, r.to, r.amount, r.status)));
    this.ctx.storage.transactionSync(() => {
      for (const r of rows) this.ctx.storage.sql.exec("UPDATE movements SET state = 'delivered' WHERE key = ?", r.key);
    });
  }

  /** Appends one event to this user's log unless its change has one: the next seq (gapless), in a grouped commit. */
  appendEvent(event) {
    return this.group.run(() => {
      const sql = this.ctx.storage.sql;
      if (sql.exec("SELECT 1 FROM events WHERE change_key = ?", event.change_key).toArray().length > 0) return "exists";
      const next = sql.exec("SELECT COALESCE(MAX(seq), 0) + 1 AS seq FROM events").one().seq;
      sql.exec(
        "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)",
        next,
        `evt_${crypto.randomUUID()}`,
        event.change_key,
        event.type,
        new Date().toISOString(),
        event.object,
      );
      return "appended";
    });
  }

  async transfer(key, from, to, amount) {
    const known = this.outcomes.get(key);
    if (known !== undefined) return known;
    const id = crypto.randomUUID();
    const variant = this.env.SKELETON_VARIANT;
    // The intent: committed when this turn ends; the output gate holds the next call until it is durable.
    const intend = () => this.ctx.storage.sql.exec("INSERT INTO movements VALUES (?, ?, 'started')", key, id);
    if (this.group !== null) await this.group.run(intend);
    else if (variant !== "no-intent") intend();
    const sender = this.env.WALLET.getByName(from);
    const recipient = this.env.WALLET.getByName(to);
    let outcome;
    if (variant === "one-phase") {
      const debited = await sender.debit(id, amount);
      outcome = debited === "done" ? await recipient.credit(id, amount) : debited;
    } else {
      const reserved = await sender.reserve(id, amount);
      if (reserved !== "reserved") outcome = reserved;
      else {
        await recipient.credit(id, amount);
        outcome = await sender.capture(id);
      }
    }
    if (variant === "contract" && outcome === "captured") {
      // Both parties' events, durable before the answer. The skeleton's token is the user id, and each user
      // owns the wallet `w-<handle>`, so the recipient's coordinator is named by its wallet.
      const object = JSON.stringify({ id, status: "succeeded", amount, from_wallet_id: from, to_wallet_id: to });
      const event = { change_key: `${id}:succeeded`, type: "transfer.succeeded", object };
      await Promise.all([this.appendEvent(event), this.env.COORDINATOR.getByName(to.replace(/^w-/, "")).appendEvent(event)]);
    }
    this.outcomes.set(key, outcome);
    if (AUDITED_VARIANTS.has(variant)) this.owe({ key, id, from, to, amount, status: outcome });
    return outcome;
  }
}

/** Whether this isolate has made the audit table ("audit" variant). */
let setUp = false;

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const token = (request.headers.get("authorization") ?? "").replace(/^Bearer /, "");
    const body = request.method === "POST" ? await request.json() : null;
    if (AUDITED_VARIANTS.has(env.SKELETON_VARIANT) && !setUp) {
      await env.AUDIT.exec(
        "CREATE TABLE IF NOT EXISTS audit (id TEXT PRIMARY KEY, from_wallet TEXT, to_wallet TEXT, amount INTEGER, status TEXT)",
      );
      setUp = true;
    }
    if (url.pathname === "/api/v1/auth/register") {
      await env.WALLET.getByName(`w-${body.handle}`).snapshot();
      return json(201, { token: body.handle, wallet: { id: `w-${body.handle}` } });
    }
    if (url.pathname === "/api/v1/transfers") {
      const key = request.headers.get("idempotency-key");
      const outcome = await env.COORDINATOR.getByName(token).transfer(key, body.from_wallet_id, body.to.wallet_id, body.amount);
      return outcome === "captured" || outcome === "done"
        ? json(201, { transfer: { status: "succeeded" } })
        : json(422, { error: { code: outcome } });
    }
    const deposit = /^\/api\/v1\/wallets\/([^/]+)\/deposits$/.exec(url.pathname);
    if (deposit !== null) {
      await env.WALLET.getByName(deposit[1]).credit(request.headers.get("idempotency-key"), body.amount);
      return json(201, { deposit: { status: "succeeded" } });
    }
    const wallet = /^\/api\/v1\/wallets\/([^/]+)$/.exec(url.pathname);
    if (wallet !== null) return json(200, await env.WALLET.getByName(wallet[1]).snapshot());
    return json(404, { error: { code: "not_found" } });
  },
};
