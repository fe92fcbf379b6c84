/**
 * Every row of the contract's error table: the status, the code, the body shape, and that nothing moved.
 */
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
  countAll,
  api,
  coordinatorStub,
  deposit,
  register,
  settle,
  transfer,
  walletStub,
  type ApiResponse,
  type TestUser,
} from "./helpers";

interface ErrorJson {
  error: { code: string; message: string; request_id: string; details?: { field: string; issue: string }[] };
}

function expectError(res: ApiResponse, status: number, code: string): void {
  expect(res.status, res.text).toBe(status);
  const body = res.json as unknown as ErrorJson;
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe("string");
  expect(body.error.request_id).toBe(res.headers.get("x-request-id"));
}

async function balanceOf(user: TestUser): Promise<number> {
  const snap = await walletStub(user.wallet_id).snapshot();
  if (snap.code !== "ok") throw new Error("missing wallet");
  expect(snap.wallet.held).toBe(0);
  return snap.wallet.balance;
}

async function auditCount(walletId: string): Promise<number> {
  return countAll("SELECT count(*) AS n FROM audit_log WHERE home = 1 AND (from_wallet_id = ?1 OR to_wallet_id = ?1)", walletId);
}

describe("400 validation_error", () => {
  const badAmounts: [string, string][] = [
    ["zero", '{"amount":0}'],
    ["negative", '{"amount":-5}'],
    ["fraction", '{"amount":1.5}'],
    ["string", '{"amount":"12"}'],
    ["null", '{"amount":null}'],
    ["overflow", '{"amount":1e400}'],
    ["past 2^53", '{"amount":9007199254740993}'],
    // JSON.parse reads these as whole numbers, but the client wrote a float: 1.0000000000000001 would move 1.
    ["a fraction that rounds to a whole number", '{"amount":1.0000000000000001}'],
    ["a whole number written with a fraction", '{"amount":100.0}'],
    ["an exponent", '{"amount":1e2}'],
    // JSON.parse keeps the last of a repeated name, another parser may keep the first: two meanings, refused.
    ["the amount given twice", '{"amount":5,"amount":500000}'],
    ["the amount given twice, once escaped", '{"amount":5,"\\u0061mount":500000}'],
    ["missing", "{}"],
    ["unknown field", '{"amount":5,"fee":1}'],
    ["not an object", "[5]"],
    ["malformed JSON", '{"amount":'],
  ];
  it.each(badAmounts)("a deposit with a bad body (%s) is refused and moves nothing", async (_name, rawBody) => {
    const user = await register();
    const res = await api(`/wallets/${user.wallet_id}/deposits`, {
      token: user.token,
      key: crypto.randomUUID(),
      rawBody,
      headers: { "content-type": "application/json" },
    });
    expectError(res, 400, "validation_error");
    expect((res.json as unknown as ErrorJson).error.details?.length).toBeGreaterThan(0);
    expect(await balanceOf(user)).toBe(0);
    expect(await auditCount(user.wallet_id)).toBe(0);
  });

  it("a transfer with two recipients, or an unknown field, lists the fields", async () => {
    const a = await register();
    await deposit(a, 1_000);
    const res = await api("/transfers", {
      token: a.token,
      key: crypto.randomUUID(),
      body: { from_wallet_id: a.wallet_id, to: { handle: "x", wallet_id: "y" }, amount: 5, extra: true },
    });
    expectError(res, 400, "validation_error");
    const fields = (res.json as unknown as ErrorJson).error.details?.map((d) => d.field) ?? [];
    expect(fields).toEqual(expect.arrayContaining(["to", "extra"]));
    expect(await balanceOf(a)).toBe(1_000);
  });

  it("a memo over the limit is refused", async () => {
    const a = await register();
    const b = await register();
    await deposit(a, 1_000);
    const res = await transfer(a, { handle: b.handle }, 5, crypto.randomUUID(), "m".repeat(141));
    expectError(res, 400, "validation_error");
    expect((res.json as unknown as ErrorJson).error.details).toEqual([expect.objectContaining({ field: "memo" })]);
    expect(await balanceOf(a)).toBe(1_000);
  });

  it("a body sent as text/plain is refused", async () => {
    const user = await register();
    const res = await api(`/wallets/${user.wallet_id}/deposits`, {
      token: user.token,
      key: crypto.randomUUID(),
      rawBody: '{"amount":5}',
      headers: { "content-type": "text/plain" },
    });
    expectError(res, 400, "validation_error");
    expect(await balanceOf(user)).toBe(0);
  });

  it("a malformed Idempotency-Key is refused", async () => {
    const user = await register();
    const res = await api(`/wallets/${user.wallet_id}/deposits`, { token: user.token, key: "k".repeat(256), body: { amount: 5 } });
    expectError(res, 400, "validation_error");
    expect(await balanceOf(user)).toBe(0);
  });

  it("registration with a bad handle, short password or bad phone lists each field", async () => {
    const res = await api("/auth/register", { body: { handle: "A!", password: "short", phone: "555" } });
    expectError(res, 400, "validation_error");
    const fields = (res.json as unknown as ErrorJson).error.details?.map((d) => d.field).sort();
    expect(fields).toEqual(["handle", "password", "phone"]);
  });

  it("a float written anywhere in a body is named by its field; digits inside strings are not numbers; 401 comes first", async () => {
    const [a, b] = [await register(), await register()];
    await deposit(a, 1_000);
    const body = `{"from_wallet_id":"${a.wallet_id}","to":{"handle":"${b.handle}"},"amount":25.0,"memo":"1.5e3 of 2.0"}`;
    const res = await api("/transfers", {
      token: a.token,
      key: crypto.randomUUID(),
      rawBody: body,
      headers: { "content-type": "application/json" },
    });
    expectError(res, 400, "validation_error");
    expect((res.json as unknown as ErrorJson).error.details).toEqual([{ field: "amount", issue: expect.stringContaining("whole number") }]);
    const split = `{"wallet_id":"${a.wallet_id}","shares":[{"payer":{"handle":"${b.handle}"},"amount":1},{"payer":{"handle":"${b.handle}x"},"amount":2E0}]}`;
    expectError(
      await api("/splits", { token: a.token, rawBody: split, headers: { "content-type": "application/json" } }),
      400,
      "validation_error",
    );
    const memo = `{"from_wallet_id":"${a.wallet_id}","to":{"handle":"${b.handle}"},"amount":25,"memo":"1.5e3 \\" 2.0"}`;
    expect(
      (
        await api("/transfers", {
          token: a.token,
          key: crypto.randomUUID(),
          rawBody: memo,
          headers: { "content-type": "application/json" },
        })
      ).status,
    ).toBe(201);
    expectError(
      await api("/transfers", { token: "usr_x.forged", key: "k", rawBody: body, headers: { "content-type": "application/json" } }),
      401,
      "unauthenticated",
    );
    expect(await balanceOf(a)).toBe(975);
  });

  it("a member name given twice in one object is refused wherever it is; the same name in two objects is not a repeat", async () => {
    const [a, b] = [await register(), await register()];
    await deposit(a, 1_000);
    const send = (rawBody: string) =>
      api("/transfers", { token: a.token, key: crypto.randomUUID(), rawBody, headers: { "content-type": "application/json" } });
    const twice = await send(`{"from_wallet_id":"${a.wallet_id}","to":{"handle":"${b.handle}","handle":"${a.handle}"},"amount":25}`);
    expectError(twice, 400, "validation_error");
    expect((twice.json as unknown as ErrorJson).error.details).toEqual([
      { field: "handle", issue: expect.stringContaining("more than once") },
    ]);
    // Two shares each with an "amount" are two objects, each naming it once; a name inside a string is not a name.
    const split = `{"wallet_id":"${a.wallet_id}","memo":"amount, amount","shares":[{"payer":{"handle":"${b.handle}"},"amount":1},{"payer":{"handle":"${b.handle}x"},"amount":2}]}`;
    const splitAnswer = await api("/splits", { token: a.token, rawBody: split, headers: { "content-type": "application/json" } });
    expect(splitAnswer.status, splitAnswer.text).not.toBe(400);
    expectError(
      await api("/transfers", {
        token: "usr_x.forged",
        key: "k",
        rawBody: `{"amount":1,"amount":2}`,
        headers: { "content-type": "application/json" },
      }),
      401,
      "unauthenticated",
    );
    expect(await balanceOf(a)).toBe(1_000);
  });

  it("a limit that is not written as digits (1e1, 0x10, 5.0, a space) is refused on every list", async () => {
    const user = await register();
    for (const list of ["/events", "/transfers", "/me/contacts", `/wallets/${user.wallet_id}/history`, "/payment-requests"]) {
      for (const limit of ["1e1", "0x10", "5.0", "%205"])
        expectError(await api(`${list}?limit=${limit}`, { token: user.token }), 400, "validation_error");
      expect((await api(`${list}?limit=5`, { token: user.token })).status).toBe(200);
    }
  });

  it("a bad history limit or cursor is refused", async () => {
    const user = await register();
    expectError(await api(`/wallets/${user.wallet_id}/history?limit=0`, { token: user.token }), 400, "validation_error");
    expectError(await api(`/wallets/${user.wallet_id}/history?limit=201`, { token: user.token }), 400, "validation_error");
    expectError(await api(`/wallets/${user.wallet_id}/history?cursor=bogus`, { token: user.token }), 400, "validation_error");
  });
});

