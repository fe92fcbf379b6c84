/**
 * Registration and login while a store fails (issue 19, item 14): a locked or full D1, a wallet object that
 * cannot be created, a coordinator that cannot open the session. Each answers 503 `unavailable` with
 * Retry-After, never 500, and leaves nothing half made: no orphan wallet object, no user without a wallet,
 * and a retry with the same handle works.
 *
 * The faults are injected by running the Worker's app with a copy of the environment whose DB, WALLET or
 * COORDINATOR binding fails the way the real one does (the error text is what D1 and SQLite report).
 */
import { createExecutionContext, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/api/app";
import { api, uniqueHandle, walletStub, type ApiResponse } from "./helpers";

const app = createApp();
const PASSWORD = "correct horse battery";

/** A D1 binding whose batches (every write the routes make) or every statement fail with `message`. */
function failingD1(message: string, reads_fail = false): D1Database {
  const fail = (): never => {
    throw new Error(message);
  };
  return new Proxy(env.DB, {
    get(target, prop) {
      if (prop === "batch") return async () => fail();
      if (prop === "prepare" && reads_fail) return () => fail();
      const value = Reflect.get(target, prop) as unknown;
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** The WALLET namespace, recording every wallet id addressed, optionally with `init` failing. */
function recordingWallets(init_fails: boolean): { ns: Env["WALLET"]; ids: string[] } {
  const ids: string[] = [];
  const real = env.WALLET;
  const ns = new Proxy(real, {
    get(target, prop) {
      if (prop === "getByName") {
        return (name: string) => {
          ids.push(name);
          const stub = target.getByName(name);
          if (!init_fails) return stub;
          return new Proxy(stub, {
            get(s, p) {
              if (p === "init")
                return async () =>
                  Promise.reject(new Error("Durable Object storage operation exceeded timeout which caused object to be reset"));
              const value = Reflect.get(s, p) as unknown;
              return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(s) : value;
            },
          });
        };
      }
      const value = Reflect.get(target, prop) as unknown;
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { ns, ids };
}

/** The COORDINATOR namespace with `openSession` failing. */
function failingSessions(): Env["COORDINATOR"] {
  return new Proxy(env.COORDINATOR, {
    get(target, prop) {
      if (prop === "getByName") {
        return (name: string) =>
          new Proxy(target.getByName(name), {
            get(s, p) {
              if (p === "openSession") return async () => Promise.reject(new Error("SQLITE_FULL: database or disk is full"));
              const value = Reflect.get(s, p) as unknown;
              return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(s) : value;
            },
          });
      }
      const value = Reflect.get(target, prop) as unknown;
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** One request to the app with some bindings replaced. */
async function call(path: string, body: unknown, overrides: Partial<Env>): Promise<ApiResponse> {
  const ctx = createExecutionContext();
  const request = new Request(`https://wallet.test/api/v1${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", "cf-connecting-ip": `203.0.113.${Math.floor(Math.random() * 250) + 1}` },
    body: JSON.stringify(body),
  });
  const response = await app.fetch(request, { ...env, ...overrides }, ctx);
  await waitOnExecutionContext(ctx);
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: JSON.parse(text) as Record<string, unknown> };
}

function expectUnavailable(res: ApiResponse): void {
  expect([res.status, (res.json as { error?: { code: string } }).error?.code], res.text).toEqual([503, "unavailable"]);
  expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
}

async function usersNamed(handle: string): Promise<number> {
  const row = await env.DB.prepare("SELECT count(*) AS n FROM users WHERE handle = ?").bind(handle).first<{ n: number }>();
  return row?.n ?? 0;
}

/** Whether a wallet object has any storage at all (an orphan would have its schema and a row). */
async function hasStorage(walletId: string): Promise<boolean> {
  return runInDurableObject(
    walletStub(walletId),
    (_instance, state: DurableObjectState) => state.storage.sql.exec("SELECT count(*) AS n FROM sqlite_master").one().n !== 0,
  );
}

async function registersCleanlyAfter(handle: string): Promise<void> {
  const retry = await api<{ wallet: { id: string } }>("/auth/register", {
    body: { handle, password: PASSWORD },
    headers: { "cf-connecting-ip": "203.0.113.77" },
  });
  expect(retry.status, retry.text).toBe(201);
  expect(await usersNamed(handle)).toBe(1);
  const wallets = await env.DB.prepare("SELECT count(*) AS n FROM wallets w JOIN users u ON u.id = w.owner_id WHERE u.handle = ?")
    .bind(handle)
    .first<{ n: number }>();
  expect(wallets?.n).toBe(1);
  expect((await walletStub(retry.json.wallet.id).snapshot()).code).toBe("ok");
}

describe("registration while a store fails", () => {
  for (const [name, message] of [
    ["D1 locked", "D1_ERROR: database is locked: SQLITE_BUSY"],
    ["disk full", "D1_ERROR: database or disk is full: SQLITE_FULL"],
  ] as const) {
    it(`${name}: 503 with Retry-After, no wallet object made, and the same handle registers on retry`, async () => {
      const handle = uniqueHandle("d1");
      const wallets = recordingWallets(false);
      const res = await call("/auth/register", { handle, password: PASSWORD }, { DB: failingD1(message), WALLET: wallets.ns });
      expectUnavailable(res);
      expect(await usersNamed(handle)).toBe(0);
      for (const id of wallets.ids) expect(await hasStorage(id), `orphan wallet object ${id}`).toBe(false);
      await registersCleanlyAfter(handle);
    });
  }

  it("a wallet object that cannot be created: 503, the D1 rows are taken back, and the handle is free again", async () => {
    const handle = uniqueHandle("wo");
    const wallets = recordingWallets(true);
    const res = await call("/auth/register", { handle, password: PASSWORD }, { WALLET: wallets.ns });
    expectUnavailable(res);
    expect(wallets.ids).toHaveLength(1);
    expect(await usersNamed(handle)).toBe(0);
    const row = await env.DB.prepare("SELECT count(*) AS n FROM wallets WHERE id = ?").bind(wallets.ids[0]).first<{ n: number }>();
    expect(row?.n).toBe(0);
    await registersCleanlyAfter(handle);
  });

  it("a session that cannot be opened: 503; the account is whole, so logging in works", async () => {
    const handle = uniqueHandle("se");
    const res = await call("/auth/register", { handle, password: PASSWORD }, { COORDINATOR: failingSessions() });
    expectUnavailable(res);
    const login = await api<{ token: string }>("/auth/login", {
      body: { handle, password: PASSWORD },
      headers: { "cf-connecting-ip": "203.0.113.78" },
    });
    expect(login.status, login.text).toBe(200);
    const me = await api<{ wallets: { balance: number }[] }>("/me", { token: login.json.token });
    expect(me.json.wallets.map((w) => w.balance)).toEqual([0]);
  });
});

describe("login while D1 fails", () => {
  it("answers 503 with Retry-After, not 500", async () => {
    const res = await call(
      "/auth/login",
      { handle: uniqueHandle("li"), password: PASSWORD },
      { DB: failingD1("D1_ERROR: database is locked: SQLITE_BUSY", true) },
    );
    expectUnavailable(res);
  });
});
