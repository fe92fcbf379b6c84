/**
 * Test helpers: HTTP calls through the Worker's own fetch handler, unique users, and the ledger invariants
 * every money test ends by asserting.
 */
import { runDurableObjectAlarm } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { expect } from "vitest";
import { entryHash, GENESIS_HASH } from "../../src/domain/hash-chain";
import type { EntryView, WalletView } from "../../src/domain/views";
import { partitionDbs, partitionOfWallet, walletDb } from "../../src/db/partitions";

export interface ApiResponse<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  text: string;
  json: T;
}

export interface CallOptions {
  method?: string;
  body?: unknown;
  rawBody?: string;
  token?: string;
  key?: string;
  headers?: Record<string, string>;
}

/** One request to the Worker under test. */
export async function api<T = Record<string, unknown>>(path: string, options: CallOptions = {}): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  if (options.key !== undefined) headers["idempotency-key"] = options.key;
  let body: string | undefined = options.rawBody;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers["content-type"] ??= "application/json";
  }
  const method = options.method ?? (body === undefined ? "GET" : "POST");
  const response = await exports.default.fetch(new Request(`https://wallet.test/api/v1${path}`, { method, headers, body }));
  const text = await response.text();
  let json: unknown;
  try {
    json = text === "" ? null : JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: response.status, headers: response.headers, text, json: json as T };
}

let counter = 0;
/** A handle no other test uses. */
export function uniqueHandle(prefix = "u"): string {
  counter++;
  return `${prefix}_${Date.now().toString(36)}_${counter}_${Math.floor(Math.random() * 1e6).toString(36)}`.slice(0, 32);
}

export interface TestUser {
  id: string;
  handle: string;
  token: string;
  wallet_id: string;
}

/** Registers a new user with a unique handle. */
export async function register(options: { prefix?: string; phone?: string; currency?: string } = {}): Promise<TestUser> {
  const handle = uniqueHandle(options.prefix);
  const body: Record<string, unknown> = { handle, password: "correct horse battery" };
  if (options.phone !== undefined) body.phone = options.phone;
  if (options.currency !== undefined) body.currency = options.currency;
  // Each test user registers from its own address, so the per-address registration limit is not shared.
  const headers = { "cf-connecting-ip": `203.0.113.${Math.floor(Math.random() * 254) + 1}.${counter}` };
  const res = await api<{ user: { id: string }; wallet: WalletView; token: string }>("/auth/register", { body, headers });
  expect(res.status, res.text).toBe(201);
  return { id: res.json.user.id, handle, token: res.json.token, wallet_id: res.json.wallet.id };
}

/**
 * Registers users until one's wallet is placed in audit partition `partition` (placement is random among the
 * open partitions, src/db/partitions.ts), for tests that need entries in a given partition.
 */
export async function registerIn(partition: number, options: Parameters<typeof register>[0] = {}): Promise<TestUser> {
  for (let tries = 0; tries < 40; tries++) {
    const user = await register(options);
    if (partitionOfWallet(user.wallet_id) === partition) return user;
  }
  throw new Error(`no wallet landed in partition ${partition} in 40 registrations: is it open (AUDIT_PARTITIONS_OPEN)?`);
}

/** Grants the auditor role the way an operator does (POST /admin/auditors with the test's ADMIN_TOKEN). */
export async function grantAuditor(user: TestUser): Promise<void> {
  const grant = await api("/admin/auditors", {
    body: { handle: user.handle },
    headers: { "x-admin-token": "test-admin-token-0123456789abcdefghijklmnop" },
  });
  expect(grant.status).toBe(200);
}

/** Deposits `amount` into the user's wallet and asserts it succeeded. */
export async function deposit(user: TestUser, amount: number, key = crypto.randomUUID()): Promise<ApiResponse> {
  const res = await api(`/wallets/${user.wallet_id}/deposits`, { token: user.token, key, body: { amount } });
  expect(res.status, res.text).toBe(201);
  return res;
}

/** Sends a transfer; returns the raw response. */
export function transfer(
  from: TestUser,
  to: Record<string, string>,
  amount: number,
  key: string = crypto.randomUUID(),
  memo?: string,
): Promise<ApiResponse> {
  const body: Record<string, unknown> = { from_wallet_id: from.wallet_id, to, amount };
  if (memo !== undefined) body.memo = memo;
  return api("/transfers", { token: from.token, key, body });
}

export function walletStub(walletId: string): DurableObjectStub<import("../../src/wallet-object").WalletObject> {
  return env.WALLET.getByName(walletId);
}

