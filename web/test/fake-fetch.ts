/** What the fake server answers; a promise lets a test hold an answer back to race it against a later one. */
export type FakeAnswer = { status: number; body: unknown } | Promise<{ status: number; body: unknown }>;

/**
 * A fake fetch for the web model tests (the API keys and webhook endpoints models). It records every request as
 * "METHOD path keyed? body?" (with the /api/v1 prefix dropped, "keyed" when an Idempotency-Key was sent, and the
 * body only when asked for, since only the webhook tests check what was posted), and answers with `answer`.
 * install() replaces globalThis.fetch and clears the record; restore() puts the real fetch back, so each test
 * starts clean and no other test file sees the fake.
 */
export class FakeFetch {
  requests: string[] = [];
  answer: (method: string, path: string) => FakeAnswer = () => ({ status: 200, body: {} });
  readonly #recordBodies: boolean;
  readonly #realFetch = globalThis.fetch;

  /** recordBodies: whether a string body is appended to each recorded request. */
  constructor(options: { recordBodies?: boolean } = {}) {
    this.#recordBodies = options.recordBodies ?? false;
  }

  /** Replaces globalThis.fetch with this fake and forgets the requests recorded so far. */
  install(): void {
    this.requests = [];
    globalThis.fetch = (async (input: string | URL | Request, init?: RequestInit) => {
      const path = (input instanceof Request ? input.url : input.toString()).replace(/^\/api\/v1/, "");
      const method = init?.method ?? "GET";
      const idem = (init?.headers as Record<string, string> | undefined)?.["idempotency-key"];
      const body = this.#recordBodies && typeof init?.body === "string" ? ` ${init.body}` : "";
      this.requests.push(`${method} ${path}${idem === undefined ? "" : " keyed"}${body}`);
      const { status, body: answered } = await this.answer(method, path);
      return {
        ok: status >= 200 && status < 300,
        status,
        headers: new Headers(),
        text: async () => (answered === null ? "" : JSON.stringify(answered)),
      };
    }) as typeof fetch;
  }

  /** Puts back the fetch that was in place when this fake was made. */
  restore(): void {
    globalThis.fetch = this.#realFetch;
  }
}

/** Lets queued promise callbacks (a model's follow-up work after an answer) run before a test looks. */
export const settle = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};
