/**
 * Lookups in the D1 directory that a movement needs: the wallet behind a handle or a phone's blind index, and
 * whether a wallet id exists at all. Handles and phone indexes never move to another wallet once registered,
 * so answers are cached in memory (bounded) and the D1 read leaves the latency path after the first transfer.
 */
import { and, asc, eq } from "drizzle-orm";
import type { DrizzleD1Database } from "drizzle-orm/d1";
import { users, wallets } from "../db/schema";
import type { Recipient } from "./rpc";

/** How many resolved recipients one coordinator remembers. */
const CACHE_MAX_ENTRIES = 1_000;

/**
 * Wallet ids known to exist, shared by every coordinator in this isolate (at most KNOWN_WALLETS_MAX, oldest
 * forgotten first). A coordinator's own cache dies with the object, which the runtime drops 10 s after its last
 * request; with many users each coordinator is called rarely, so a per-object cache missed nearly always and
 * every transfer to a wallet id read D1 (issue 19 item 15, docs/performance.md). Safe to share and keep: a
 * wallet, once registered, is never deleted.
 */
const KNOWN_WALLETS = new Set<string>();
export const KNOWN_WALLETS_MAX = 100_000;

/**
 * Each known wallet's currency, shared like KNOWN_WALLETS (same bound): a wallet's currency never changes.
 */
const WALLET_CURRENCIES = new Map<string, string>();

/** User ids known to be registered, shared and bounded like KNOWN_WALLETS. */
const KNOWN_USERS = new Set<string>();

/** Where money sent to a recipient goes: their wallet in the sender's currency, or why there is none. */
export type Resolution = { code: "ok"; wallet_id: string } | { code: "not_found" } | { code: "currency_mismatch" };

/** The directory of recipients, read from D1 and cached. */
export class Directory {
  private readonly cache = new Map<string, string>();

  constructor(private readonly db: DrizzleD1Database) {}

  /**
   * The wallet that receives money sent to `recipient`, or null when no registered user matches. A wallet id
   * is looked up too rather than trusted: the credit would otherwise address a Durable Object named by the
   * sender's input, and addressing one allocates its storage even when it then answers `not_found`.
   */
  async resolve(recipient: Recipient, currency: string): Promise<Resolution> {
    if ("wallet_id" in recipient) {
      const known = await this.knownWallet(recipient.wallet_id);
      return known === null ? { code: "not_found" } : { code: "ok", wallet_id: known };
    }
    // A user holds at most one wallet per currency (D1's unique index), so the pair names one wallet, for ever.
    const cacheKey = "handle" in recipient ? `h:${currency}:${recipient.handle}` : `p:${currency}:${recipient.phone_index}`;
    const cached = this.cache.get(cacheKey);
    if (cached !== undefined) return { code: "ok", wallet_id: cached };
    const match = "handle" in recipient ? eq(users.handle, recipient.handle) : eq(users.phone_index, recipient.phone_index);
    const rows = await this.db
      .select({ id: wallets.id, currency: wallets.currency })
      .from(users)
      .innerJoin(wallets, eq(wallets.owner_id, users.id))
      .where(and(match))
      .orderBy(asc(wallets.created_at), asc(wallets.id))
      .all();
    if (rows.length === 0) return { code: "not_found" };
    const row = rows.find((r) => r.currency === currency);
    if (row === undefined) return { code: "currency_mismatch" };
    this.remember(cacheKey, row.id);
    return { code: "ok", wallet_id: row.id };
  }

  /** The currency of wallet `walletId`, or null when no wallet has that id. */
  async walletCurrency(walletId: string): Promise<string | null> {
    const cached = WALLET_CURRENCIES.get(walletId);
    if (cached !== undefined) return cached;
    const row = await this.db.select({ currency: wallets.currency }).from(wallets).where(eq(wallets.id, walletId)).get();
    if (row === undefined) return null;
    if (WALLET_CURRENCIES.size >= KNOWN_WALLETS_MAX) {
      const oldest = WALLET_CURRENCIES.keys().next();
      if (oldest.done !== true) WALLET_CURRENCIES.delete(oldest.value);
    }
    WALLET_CURRENCIES.set(walletId, row.currency);
    return row.currency;
  }

  /** Whether a user with this id is registered (remembered: users are never deleted). */
  async userExists(user_id: string): Promise<boolean> {
    if (KNOWN_USERS.has(user_id)) return true;
    const row = await this.db.select({ id: users.id }).from(users).where(eq(users.id, user_id)).get();
    if (row === undefined) return false;
    if (KNOWN_USERS.size >= KNOWN_WALLETS_MAX) {
      const oldest = KNOWN_USERS.values().next();
      if (oldest.done !== true) KNOWN_USERS.delete(oldest.value);
    }
    KNOWN_USERS.add(user_id);
    return true;
  }

  /** Whether any wallet has this id. */
  async walletExists(walletId: string): Promise<boolean> {
    const row = await this.db.select({ id: wallets.id }).from(wallets).where(eq(wallets.id, walletId)).get();
    return row !== undefined;
  }

  /** `walletId` when a registered wallet has it (remembered: wallets are never deleted), else null. */
  private async knownWallet(walletId: string): Promise<string | null> {
    if (KNOWN_WALLETS.has(walletId)) return walletId;
    if (!(await this.walletExists(walletId))) return null;
    if (KNOWN_WALLETS.size >= KNOWN_WALLETS_MAX) {
      const oldest = KNOWN_WALLETS.values().next();
      if (oldest.done !== true) KNOWN_WALLETS.delete(oldest.value);
    }
    KNOWN_WALLETS.add(walletId);
    return walletId;
  }

  private remember(key: string, walletId: string): void {
    if (this.cache.size >= CACHE_MAX_ENTRIES) {
      const oldest = this.cache.keys().next();
      if (oldest.done !== true) this.cache.delete(oldest.value);
    }
    this.cache.set(key, walletId);
  }
}
