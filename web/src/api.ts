/**
 * The only module that speaks HTTP to the Worker. It always sends the session cookie (same origin; the
 * token is never stored by the client), turns every failure into one result shape, and never throws, so
 * callers handle network errors and contract errors in the same place.
 */
import type { ApiErrorBody, ErrorDetail } from "./types";

const BASE = "/api/v1";

/** Either the parsed success body, or an error: a contract error, or `network_error` with status 0. */
export type ApiResult<T> =
  { ok: true; status: number; data: T } | { ok: false; status: number; error: ApiErrorBody; retryAfterMs: number | null };

export interface RequestOptions {
  body?: unknown;
  /** Sent as the Idempotency-Key header on money-moving POSTs. */
  idempotencyKey?: string;
  /** Login answers 401 for a wrong password; that must not be mistaken for an ended session. */
  expect401?: boolean;
}

let unauthenticatedListener: (() => void) | null = null;

/**
 * Registers what happens when any call finds the session gone (the session model logs the user out). Returns
 * the function that removes it again, which removes only this listener: a newer one registered meanwhile stays.
 */
export function onUnauthenticated(listener: () => void): () => void {
  unauthenticatedListener = listener;
  return () => {
    if (unauthenticatedListener === listener) unauthenticatedListener = null;
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function detailsOf(value: unknown): ErrorDetail[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const details: ErrorDetail[] = [];
  for (const item of value) {
    if (isRecord(item) && typeof item.field === "string") {
      details.push({ field: item.field, issue: typeof item.issue === "string" ? item.issue : "" });
    }
  }
  return details;
}

/** The contract's error body, or a stand-in when a proxy or crash answered with something else. */
function errorOf(status: number, parsed: unknown): ApiErrorBody {
  const error = isRecord(parsed) ? parsed.error : undefined;
  if (isRecord(error) && typeof error.code === "string") {
    const body: ApiErrorBody = {
      code: error.code,
      message: typeof error.message === "string" ? error.message : "",
      request_id: typeof error.request_id === "string" ? error.request_id : "",
    };
    const details = detailsOf(error.details);
    if (details !== undefined) body.details = details;
    return body;
  }
  return { code: status >= 500 ? "unavailable" : "http_error", message: `HTTP ${status}`, request_id: "" };
}

/** Retry-After in milliseconds, when the server sent it as a number of seconds. */
function retryAfterOf(response: Response): number | null {
  const header = response.headers.get("retry-after");
  if (header === null || !/^\d{1,6}$/.test(header.trim())) return null;
  return Number.parseInt(header.trim(), 10) * 1_000;
}

const NETWORK_ERROR: ApiErrorBody = { code: "network_error", message: "The request did not reach the server.", request_id: "" };

/** Calls `method path` under /api/v1 and returns the typed body, or the error. */
export async function api<T>(method: "GET" | "POST" | "DELETE", path: string, options: RequestOptions = {}): Promise<ApiResult<T>> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (options.body !== undefined) headers["content-type"] = "application/json";
  if (options.idempotencyKey !== undefined) headers["idempotency-key"] = options.idempotencyKey;
  let response: Response;
  let text: string;
  try {
    response = await fetch(BASE + path, {
      method,
      headers,
      body: options.body === undefined ? null : JSON.stringify(options.body),
      credentials: "same-origin",
      cache: "no-store",
    });
    // A body cut off mid-way leaves the outcome unknown, exactly like a lost connection, so it is one.
    text = await response.text();
  } catch {
    return { ok: false, status: 0, error: NETWORK_ERROR, retryAfterMs: null };
  }
  let parsed: unknown;
  try {
    parsed = text === "" ? null : JSON.parse(text);
  } catch {
    parsed = null;
  }
  if (response.ok) return { ok: true, status: response.status, data: parsed as T };
  if (response.status === 401 && options.expect401 !== true) unauthenticatedListener?.();
  return { ok: false, status: response.status, error: errorOf(response.status, parsed), retryAfterMs: retryAfterOf(response) };
}

/** A path segment from an id: ids come from the server, but are still encoded rather than trusted. */
export function seg(id: string): string {
  return encodeURIComponent(id);
}

/** A file the server sent (a statement), or why there is none. */
export type DownloadResult = { ok: true; blob: Blob; filename: string } | { ok: false; status: number; message: string };

/**
 * GETs a file under /api/v1 with the session cookie. An error answer is the contract's JSON body, whose
 * message (and the first detail's issue, for a limit) is returned for the view to show.
 */
export async function download(path: string): Promise<DownloadResult> {
  let response: Response;
  try {
    response = await fetch(BASE + path, { credentials: "same-origin", cache: "no-store" });
    if (response.ok) {
      const blob = await response.blob();
      const disposition = response.headers.get("content-disposition") ?? "";
      const filename = /filename="([^"]+)"/.exec(disposition)?.[1] ?? "statement.json";
      return { ok: true, blob, filename };
    }
  } catch {
    return { ok: false, status: 0, message: NETWORK_ERROR.message };
  }
  if (response.status === 401) unauthenticatedListener?.();
  let parsed: unknown = null;
  try {
    parsed = await response.json();
  } catch {
    // Not the contract's body: the status says enough.
  }
  const error = errorOf(response.status, parsed);
  const detail = error.details?.[0];
  return {
    ok: false,
    status: response.status,
    message: detail === undefined ? error.message : `${error.message} (${detail.field}: ${detail.issue})`,
  };
}
