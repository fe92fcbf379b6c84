/**
 * The auditor's view of the append-only audit log and of the hash-chain verification. The server enforces
 * the auditor role; this model only shows what it answers.
 */
import { createModel, effect, signal, untracked } from "@preact/signals";
import { api } from "../api";
import type { AuditRow, AuditTotals, Page, SelfAuditStatus, VerifyResult, VerifySummary } from "../types";

export interface AuditFilters {
  kind: "" | AuditRow["kind"];
  status: "" | AuditRow["status"];
  wallet_id: string;
}

export type VerifyState =
  | { state: "idle" | "unavailable" | "forbidden" | "error" }
  | { state: "loading"; wallets_done: number; wallets_total: number }
  | { state: "done"; result: VerifySummary };

/** How often an open audit screen looks for new rows (the outbox writes them in batches every few seconds). */
export const AUDIT_REFRESH_MS = 3_000;
/** Wallets per verification page: small enough that the progress bar moves, large enough to be quick. */
export const VERIFY_PAGE_WALLETS = 50;
/** Buckets of the conservation chart: enough points for a smooth line, few enough for a cheap query. */
export const TOTALS_BUCKETS = 60;
/** The totals are read again every this many refreshes (they read the whole ledger mirror, the log page does not). */
const TOTALS_EVERY_REFRESHES = 10;

/**
 * The window of the conservation chart: from a little before the oldest loaded row (so the chart starts where the
 * log shown starts, and at least a minute back) to now, never longer than the server's 366 days.
 */
export function totalsQuery(rows: readonly AuditRow[], currency: string, now_ms: number): string {
  const oldest = rows.reduce((min, row) => Math.min(min, Date.parse(row.created_at) || min), now_ms);
  const from_ms = Math.max(now_ms - 365 * 86_400_000, Math.min(oldest - 1_000, now_ms - 60_000));
  const params = new URLSearchParams({
    currency,
    from: new Date(from_ms).toISOString(),
    to: new Date(now_ms + 1).toISOString(),
    buckets: String(TOTALS_BUCKETS),
  });
  return params.toString();
}

/** The currency most of the loaded rows are in, which the money chart shows. */
export function mainCurrency(rows: readonly AuditRow[]): string | null {
  const counts = new Map<string, number>();
  for (const row of rows) if (row.currency !== null) counts.set(row.currency, (counts.get(row.currency) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1])[0]?.[0] ?? null;
}

/** Problems the screen keeps; the rest are counted. */
const VERIFY_PROBLEMS_SHOWN = 500;

function query(filters: AuditFilters, cursor: string | null): string {
  const params = new URLSearchParams({ limit: "50" });
  const { kind, status, wallet_id } = filters;
  if (kind !== "") params.set("kind", kind);
  if (status !== "") params.set("status", status);
  if (wallet_id.trim() !== "") params.set("wallet_id", wallet_id.trim());
  if (cursor !== null) params.set("cursor", cursor);
  return params.toString();
}

/** One verification page folded into the running summary, keeping at most VERIFY_PROBLEMS_SHOWN problems. */
function addPage(summary: VerifySummary, page: VerifyResult): void {
  summary.wallets_checked += page.wallets_checked;
  summary.entries_checked += page.entries_checked;
  summary.pending += page.pending;
  const room = Math.max(0, VERIFY_PROBLEMS_SHOWN - summary.problems.length);
  summary.problems.push(...page.problems.slice(0, room));
  summary.problems_omitted += page.problems_omitted + Math.max(0, page.problems.length - room);
  summary.verified_by_self_audit += page.verified_by_self_audit;
  summary.unverified_wallets += page.unverified_wallets;
  summary.wallets_total = page.progress.wallets_total;
  if (page.log !== undefined) summary.log = page.log;
}

/**
 * One open audit screen. Creating it loads the first page and the self-audit's position, and an effect polls
 * for new rows every AUDIT_REFRESH_MS while the page is visible; disposing the model (leaving the screen)
 * clears that timer
 * and stops a verification that is still paging.
 */
