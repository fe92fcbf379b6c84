/**
 * Request bodies and the order of answers (issue 19, items 8 and 9): login and register refuse a body over
 * MAX_BODY_BYTES with 413 whether it declares its length or is streamed without one, and stop reading it at the
 * limit; on routes that need a session, a missing, forged or revoked token gets 401 before any 400 or 413
 * about the body.
 */
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { api, deposit, register, settle, walletStub, type ApiResponse, type TestUser } from "./helpers";

const LIMIT = 16_384;
const CHUNK = 65_536;

interface Streamed {
  response: ApiResponse;
  /** Bytes the Worker had pulled from the body when the answer arrived. */
  pulled: number;
}

/** A JSON body of `total` bytes streamed in chunks without a Content-Length, counting what is read of it. */
function endlessJson(total: number): { body: ReadableStream<Uint8Array>; pulled: () => number } {
  let sent = 0;
  const chunk = new TextEncoder().encode("x".repeat(CHUNK));
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode('{"handle":"'));
    },
    pull(controller) {
      if (sent >= total) return controller.close();
      sent += CHUNK;
      controller.enqueue(chunk);
    },
  });
  return { body, pulled: () => sent };
}

async function send(path: string, body: BodyInit, headers: Record<string, string>): Promise<ApiResponse> {
  const response = await exports.default.fetch(
    new Request(`https://wallet.test/api/v1${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body }),
  );
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: response.status, headers: response.headers, text, json: json as Record<string, unknown> };
}

async function sendStreamed(path: string, total: number, headers: Record<string, string> = {}): Promise<Streamed> {
  const stream = endlessJson(total);
  const response = await send(path, stream.body, headers);
  return { response, pulled: stream.pulled() };
}

function code(res: ApiResponse): string | undefined {
  return (res.json as { error?: { code: string } } | null)?.error?.code;
}

const address = (): Record<string, string> => ({ "cf-connecting-ip": `198.51.100.${Math.floor(Math.random() * 250) + 1}` });

describe("413 on login and register", () => {
  for (const path of ["/auth/login", "/auth/register"]) {
    it(`${path}: a body over the limit with its length declared`, async () => {
      const big = JSON.stringify({ handle: "someone_big", password: "x".repeat(1_000_000) });
      const res = await send(path, big, { ...address(), "content-length": String(big.length) });
      expect([res.status, code(res)]).toEqual([413, "payload_too_large"]);
    });

    it(`${path}: a streamed body without a length is refused, and read no further than the limit`, async () => {
      const { response, pulled } = await sendStreamed(path, 50 * 1_048_576, address());
      expect([response.status, code(response)]).toEqual([413, "payload_too_large"]);
      // A few chunks may be in flight between the runtime and the Worker; nowhere near the 50 MB offered.
      expect(pulled).toBeLessThan(1_048_576);
    });

    it(`${path}: a body just under the limit is still parsed`, async () => {
      const res = await api(path, { body: { handle: "x", password: "y".repeat(LIMIT - 100) }, headers: address() });
      expect([res.status, code(res)]).toEqual([400, "validation_error"]);
    });
  }
});

describe("authentication first on routes that need a session", () => {
  async function revoked(): Promise<TestUser> {
    const user = await register();
    await deposit(user, 1_000);
    await settle([user.id]);
    expect((await api("/auth/logout", { method: "POST", token: user.token })).status).toBe(204);
    return user;
  }

  function routes(user: TestUser): string[] {
    return [`/wallets/${user.wallet_id}/deposits`, `/wallets/${user.wallet_id}/withdrawals`, "/transfers"];
  }

  it("a revoked token gets 401, not 400, for malformed JSON", async () => {
    const user = await revoked();
    for (const route of routes(user)) {
      const res = await api(route, {
        token: user.token,
        key: crypto.randomUUID(),
        rawBody: "{not json",
        headers: { "content-type": "application/json" },
      });
      expect([route, res.status, code(res)]).toEqual([route, 401, "unauthenticated"]);
    }
  });

  it("a revoked or forged token gets 401, not 413, for an oversized body, declared or streamed", async () => {
    const user = await revoked();
    const other = await register();
    const forged = `${other.id}.${"A".repeat(43)}`;
    const big = JSON.stringify({ amount: 5, pad: "x".repeat(100_000) });
    for (const token of [user.token, forged]) {
      for (const route of routes(user)) {
        const headers = { authorization: `Bearer ${token}`, "idempotency-key": crypto.randomUUID() };
        const declared = await send(route, big, { ...headers, "content-length": String(big.length) });
        expect([route, declared.status, code(declared)]).toEqual([route, 401, "unauthenticated"]);
        const streamed = await sendStreamed(route, 2 * 1_048_576, headers);
        expect([route, streamed.response.status, code(streamed.response)]).toEqual([route, 401, "unauthenticated"]);
      }
    }
    const noToken = await send("/transfers", big, { "idempotency-key": crypto.randomUUID(), "content-length": String(big.length) });
    expect([noToken.status, code(noToken)]).toEqual([401, "unauthenticated"]);
    const snap = await walletStub(user.wallet_id).snapshot();
    expect(snap.code === "ok" ? [snap.wallet.balance, snap.wallet.version] : null).toEqual([1_000, 1]);
  });

  it("a live session still gets 400 and 413 for the body, and nothing moves", async () => {
    const user = await register();
    for (const route of routes(user)) {
      const malformed = await api(route, {
        token: user.token,
        key: crypto.randomUUID(),
        rawBody: "{not json",
        headers: { "content-type": "application/json" },
      });
      expect([route, malformed.status, code(malformed)]).toEqual([route, 400, "validation_error"]);
      const streamed = await sendStreamed(route, 2 * 1_048_576, {
        authorization: `Bearer ${user.token}`,
        "idempotency-key": crypto.randomUUID(),
      });
      expect([route, streamed.response.status, code(streamed.response)]).toEqual([route, 413, "payload_too_large"]);
    }
    const snap = await walletStub(user.wallet_id).snapshot();
    expect(snap.code === "ok" ? [snap.wallet.balance, snap.wallet.version] : null).toEqual([0, 0]);
  });
});