describe("401 unauthenticated", () => {
  it("no token, a malformed token or an unknown token", async () => {
    const user = await register();
    expectError(await api("/me"), 401, "unauthenticated");
    expectError(await api("/me", { headers: { authorization: "Basic abc" } }), 401, "unauthenticated");
    expectError(await api("/me", { token: "x".repeat(43) }), 401, "unauthenticated");
    // RFC 9110 section 11.1: the scheme is case-insensitive, so a client that writes "bearer" is not turned away.
    for (const scheme of ["bearer", "BEARER"])
      expect((await api("/me", { headers: { authorization: `${scheme} ${user.token}` } })).status).toBe(200);
    expectError(await api(`/wallets/${user.wallet_id}/deposits`, { key: "k", body: { amount: 5 } }), 401, "unauthenticated");
    expect(await balanceOf(user)).toBe(0);
  });

  it("a token after logout", async () => {
    const user = await register();
    expect((await api("/me", { token: user.token })).status).toBe(200);
    expect((await api("/auth/logout", { method: "POST", token: user.token })).status).toBe(204);
    expectError(await api("/me", { token: user.token }), 401, "unauthenticated");
  });

  it("a token after it expired", async () => {
    const user = await register();
    await runInDurableObject(coordinatorStub(user.id), (_instance, state: DurableObjectState) => {
      state.storage.sql.exec("UPDATE sessions SET expires_at_ms = created_at_ms + 1");
    });
    // The coordinator remembers the sessions it has seen; a new instance reads the changed row.
    await evictDurableObject(coordinatorStub(user.id));
    expectError(await api("/me", { token: user.token }), 401, "unauthenticated");
  });

  it("a wrong password, and an unknown handle, alike", async () => {
    const user = await register();
    const wrong = await api("/auth/login", { body: { handle: user.handle, password: "not the password" } });
    const unknown = await api("/auth/login", { body: { handle: "nobody_here_at_all", password: "not the password" } });
    expectError(wrong, 401, "unauthenticated");
    expectError(unknown, 401, "unauthenticated");
    expect((wrong.json as unknown as ErrorJson).error.message).toBe((unknown.json as unknown as ErrorJson).error.message);
    const ok = await api<{ token: string }>("/auth/login", { body: { handle: user.handle, password: "correct horse battery" } });
    expect(ok.status).toBe(200);
    expect((await api("/me", { token: ok.json.token })).status).toBe(200);
  });
});

