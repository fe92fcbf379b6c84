/**
 * Retry-safe money moves. Each submission gets one Idempotency-Key, saved in localStorage with its route
 * and body BEFORE the first byte is sent, so a crash, a reload or a lost answer can never turn into a second
 * key for the same intent. Transient failures are retried with the same key; the record is deleted only
 * when the server gives a final answer, and records left over are resubmitted on the next page load.
 */
import { createModel, effect, signal } from "@preact/signals";
import { api, type ApiResult } from "../api";
import type { ApiErrorBody } from "../types";

/**
 * What a saved request does. Paying a request and refunding move money (the key is required); creating a request
 * or a split moves none, but goes through here too so that a lost answer is retried with the same key instead of
 * creating a second request.
 */
export type MoveKind = "deposit" | "withdrawal" | "transfer" | "pay" | "refund" | "request" | "split";

const MOVE_KINDS: ReadonlySet<string> = new Set<MoveKind>(["deposit", "withdrawal", "transfer", "pay", "refund", "request", "split"]);

/** The key of the object in each kind's success body: a pay and a refund answer with the transfer they made. */
const ANSWER_KEY: Record<MoveKind, string> = {
  deposit: "deposit",
  withdrawal: "withdrawal",
  transfer: "transfer",
  pay: "transfer",
  refund: "transfer",
  request: "payment_request",
  split: "split",
};

export interface PendingRecord {
  key: string;
  kind: MoveKind;
  route: string;
  body: Record<string, unknown>;
  created_at: string;
  /** Keys are scoped to a user, so only that user's session may resubmit the record. */
  user_id: string;
  /** A sentence describing the request ("Send $5.00 to @bob"), written when it was made. */
  summary: string;
}

/** The final answer of a saved request; `done` carries the success body, for forms that show what was made. */
export type MoveOutcome =
  { state: "done"; data: unknown } | { state: "refused"; error: ApiErrorBody } | { state: "pending"; error: ApiErrorBody };

export interface PendingItem {
  record: PendingRecord;
  sending: boolean;
  stale: boolean;
}

type OutcomeListener = (record: PendingRecord, outcome: MoveOutcome) => void;

const PREFIX = "wallet.pending.";
const MAX_ATTEMPTS = 5;
const BASE_DELAY_MS = 500;
const MAX_DELAY_MS = 4_000;
/**
 * The server remembers keys for at least 24 hours. A record older than that could be executed a second
 * time if it did go through, so it is never resubmitted automatically; the user checks the history instead.
 */
const STALE_MS = 23 * 60 * 60 * 1_000;

function storage(): Storage | null {
  try {
    return window.localStorage ?? null;
  } catch {
    return null;
  }
}

function isPendingRecord(value: unknown): value is PendingRecord {
  if (typeof value !== "object" || value === null) return false;
  const r = value as Record<string, unknown>;
  return (
    typeof r.key === "string" &&
    typeof r.route === "string" &&
    typeof r.created_at === "string" &&
    typeof r.user_id === "string" &&
    typeof r.summary === "string" &&
    typeof r.kind === "string" &&
    MOVE_KINDS.has(r.kind) &&
    typeof r.body === "object" &&
    r.body !== null
  );
}

function isStale(record: PendingRecord): boolean {
  return Date.now() - Date.parse(record.created_at) > STALE_MS;
}

/** A fresh key; randomUUID exists only in secure contexts, so plain-http development gets an equivalent. */
function newKey(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Answers that say nothing final about the request: the same key must be tried again later. */
function isTransient(result: ApiResult<unknown>): boolean {
  if (result.ok) return false;
  const { status, error } = result;
  // 401 means no session, so the request was never looked at; it waits for the user to log in again.
  // 429 is refused before idempotency is checked, so retrying the same key is safe and finishes the job.
  return status === 0 || status >= 500 || status === 401 || status === 429 || (status === 409 && error.code === "idempotency_in_progress");
}

function outcomeOf(record: PendingRecord, result: ApiResult<unknown>): MoveOutcome {
  if (result.ok) {
    // A 201 can still carry a movement that failed (status "failed" with a failure_code): a final refusal.
    const data = result.data;
    const movement = typeof data === "object" && data !== null ? (data as Record<string, unknown>)[ANSWER_KEY[record.kind]] : undefined;
    if (typeof movement === "object" && movement !== null) {
      const m = movement as Record<string, unknown>;
      if (m.status === "failed") {
        const code = typeof m.failure_code === "string" ? m.failure_code : "failed";
        return { state: "refused", error: { code, message: "", request_id: "" } };
      }
    }
    return { state: "done", data };
  }
  return isTransient(result) ? { state: "pending", error: result.error } : { state: "refused", error: result.error };
}

function backoffMs(attempt: number, retryAfterMs: number | null): number {
  const backoff = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** (attempt - 1));
  return Math.min(MAX_DELAY_MS, Math.max(backoff, retryAfterMs ?? 0));
}

/**
 * The saved requests of one app instance and the runs that send them. Disposing the model removes its
 * storage listener and cuts short every retry wait: a run that is waiting stops there with "pending", and
 * its record stays stored, to be resubmitted by the next model (the next page load), as after a crash.
 */