export const AuditModel = createModel(() => {
  const filters = signal<AuditFilters>({ kind: "", status: "", wallet_id: "" });
  const rows = signal<AuditRow[]>([]);
  const cursor = signal<string | null>(null);
  const status = signal<"idle" | "loading" | "error" | "forbidden">("idle");
  /** False until a first page has arrived, so "no rows" is never said before the server answered. */
  const ready = signal(false);
  const verifyState = signal<VerifyState>({ state: "idle" });
  /** The continuous self-audit's position, or null until the server has answered (or when it could not). */
  const selfAudit = signal<SelfAuditStatus | null>(null);
  /** The conservation totals over time (GET /audit/totals), or null until answered; "error" when they could not be read. */
  const totals = signal<AuditTotals | "error" | null>(null);
  /** Set when the screen is left: a verification still paging through the wallets stops asking for more. */
  let disposed = false;

  /** Loads the first page for the current filters (`reset`) or the next page after the loaded ones. */
  async function loadAudit(reset: boolean): Promise<void> {
    if (status.value === "loading") return;
    const after = reset ? null : cursor.value;
    if (!reset && after === null) return;
    status.value = "loading";
    const result = await api<Page<AuditRow>>("GET", `/audit?${query(filters.value, after)}`);
    if (!result.ok) {
      status.value = result.status === 403 ? "forbidden" : "error";
      return;
    }
    rows.value = reset ? result.data.items : [...rows.value, ...result.data.items];
    cursor.value = result.data.next_cursor;
    status.value = "idle";
    ready.value = true;
  }

  /**
   * Fetches the newest page for the current filters and puts the rows not yet shown on top, keeping the
   * pages already loaded below them: the log is append-only, so nothing shown ever changes.
   */
  async function refreshNewest(): Promise<void> {
    if (status.value !== "idle" || !ready.value) return;
    const asked = filters.value;
    const result = await api<Page<AuditRow>>("GET", `/audit?${query(asked, null)}`);
    // A change of filters meanwhile makes this answer stale; the reload for the new filters wins.
    if (!result.ok || filters.value !== asked || status.value !== "idle") return;
    const shown = new Set(rows.value.map((row) => row.id));
    const fresh = result.data.items.filter((row) => !shown.has(row.id));
    if (fresh.length > 0) rows.value = [...fresh, ...rows.value];
  }

  /** Loads how far behind the self-audit is; a failure leaves the last answer shown. */
  async function loadSelfAudit(): Promise<void> {
    const result = await api<SelfAuditStatus>("GET", "/audit/self-audit");
    if (result.ok) selfAudit.value = result.data;
  }

  /** Loads the totals for the main currency of the loaded rows (nothing before any row has a currency). */
  async function loadTotals(): Promise<void> {
    const currency = mainCurrency(rows.value);
    if (currency === null) return;
    const result = await api<AuditTotals>("GET", `/audit/totals?${totalsQuery(rows.value, currency, Date.now())}`);
    if (disposed) return;
    if (result.ok) totals.value = result.data;
    else if (totals.value === null) totals.value = "error";
  }

  // The first page of rows names the currency and the window: the totals follow it once.
  effect(() => {
    if (ready.value && untracked(() => totals.value) === null) untracked(() => void loadTotals());
  });

  effect(() => {
    // The loads read signals; untracked keeps this effect from re-running (and restarting its timer) on them.
    untracked(() => {
      void loadAudit(true);
      void loadSelfAudit();
    });
    // New rows arrive in batches a few seconds after the money moves; keep the top of the log current.
    let ticks = 0;
    const timer = setInterval(() => {
      if (document.visibilityState !== "visible") return;
      void refreshNewest();
      void loadSelfAudit();
      if (++ticks % TOTALS_EVERY_REFRESHES === 0) void loadTotals();
    }, AUDIT_REFRESH_MS);
    return () => {
      disposed = true;
      clearInterval(timer);
    };
  });

  return {
    filters,
    rows,
    cursor,
    status,
    ready,
    verifyState,
    selfAudit,
    totals,
    loadTotals,
    loadAudit,
    refreshNewest,
    loadSelfAudit,
    /** Applies new filters and loads their first page. */
    applyFilters(next: AuditFilters): void {
      filters.value = next;
      void loadAudit(true);
    },
    /**
     * Asks the server to recompute every wallet's hash chain, page by page, and combines the pages: the
     * verdict is "intact" only when every page has been checked and none found a problem. (Reporting the
     * first page's `ok` once said every chain was intact after 50 wallets, whatever the others held: issue 13.)
     */
    async runVerify(): Promise<void> {
      if (verifyState.value.state === "loading") return;
      verifyState.value = { state: "loading", wallets_done: 0, wallets_total: 0 };
      const summary: VerifySummary = {
        ok: false,
        wallets_checked: 0,
        entries_checked: 0,
        pending: 0,
        problems: [],
        problems_omitted: 0,
        verified_by_self_audit: 0,
        unverified_wallets: 0,
        wallets_total: 0,
        log: null,
      };
      let next: string | null = null;
      do {
        const page: string = `limit=${VERIFY_PAGE_WALLETS}${next === null ? "" : `&cursor=${encodeURIComponent(next)}`}`;
        const result = await api<VerifyResult>("GET", `/audit/verify?${page}`);
        if (disposed) return;
        if (!result.ok) {
          verifyState.value = { state: result.status === 404 ? "unavailable" : result.status === 403 ? "forbidden" : "error" };
          return;
        }
        addPage(summary, result.data);
        verifyState.value = {
          state: "loading",
          wallets_done: result.data.progress.wallets_done,
          wallets_total: result.data.progress.wallets_total,
        };
        next = result.data.next_cursor;
      } while (next !== null);
      summary.ok = summary.problems.length === 0 && summary.problems_omitted === 0;
      verifyState.value = { state: "done", result: summary };
      // A verification is when an auditor looks at conservation: the totals are brought up to date with it.
      void loadTotals();
    },
  };
});

export type AuditModel = InstanceType<typeof AuditModel>;