describe("403 forbidden", () => {
  it("another user's wallet: read, history, deposit, withdraw, pay from", async () => {
    const owner = await register();
    const other = await register();
    await deposit(owner, 1_000);
    expectError(await api(`/wallets/${owner.wallet_id}`, { token: other.token }), 403, "forbidden");
    expectError(await api(`/wallets/${owner.wallet_id}/history`, { token: other.token }), 403, "forbidden");
    const dep = await api(`/wallets/${owner.wallet_id}/deposits`, { token: other.token, key: crypto.randomUUID(), body: { amount: 5 } });
    expectError(dep, 403, "forbidden");
    const wdr = await api(`/wallets/${owner.wallet_id}/withdrawals`, { token: other.token, key: crypto.randomUUID(), body: { amount: 5 } });
    expectError(wdr, 403, "forbidden");
    const trf = await api("/transfers", {
      token: other.token,
      key: crypto.randomUUID(),
      body: { from_wallet_id: owner.wallet_id, to: { handle: other.handle }, amount: 5 },
    });
    expectError(trf, 403, "forbidden");
    await settle([owner.id, other.id]);
    expect(await balanceOf(owner)).toBe(1_000);
    expect(await balanceOf(other)).toBe(0);
  });

  it("a transfer read by someone who is neither sender nor recipient", async () => {
    const a = await register();
    const b = await register();
    const c = await register();
    await deposit(a, 1_000);
    const sent = await transfer(a, { handle: b.handle }, 10);
    const id = (sent.json as { transfer: { id: string } }).transfer.id;
    expectError(await api(`/transfers/${id}`, { token: c.token }), 403, "forbidden");
  });

  it("a user who is not an auditor on the audit routes", async () => {
    const user = await register();
    expectError(await api("/audit", { token: user.token }), 403, "forbidden");
  });
});

