/**
 * What every list route shares: the `limit` parameter, and opaque cursors naming a position in a newest-first
 * list by time and id (base64url of a versioned `<tag>:<ms>:<id>`, so a cursor of one list is refused by another).
 */
import { base64urlDecode, base64urlEncode } from "../auth/encoding";
import { ApiError } from "./errors";

/**
 * The page size asked for: `fallback` when absent, else a whole number 1..`max` written as decimal digits (400
 * otherwise). Number() alone would also read `1e1`, `0x10`, `5.0` and ` 5`, which the history route refuses.
 */
export function pageLimit(raw: string | undefined, fallback: number, max: number): number {
  if (raw === undefined) return fallback;
  const limit = Number(raw);
  if (!/^[0-9]{1,16}$/.test(raw) || !Number.isSafeInteger(limit) || limit < 1 || limit > max) {
    throw new ApiError("validation_error", [{ field: "limit", issue: `a whole number from 1 to ${max}` }]);
  }
  return limit;
}

/** A position in a newest-first list: the last item's time and id; the next page is what comes strictly before. */
/**
 * The position of a list followed by an ascending number (events by seq, checkpoints by size): `after`, or `cursor`
 * in its place. Every list of the API is followed by passing `next_cursor` back as `cursor`, and a client that did
 * that on a route reading only `after` was answered the first page again, for ever (an unknown query parameter is
 * ignored). Both, disagreeing, is a 400 rather than a guess.
 */
export function afterParam(after: string | undefined, cursor: string | undefined): string | undefined {
  if (after !== undefined && cursor !== undefined && after !== cursor)
    throw new ApiError("validation_error", [{ field: "cursor", issue: "names another position than after" }]);
  return after ?? cursor;
}

export interface TimePosition {
  at_ms: number;
  id: string;
}

/** The cursor for `p` in the list tagged `tag`. */
export function encodeTimeCursor(tag: string, p: TimePosition): string {
  return base64urlEncode(new TextEncoder().encode(`${tag}:${p.at_ms}:${p.id}`));
}

/** The position in a cursor of the list tagged `tag`; 400 for anything this API did not return for that list. */
export function decodeTimeCursor(tag: string, cursor: string): TimePosition {
  let text: string;
  try {
    text = new TextDecoder().decode(base64urlDecode(cursor));
  } catch {
    text = "";
  }
  const match = /^([a-z0-9]{1,8}):(\d{1,16}):([a-z]{3}_[0-9a-z_]{1,80})$/.exec(text);
  const at_ms = Number(match?.[2]);
  if (match === null || match[1] !== tag || match[3] === undefined || !Number.isSafeInteger(at_ms)) {
    throw new ApiError("validation_error", [{ field: "cursor", issue: "not a cursor this API returned" }]);
  }
  return { at_ms, id: match[3] };
}
