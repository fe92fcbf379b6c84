/**
 * Text that another person wrote (a memo, a name), made safe to put on this screen. The server refuses
 * control and bidirectional override characters and piles of combining marks in new text, but entries
 * written before that rule are hash-chained and can never change, so the client also neutralises what it
 * shows: it never changes the stored text, only the copy on screen.
 *
 * - Bidirectional embeddings, overrides and isolates (U+202A..U+202E, U+2066..U+2069) and the deprecated
 *   format controls (U+206A..U+206F) are dropped, so "U+202E gpj.exe" reads as what it is: "gpj.exe".
 * - Control characters and line or paragraph separators become a space: one line stays one line.
 * - Each character as a reader sees it keeps at most DISPLAY_MAX_MARKS combining marks (the server's default
 *   limit), so a stack of marks cannot climb over other rows.
 * - Lone surrogates become U+FFFD.
 * The view also isolates the result (<bdi>, `unicode-bidi: isolate`) and clips its row, so even text this
 * function did not foresee cannot reorder or overlap its surroundings.
 */

import { forbiddenCharacter } from "../../src/domain/text.ts";

/** Combining marks kept on one character (the server's TEXT_MAX_MARKS_PER_GRAPHEME default). */
export const DISPLAY_MAX_MARKS = 5;

const DROPPED = /[\u202A-\u202E\u2066-\u2069\u206A-\u206F]/gu;
const AS_SPACE = /[\p{Cc}\u2028\u2029]/gu;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const MARK = /^\p{M}$/u;

function capMarks(grapheme: string, maxMarks: number): string {
  let marks = 0;
  let out = "";
  for (const ch of grapheme) {
    if (MARK.test(ch) && ++marks > maxMarks) continue;
    out += ch;
  }
  return out;
}

/** `text` as it may be shown: see the module comment for what changes and why. */
export function displayText(text: string, maxMarks = DISPLAY_MAX_MARKS): string {
  const cleaned = text.replace(LONE_SURROGATE, "\uFFFD").replace(DROPPED, "").replace(AS_SPACE, " ");
  if (typeof Intl.Segmenter !== "function") return cleaned.replace(/\p{M}{2,}/gu, (run) => Array.from(run).slice(0, maxMarks).join(""));
  let out = "";
  for (const { segment } of new Intl.Segmenter(undefined, { granularity: "grapheme" }).segment(cleaned)) out += capMarks(segment, maxMarks);
  return out;
}

/** Counts characters as a reader sees them (graphemes), the way the server counts its limits. */
export function graphemeCount(text: string): number {
  if (typeof Intl.Segmenter !== "function") return Array.from(text).length;
  let n = 0;
  for (const _segment of new Intl.Segmenter(undefined, { granularity: "grapheme" }).segment(text)) n++;
  return n;
}

/** Why the server would refuse `note` as a memo of at most `max` characters, in words for the form; or null. */
export function memoProblem(note: string, max: number): string | null {
  // The server's own policy (src/domain/text.ts, bundled in), so the form refuses exactly what the server would.
  if (forbiddenCharacter(note) !== null) return "The note cannot contain control, invisible or text-direction characters.";
  if (graphemeCount(note) > max) return `Keep the note to ${max} characters.`;
  return null;
}
