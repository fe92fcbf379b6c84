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

/** The directory of recipients, read from D1 and cached. */
export class Directory {
  private readonly cache = new Map<string, string>();

  constructor(private readonly db: DrizzleD1Database) {}

  /**
   * The wallet that receives money sent to `recipient`, or null when no registered user matches. A wallet id
   * is looked up too rather than trusted: the credit would otherwise address a Durable Object named by the
   * sender's input, and addressing one allocates its storage even when it then answers `not_found`.
   */
  async resolve(recipient: Recipient): Promise<string | null> {
    if ("wallet_id" in recipient) return this.knownWallet(recipient.wallet_id);
    const cacheKey = "handle" in recipient ? `h:${recipient.handle}` : `p:${recipient.phone_index}`;
    const cached = this.cache.get(cacheKey);
    if (cached !== undefined) return cached;
    const match = "handle" in recipient ? eq(users.handle, recipient.handle) : eq(users.phone_index, recipient.phone_index);
    const row = await this.db
      .select({ id: wallets.id })
      .from(users)
      .innerJoin(wallets, eq(wallets.owner_id, users.id))
      .where(and(match))
      .orderBy(asc(wallets.created_at), asc(wallets.id))
      .limit(1)
      .get();
    if (row === undefined) return null;
    this.remember(cacheKey, row.id);
    return row.id;
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