export function coordinatorStub(userId: string): DurableObjectStub<import("../../src/transfer-coordinator").TransferCoordinator> {
  return env.COORDINATOR.getByName(userId);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs a coordinator's alarm now. A coordinator that a failpoint aborted (`ctx.abort()`) is reset by workerd, and a
 * call that reaches it during the reset can fail with the runtime's "internal error" before the new instance
 * exists; that is the runtime starting over (what an abort in production leads to as well), not recovery failing,
 * so such a call is tried again a few times. Any other error, and the same error three times, fails the test.
 */
export async function runAlarmAfterReset(userId: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await runDurableObjectAlarm(coordinatorStub(userId));
      return;
    } catch (error) {
      if (attempt >= 3 || !String(error).includes("internal error")) throw error;
      await sleep(100);
    }
  }
}

/**
 * Waits until every listed coordinator has finished all its movements and delivered its outbox, running
 * their alarms to speed that up. Fails after `timeout_ms`.
 */
export async function settle(userIds: string[], timeout_ms = 20_000): Promise<void> {
  const deadline = Date.now() + timeout_ms;
  for (;;) {
    let owed = 0;
    for (const id of userIds) {
      const pending = await coordinatorStub(id).pending();
      const here = pending.started + pending.outbox + pending.relays;
      owed += here;
      if (here > 0) await runAlarmAfterReset(id);
    }
    if (owed === 0) return;
    if (Date.now() > deadline) throw new Error(`settle: ${owed} movements or outbox rows still owed`);
    await sleep(60);
  }
}

/** Every entry of a wallet, oldest first. */
export async function allEntries(walletId: string): Promise<EntryView[]> {
  const out: EntryView[] = [];
  for (;;) {
    const page = await walletStub(walletId).entriesAfter(out.length, 1_000);
    if (page.length === 0) return out;
    out.push(...page);
  }
}

export interface LedgerCheck {
  total_balance: number;
  wallets: WalletView[];
}

/**
 * Asserts the ledger invariants over `wallets`: no negative balance, nothing held, no open hold, a gapless
 * hash chain per wallet whose amounts sum to its balance and whose last `balance_after` is the balance, and
 * D1 holding exactly the same entries. Returns the total balance for conservation checks.
 */
export async function assertLedger(walletIds: string[]): Promise<LedgerCheck> {
  const wallets: WalletView[] = [];
  let total_balance = 0;
  for (const id of walletIds) {
    const snap = await walletStub(id).snapshot();
    if (snap.code !== "ok") throw new Error(`wallet ${id} missing`);
    const w = snap.wallet;
    wallets.push(w);
    expect(w.balance).toBeGreaterThanOrEqual(0);
    expect(w.held, `held on ${id}`).toBe(0);
    expect(w.available).toBe(w.balance);
    expect(await walletStub(id).openHolds()).toEqual([]);
    const entries = await allEntries(id);
    let prev = GENESIS_HASH;
    let sum = 0;
    entries.forEach((e, i) => {
      expect(e.seq).toBe(i + 1);
      expect(e.prev_hash).toBe(prev);
      const { hash, ...rest } = e;
      expect(entryHash(id, rest)).toBe(hash);
      sum += e.amount;
      expect(e.balance_after).toBe(sum);
      prev = hash;
    });
    expect(sum, `entries of ${id} sum to its balance`).toBe(w.balance);
    const mirrored = await walletDb(env, id)
      .prepare("SELECT seq, hash FROM ledger_entries WHERE wallet_id = ? ORDER BY seq")
      .bind(id)
      .all<{ seq: number; hash: string }>();
    expect(mirrored.results).toEqual(entries.map((e) => ({ seq: e.seq, hash: e.hash })));
    total_balance += w.balance;
  }
  return { total_balance, wallets };
}

/** D1 audit rows for a movement id: its home row, from whichever partition is its home (copies are left out). */
export async function auditRows(transferId: string): Promise<Record<string, unknown>[]> {
  return allRows("SELECT * FROM audit_log WHERE transfer_id = ? AND home = 1", transferId);
}

/** Runs a read on every audit partition (src/db/partitions.ts) and returns all their rows, partition 0's first. */
export async function allRows<T = Record<string, unknown>>(sql: string, ...binds: unknown[]): Promise<T[]> {
  const pages = await Promise.all(
    partitionDbs(env).map((db) =>
      db
        .prepare(sql)
        .bind(...binds)
        .all<T>(),
    ),
  );
  return pages.flatMap((p) => p.results);
}

/** Sums the first column named `n` of a count query run on every partition. */
export async function countAll(sql: string, ...binds: unknown[]): Promise<number> {
  return (await allRows<{ n: number }>(sql, ...binds)).reduce((sum, r) => sum + r.n, 0);
}