describe("404 not_found", () => {
  it("an unknown wallet, transfer, handle or phone", async () => {
    const a = await register();
    await deposit(a, 1_000);
    expectError(await api("/wallets/wal_00000000000000000000000000", { token: a.token }), 404, "not_found");
    expectError(await api("/transfers/trf_nope", { token: a.token }), 404, "not_found");
    expectError(await transfer(a, { handle: "no_such_handle_xyz" }, 5), 404, "not_found");
    expectError(await transfer(a, { phone: "+15550000000" }, 5), 404, "not_found");
    expectError(await transfer(a, { wallet_id: "wal_00000000000000000000000000" }, 5), 404, "not_found");
    await settle([a.id]);
    expect(await balanceOf(a)).toBe(1_000);
  });

  it("an unknown route", async () => {
    expectError(await api("/nothing/here"), 404, "not_found");
  });
});

describe("409", () => {
  it("handle_taken", async () => {
    const user = await register();
    expectError(await api("/auth/register", { body: { handle: user.handle, password: "another password" } }), 409, "handle_taken");
  });

  it("idempotency_in_progress while the first request with the key is running", async () => {
    const a = await register();
    const b = await register();
    await deposit(a, 1_000);
    const key = crypto.randomUUID();
    // Hold the sender's wallet busy so the first transfer is still in flight when the second arrives.
    const busy = runInDurableObject(walletStub(a.wallet_id), (_i, ctx) =>
      ctx.blockConcurrencyWhile(() => new Promise((r) => setTimeout(r, 400))),
    );
    const first = transfer(a, { handle: b.handle }, 100, key);
    await new Promise((r) => setTimeout(r, 100));
    const second = await transfer(a, { handle: b.handle }, 100, key);
    expectError(second, 409, "idempotency_in_progress");
    await busy;
    expect((await first).status).toBe(201);
    await settle([a.id, b.id]);
    expect(await balanceOf(a)).toBe(900);
    expect(await balanceOf(b)).toBe(100);
  });
});