export const PendingModel = createModel(() => {
  /** Every stored request with no final answer yet, for the "still in progress" panel. */
  const pendingItems = signal<PendingItem[]>([]);
  /** Records also live in memory, so retries still work where storage is blocked (some private modes). */
  const memory = new Map<string, PendingRecord>();
  const inFlight = new Map<string, Promise<MoveOutcome>>();
  /** The retry waits under way, each with the function that ends it early. */
  const waits = new Map<ReturnType<typeof setTimeout>, () => void>();
  let disposed = false;
  let backgroundListener: OutcomeListener = () => undefined;

  function save(record: PendingRecord): void {
    memory.set(record.key, record);
    try {
      storage()?.setItem(PREFIX + record.key, JSON.stringify(record));
    } catch {
      // A full or blocked storage must not stop the payment; the in-memory copy still covers retries.
    }
  }

  function forget(key: string): void {
    memory.delete(key);
    try {
      storage()?.removeItem(PREFIX + key);
    } catch {
      // Nothing to do: the record is gone from memory and storage refused the removal.
    }
  }

  function readAll(): PendingRecord[] {
    const found = new Map(memory);
    const store = storage();
    if (store !== null) {
      for (let i = 0; i < store.length; i++) {
        const name = store.key(i);
        if (name === null || !name.startsWith(PREFIX)) continue;
        try {
          const parsed: unknown = JSON.parse(store.getItem(name) ?? "null");
          if (isPendingRecord(parsed)) found.set(parsed.key, parsed);
        } catch {
          // A corrupt record cannot be resubmitted safely; it is left for the user to clear.
        }
      }
    }
    return [...found.values()].sort((a, b) => a.created_at.localeCompare(b.created_at));
  }

  function sync(): void {
    pendingItems.value = readAll().map((record) => ({ record, sending: inFlight.has(record.key), stale: isStale(record) }));
  }

  /** Waits `ms` before a retry; disposing the model ends the wait at once (the caller then stops). */
  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (disposed) {
        resolve();
        return;
      }
      const timer = setTimeout(() => {
        waits.delete(timer);
        resolve();
      }, ms);
      waits.set(timer, resolve);
    });
  }

  async function attemptAll(record: PendingRecord): Promise<MoveOutcome> {
    let outcome: MoveOutcome = { state: "pending", error: { code: "network_error", message: "", request_id: "" } };
    let retryAfterMs: number | null = null;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (attempt > 0) await sleep(backoffMs(attempt, retryAfterMs));
      if (disposed) break;
      const result = await api<unknown>("POST", record.route, { body: record.body, idempotencyKey: record.key });
      outcome = outcomeOf(record, result);
      if (outcome.state !== "pending") {
        forget(record.key);
        return outcome;
      }
      if (!result.ok && result.status === 401) break;
      retryAfterMs = result.ok ? null : result.retryAfterMs;
    }
    return outcome;
  }

  /** Runs a stored record to a final answer or to the attempt limit; one run per key at a time. */
  function run(record: PendingRecord): Promise<MoveOutcome> {
    const running = inFlight.get(record.key);
    if (running !== undefined) return running;
    const promise = attemptAll(record).finally(() => {
      inFlight.delete(record.key);
      sync();
    });
    inFlight.set(record.key, promise);
    sync();
    return promise;
  }

  function runInBackground(record: PendingRecord): void {
    void run(record).then((outcome) => {
      if (outcome.state !== "pending") backgroundListener(record, outcome);
    });
  }

  // Another tab may add or finish records; its changes arrive as storage events.
  effect(() => {
    const onStorage = (event: StorageEvent): void => {
      if (event.key === null || event.key.startsWith(PREFIX)) sync();
    };
    if (typeof window !== "undefined") window.addEventListener("storage", onStorage);
    return () => {
      disposed = true;
      if (typeof window !== "undefined") window.removeEventListener("storage", onStorage);
      for (const [timer, end] of waits) {
        clearTimeout(timer);
        end();
      }
      waits.clear();
    };
  });
  sync();

  return {
    pendingItems,
    /** Creates, stores and sends a money move; resolves with its final answer, or "pending" if there is none yet. */
    submitMove(input: Omit<PendingRecord, "key" | "created_at">): Promise<MoveOutcome> {
      const record: PendingRecord = { ...input, key: newKey(), created_at: new Date().toISOString() };
      save(record);
      return run(record);
    },
    /** Who hears about requests that finish outside any form (resubmissions after a reload). */
    onBackgroundOutcome(listener: OutcomeListener): void {
      backgroundListener = listener;
    },
    /** Resubmits every fresh stored request of `userId` that is not already running, each with its own key. */
    resumePending(userId: string): void {
      for (const record of readAll()) {
        if (record.user_id === userId && !inFlight.has(record.key) && !isStale(record)) runInBackground(record);
      }
      sync();
    },
    /** "Retry now" in the panel. */
    retryPending(key: string): void {
      const record = readAll().find((r) => r.key === key);
      if (record !== undefined && !isStale(record)) runInBackground(record);
    },
    /** "Dismiss" for a stale record the user has checked against their history. */
    discardPending(key: string): void {
      if (inFlight.has(key)) return;
      forget(key);
      sync();
    },
  };
});

export type PendingModel = InstanceType<typeof PendingModel>;
