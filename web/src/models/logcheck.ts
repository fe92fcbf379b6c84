/**
 * The browser's verification of the shown wallet's history against the transparency log (web/src/logverify.ts
 * says what one check does). This model runs a check whenever the loaded history changes and every
 * LOG_CHECK_EVERY_MS, and keeps in localStorage what must outlive the page: the log key pinned on first use,
 * the last checkpoint accepted (which only ever grows), and an alarm.
 *
 * An alarm, once raised, is stored and shown until the user dismisses it knowingly: no later answer of the
 * server clears it, and while one is stored no check can report "verified". Created by its view (LogStatus)
 * and disposed with it.
 */
import { createModel, effect, signal, untracked } from "@preact/signals";
import { parseCheckpointBody, parseNote } from "../../../src/domain/signed-note";
import { checkWalletLog, type LogAlarm, type LogFetch, type LogMemory, type LogVerified } from "../logverify";
import type { Entry } from "../types";

/** How often the shown history is checked again (checkpoints are signed every few seconds while money moves). */
export const LOG_CHECK_EVERY_MS = 15_000;
/** How long the history must stay still before it is checked (a burst of live entries is checked once). */
export const LOG_CHECK_DEBOUNCE_MS = 500;
/** The largest log answer read: a checkpoint note is at most 16 KiB, a proof a few KiB. */
const LOG_ANSWER_MAX_CHARS = 65_536;

export const LOG_KEY_ITEM = "wallet.log.key";
export const LOG_CHECKPOINT_ITEM = "wallet.log.checkpoint";
export const LOG_ALARM_ITEM = "wallet.log.alarm";

/** The part of the wallet model the check reads. */
export interface LogWalletSource {
  entries: { readonly value: readonly Entry[] };
  activeWalletId(): string | null;
}

export interface LogCheckParts {
  wallet: LogWalletSource;
  /** localStorage in the app; tests pass their own. */
  storage?: Storage | null;
  /** fetch in the app; tests pass a fake. */
  fetchFn?: typeof fetch;
  now?: () => number;
}

export type LogStatus =
  | { state: "idle" | "checking" }
  | { state: "verified"; verified: LogVerified; wallet_id: string }
  | { state: "unavailable"; reason: string };

function defaultStorage(): Storage | null {
  try {
    return window.localStorage ?? null;
  } catch {
    return null;
  }
}

function isAlarm(value: unknown): value is LogAlarm {
  if (typeof value !== "object" || value === null) return false;
  const a = value as Record<string, unknown>;
  return typeof a.kind === "string" && typeof a.message === "string" && typeof a.at === "string";
}

/** The size of a stored checkpoint, or -1 when there is none (or it is unreadable). */
function sizeOf(text: string | null): number {
  if (text === null) return -1;
  try {
    return parseCheckpointBody(parseNote(text).body).size;
  } catch {
    return -1;
  }
}

/** The verification of one app instance's shown wallet. */
export const LogCheckModel = createModel(({ wallet, storage = defaultStorage(), fetchFn, now = Date.now }: LogCheckParts) => {
  const status = signal<LogStatus>({ state: "idle" });
  const alarm = signal<LogAlarm | null>(readAlarm());
  let running: Promise<void> | null = null;
  let again = false;
  let disposed = false;

  function readAlarm(): LogAlarm | null {
    try {
      const value: unknown = JSON.parse(storage?.getItem(LOG_ALARM_ITEM) ?? "null");
      return isAlarm(value) ? value : null;
    } catch {
      return null;
    }
  }

  const memory: LogMemory = {
    pinnedKey: () => storage?.getItem(LOG_KEY_ITEM) ?? null,
    pinKey: (vkey) => storage?.setItem(LOG_KEY_ITEM, vkey),
    lastCheckpoint: () => storage?.getItem(LOG_CHECKPOINT_ITEM) ?? null,
    acceptCheckpoint(text) {
      // The stored checkpoint never moves backwards, whatever called this.
      if (sizeOf(text) >= sizeOf(storage?.getItem(LOG_CHECKPOINT_ITEM) ?? null)) storage?.setItem(LOG_CHECKPOINT_ITEM, text);
    },
  };

  const io: LogFetch = async (path) => {
    const response = await (fetchFn ?? fetch)(`/api/v1${path}`, {
      credentials: "same-origin",
      cache: "no-store",
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    if (text.length > LOG_ANSWER_MAX_CHARS) throw new Error(`GET ${path}: the answer is too large`);
    return { status: response.status, text };
  };

  function raise(found: Omit<LogAlarm, "at">): void {
    // The first alarm is kept: a later one must not overwrite what the user has not read yet.
    if (alarm.value !== null) return;
    const stored: LogAlarm = { ...found, at: new Date(now()).toISOString() };
    storage?.setItem(LOG_ALARM_ITEM, JSON.stringify(stored));
    alarm.value = stored;
  }

  async function checkOnce(): Promise<void> {
    const walletId = wallet.activeWalletId();
    const entries = wallet.entries.value;
    if (walletId === null) return;
    if (status.value.state !== "verified") status.value = { state: "checking" };
    const result = await checkWalletLog(walletId, entries, io, memory, now());
    if (disposed || walletId !== wallet.activeWalletId()) return;
    if (result.state === "alarm") raise(result.alarm);
    else if (result.state === "verified") status.value = { state: "verified", verified: result.verified, wallet_id: walletId };
    else status.value = { state: "unavailable", reason: result.reason };
  }

  /** Runs a check now; one asked for while another runs makes exactly one more run afterwards. */
  function check(): Promise<void> {
    if (running !== null) {
      again = true;
      return running;
    }
    const run = async (): Promise<void> => {
      do {
        again = false;
        await checkOnce();
      } while (again && !disposed);
    };
    running = run().finally(() => {
      running = null;
    });
    return running;
  }

  effect(() => {
    // Re-run whenever the loaded history changes (a new entry, another wallet), after it has been still a moment.
    const entries = wallet.entries.value;
    if (entries.length === 0) return;
    const timer = setTimeout(() => void untracked(check), LOG_CHECK_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  });
  effect(() => {
    const timer = setInterval(() => void check(), LOG_CHECK_EVERY_MS);
    // An alarm raised in another tab of this browser shows here too.
    const onStorage = (event: StorageEvent): void => {
      if (event.key === LOG_ALARM_ITEM && alarm.peek() === null) alarm.value = readAlarm();
    };
    if (typeof window !== "undefined") window.addEventListener("storage", onStorage);
    return () => {
      disposed = true;
      clearInterval(timer);
      if (typeof window !== "undefined") window.removeEventListener("storage", onStorage);
    };
  });

  return {
    status,
    alarm,
    check,
    /**
     * The user has read the alarm and dismisses it. For a changed key, the key the service now serves is pinned
     * (the user accepts it knowingly); the stored checkpoint stays as it is, so a log that still serves a rolled
     * back or forked tree raises the alarm again at the next check.
     */
    dismissAlarm(): void {
      const current = alarm.value;
      if (current === null) return;
      if (current.kind === "key_changed" && current.new_vkey !== undefined) {
        storage?.setItem(LOG_KEY_ITEM, current.new_vkey);
        // A new key starts a new log as far as this browser knows: its old checkpoint cannot be checked against it.
        storage?.removeItem(LOG_CHECKPOINT_ITEM);
      }
      storage?.removeItem(LOG_ALARM_ITEM);
      alarm.value = null;
      status.value = { state: "idle" };
      void check();
    },
  };
});

export type LogCheckModel = InstanceType<typeof LogCheckModel>;
