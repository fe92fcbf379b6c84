/**
 * The auditor's view of the append-only audit log and of the hash-chain verification. The server enforces
 * the auditor role; this model only shows what it answers.
 */
import { signal } from "@preact/signals";
import { api } from "../api";
import type { AuditRow, Page, SelfAuditStatus, VerifyResult } from "../types";

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
  | { state: "idle" | "loading" | "unavailable" | "forbidden" | "error" }
  | { state: "done"; result: VerifyResult };

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

/** Asks the server to recompute every wallet's hash chain; a 404 means the route is not deployed yet. */
export async function runVerify(): Promise<void> {
  verifyState.value = { state: "loading" };
  const result = await api<VerifyResult>("GET", "/audit/verify");
  if (result.ok) verifyState.value = { state: "done", result: result.data };
  else if (result.status === 404) verifyState.value = { state: "unavailable" };
  else if (result.status === 403) verifyState.value = { state: "forbidden" };
  else verifyState.value = { state: "error" };
}

/** The continuous self-audit's position, or null until the server has answered (or when it could not). */
export const selfAuditStatus = signal<SelfAuditStatus | null>(null);

/** Loads how far behind the self-audit is; a failure leaves the last answer shown. */
export async function loadSelfAudit(): Promise<void> {
  const result = await api<SelfAuditStatus>("GET", "/audit/self-audit");
  if (result.ok) selfAuditStatus.value = result.data;
}
