/**
 * Who is behind a counterparty wallet id, as far as this client knows (issue 18). History entries name the other
 * side only by wallet id, and the contract has no look-up by wallet id, so the names come from what the client
 * has seen: the wallets the user paid by handle (learned when a payment succeeds, kept in localStorage per user)
 * and the requesters of payment requests (whose wallet id each request carries). An unknown wallet shows a short
 * id; the report of issue 18 proposes an additive `counterparty_handle` on entries to close the gap.
 */
import { createModel, signal } from "@preact/signals";

const STORAGE_PREFIX = "edge-wallet.directory.";
/** Wallets remembered per user; the oldest are dropped beyond this, so storage cannot grow without bound. */
const MAX_REMEMBERED = 500;

/** The names one app instance knows, by wallet id: handles without the "@". */
export const DirectoryModel = createModel(() => {
  const handles = signal<ReadonlyMap<string, string>>(new Map());
  let userId: string | null = null;

  function save(): void {
    if (userId === null) return;
    try {
      localStorage.setItem(STORAGE_PREFIX + userId, JSON.stringify([...handles.value].slice(-MAX_REMEMBERED)));
    } catch {
      // Storage refused: the names still hold for this page.
    }
  }

  return {
    handles,
    /** Loads what this user's earlier visits learned (on login), or forgets everything (null, on logout). */
    useFor(id: string | null): void {
      userId = id;
      let pairs: [string, string][] = [];
      try {
        const raw: unknown = id === null ? null : JSON.parse(localStorage.getItem(STORAGE_PREFIX + id) ?? "[]");
        if (Array.isArray(raw))
          pairs = raw.filter((p): p is [string, string] => Array.isArray(p) && typeof p[0] === "string" && typeof p[1] === "string");
      } catch {
        pairs = [];
      }
      handles.value = new Map(pairs);
    },
    /** Remembers that `walletId` belongs to `handle`. */
    learn(walletId: string, handle: string): void {
      const clean = handle.replace(/^@/, "");
      if (handles.value.get(walletId) === clean) return;
      const next = new Map(handles.value);
      next.delete(walletId);
      next.set(walletId, clean);
      handles.value = next;
      save();
    },
  };
});

export type DirectoryModel = InstanceType<typeof DirectoryModel>;