describe("413 payload_too_large", () => {
  it("a body over 16 KiB", async () => {
    const user = await register();
    const res = await api(`/wallets/${user.wallet_id}/deposits`, {
      token: user.token,
      key: crypto.randomUUID(),
      rawBody: JSON.stringify({ amount: 5, pad: "x".repeat(17_000) }),
      headers: { "content-type": "application/json" },
    });
    expectError(res, 413, "payload_too_large");
    expect(await balanceOf(user)).toBe(0);
  });
});

describe("422", () => {
  it("idempotency_key_reused with another body or another route", async () => {
    const a = await register();
    const key = crypto.randomUUID();
    await deposit(a, 1_000, key);
    expectError(
      await api(`/wallets/${a.wallet_id}/deposits`, { token: a.token, key, body: { amount: 999 } }),
      422,
      "idempotency_key_reused",
    );
    expectError(
      await api(`/wallets/${a.wallet_id}/withdrawals`, { token: a.token, key, body: { amount: 1_000 } }),
      422,
      "idempotency_key_reused",
    );
    await settle([a.id]);
    expect(await balanceOf(a)).toBe(1_000);
  });

  it("insufficient_funds", async () => {
    const a = await register();
    const b = await register();
    await deposit(a, 100);
    expectError(await transfer(a, { handle: b.handle }, 101), 422, "insufficient_funds");
    expectError(
      await api(`/wallets/${a.wallet_id}/withdrawals`, { token: a.token, key: crypto.randomUUID(), body: { amount: 101 } }),
      422,
      "insufficient_funds",
    );
    await settle([a.id, b.id]);
    expect(await balanceOf(a)).toBe(100);
    expect(await balanceOf(b)).toBe(0);
  });

  it("daily_limit_exceeded", async () => {
    const a = await register();
    const b = await register();
    await deposit(a, 2_000_000);
    expect((await transfer(a, { handle: b.handle }, 999_999)).status).toBe(201);
    expectError(await transfer(a, { handle: b.handle }, 2), 422, "daily_limit_exceeded");
    await settle([a.id, b.id]);
    expect(await balanceOf(a)).toBe(1_000_001);
    expect(await balanceOf(b)).toBe(999_999);
  });

  it("currency_mismatch", async () => {
    const a = await register();
    const e = await register({ currency: "EUR" });
    await deposit(a, 1_000);
    expectError(await transfer(a, { handle: e.handle }, 10), 422, "currency_mismatch");
    await settle([a.id, e.id]);
    expect(await balanceOf(a)).toBe(1_000);
    expect(await balanceOf(e)).toBe(0);
    // The refused transfer shows the currency it was sent in (the sending wallet's), and no recipient wallet.
    const listed = await api<{ items: { status: string; currency: string | null; to_wallet_id: string | null }[] }>(
      "/transfers?status=failed",
      { token: a.token },
    );
    expect(listed.json.items.map((t) => [t.status, t.currency, t.to_wallet_id])).toEqual([["failed", "USD", null]]);
  });

  it("same_wallet", async () => {
    const a = await register();
    await deposit(a, 1_000);
    expectError(await transfer(a, { wallet_id: a.wallet_id }, 10), 422, "same_wallet");
    expectError(await transfer(a, { handle: a.handle }, 10), 422, "same_wallet");
    await settle([a.id]);
    expect(await balanceOf(a)).toBe(1_000);
  });
});

describe("428 idempotency_key_required", () => {
  it("a money-moving POST without a key", async () => {
    const a = await register();
    expectError(await api(`/wallets/${a.wallet_id}/deposits`, { token: a.token, body: { amount: 5 } }), 428, "idempotency_key_required");
    expectError(await api(`/wallets/${a.wallet_id}/withdrawals`, { token: a.token, body: { amount: 5 } }), 428, "idempotency_key_required");
    expectError(
      await api("/transfers", { token: a.token, body: { from_wallet_id: a.wallet_id, to: { handle: "x" }, amount: 5 } }),
      428,
      "idempotency_key_required",
    );
    expect(await balanceOf(a)).toBe(0);
  });
});
