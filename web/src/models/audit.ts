/**
 * The auditor's view of the append-only audit log and of the hash-chain verification. The server enforces
 * the auditor role; this model only shows what it answers.
 */
import { signal } from "@preact/signals";
import { api } from "../api";
import type { AuditRow, Page, SelfAuditStatus, VerifyResult, VerifySummary } from "../types";

export interface AuditFilters {
  kind: "" | AuditRow["kind"];
  status: "" | AuditRow["status"];
  wallet_id: string;
}

export const auditFilters = signal<AuditFilters>({ kind: "", status: "", wallet_id: "" });
export const auditRows = signal<AuditRow[]>([]);
export const auditCursor = signal<string | null>(null);
export const auditStatus = signal<"idle" | "loading" | "error" | "forbidden">("idle");
/** False until a first page has arrived, so "no rows" is never said before the server answered. */
export const auditReady = signal(false);

export type VerifyState =
  | { state: "idle" | "unavailable" | "forbidden" | "error" }
  | { state: "loading"; wallets_done: number; wallets_total: number }
  | { state: "done"; result: VerifySummary };

export const verifyState = signal<VerifyState>({ state: "idle" });

function query(cursor: string | null): string {
  const params = new URLSearchParams({ limit: "50" });
  const { kind, status, wallet_id } = auditFilters.value;
  if (kind !== "") params.set("kind", kind);
  if (status !== "") params.set("status", status);
  if (wallet_id.trim() !== "") params.set("wallet_id", wallet_id.trim());
  if (cursor !== null) params.set("cursor", cursor);
  return params.toString();
}

/** Loads the first page for the current filters (`reset`) or the next page after the loaded ones. */
export async function loadAudit(reset: boolean): Promise<void> {
  if (auditStatus.value === "loading") return;
  const cursor = reset ? null : auditCursor.value;
  if (!reset && cursor === null) return;
  auditStatus.value = "loading";
  const result = await api<Page<AuditRow>>("GET", `/audit?${query(cursor)}`);
  if (!result.ok) {
    auditStatus.value = result.status === 403 ? "forbidden" : "error";
    return;
  }
  auditRows.value = reset ? result.data.items : [...auditRows.value, ...result.data.items];
  auditCursor.value = result.data.next_cursor;
  auditStatus.value = "idle";
  auditReady.value = true;
}

/** How often an open audit screen looks for new rows (the outbox writes them in batches every few seconds). */
export const AUDIT_REFRESH_MS = 3_000;

/**
 * Fetches the newest page for the current filters and puts the rows not yet shown on top, keeping the pages
 * already loaded below them: the log is append-only, so nothing shown ever changes.
 */
export async function refreshNewest(): Promise<void> {
  if (auditStatus.value !== "idle" || !auditReady.value) return;
  const filters = auditFilters.value;
  const result = await api<Page<AuditRow>>("GET", `/audit?${query(null)}`);
  // A change of filters meanwhile makes this answer stale; the reload for the new filters wins.
  if (!result.ok || auditFilters.value !== filters || auditStatus.value !== "idle") return;
  const shown = new Set(auditRows.value.map((row) => row.id));
  const fresh = result.data.items.filter((row) => !shown.has(row.id));
  if (fresh.length > 0) auditRows.value = [...fresh, ...auditRows.value];
}

/** Wallets per verification page: small enough that the progress bar moves, large enough to be quick. */
export const VERIFY_PAGE_WALLETS = 50;
/** Problems the screen keeps; the rest are counted. */
const VERIFY_PROBLEMS_SHOWN = 500;

/**
 * Asks the server to recompute every wallet's hash chain, page by page, and combines the pages: the verdict
 * is "intact" only when every page has been checked and none found a problem. (Reporting the first page's
 * `ok` once said every chain was intact after 50 wallets, whatever the others held: issue 13.)
 */
export async function runVerify(): Promise<void> {
  if (verifyState.value.state === "loading") return;
  verifyState.value = { state: "loading", wallets_done: 0, wallets_total: 0 };
  const summary: VerifySummary = { ok: false, wallets_checked: 0, entries_checked: 0, pending: 0, problems: [], problems_omitted: 0 };
  let cursor: string | null = null;
  do {
    const query: string = `limit=${VERIFY_PAGE_WALLETS}${cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`}`;
    const result = await api<VerifyResult>("GET", `/audit/verify?${query}`);
    if (!result.ok) {
      verifyState.value = { state: result.status === 404 ? "unavailable" : result.status === 403 ? "forbidden" : "error" };
      return;
    }
    const page = result.data;
    summary.wallets_checked += page.wallets_checked;
    summary.entries_checked += page.entries_checked;
    summary.pending += page.pending;
    const room = Math.max(0, VERIFY_PROBLEMS_SHOWN - summary.problems.length);
    summary.problems.push(...page.problems.slice(0, room));
    summary.problems_omitted += page.problems_omitted + Math.max(0, page.problems.length - room);
    verifyState.value = { state: "loading", wallets_done: page.progress.wallets_done, wallets_total: page.progress.wallets_total };
    cursor = page.next_cursor;
  } while (cursor !== null);
  summary.ok = summary.problems.length === 0 && summary.problems_omitted === 0;
  verifyState.value = { state: "done", result: summary };
}

/** The continuous self-audit's position, or null until the server has answered (or when it could not). */
export const selfAuditStatus = signal<SelfAuditStatus | null>(null);

/** Loads how far behind the self-audit is; a failure leaves the last answer shown. */
export async function loadSelfAudit(): Promise<void> {
  const result = await api<SelfAuditStatus>("GET", "/audit/self-audit");
  if (result.ok) selfAuditStatus.value = result.data;
}
