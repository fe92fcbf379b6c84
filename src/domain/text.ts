/**
 * What free text from one user (a memo, a display name) may contain before it is shown on another user's
 * screen. Such text is stored as sent, hash-chained into histories and signed into receipts, so it is refused
 * (400 `validation_error`, naming the field) rather than silently rewritten: stripping characters would make
 * the stored memo differ from the one the sender wrote and hashed into their request, and the sender's
 * client can remove them itself and send again.
 *
 * Refused everywhere:
 * - control characters (C0, DEL, C1): a memo is one line, and controls mean nothing on a screen;
 * - bidirectional embeddings, overrides and isolates (U+202A..U+202E, U+2066..U+2069): they reorder the text
 *   after them, so "U+202E gpj.exe" reads as "exe.jpg", and an unterminated one can reorder the page around it;
 * - line and paragraph separators (U+2028, U+2029) and the deprecated format controls U+206A..U+206F;
 * - lone surrogates, which are not text and cannot be stored as UTF-8.
 * The directional marks LRM, RLM and ALM (U+200E, U+200F, U+061C) are allowed: writers of Arabic and Hebrew
 * need them to place punctuation and numbers, they open no embedding level, so they cannot reorder text beyond
 * the neighbours they sit between, and every client screen isolates user text anyway (`unicode-bidi: isolate`).
 *
 * Limits count characters as a reader sees them (extended grapheme clusters, `Intl.Segmenter`), so an emoji
 * or an accented letter counts once; each such character may carry at most a few combining marks (no "zalgo"
 * stacks over other rows) and a bounded number of code points (no unbounded emoji chains), so the grapheme
 * limit also bounds the code points, and the bytes, of what is stored.
 */

import type { Config } from "../config";

/** The limits that apply to one field. */
export interface TextLimits {
  max_graphemes: number;
  max_marks_per_grapheme: number;
  max_code_points_per_grapheme: number;
}

/** Characters refused anywhere in user text (see the module comment for why each is there). */
const FORBIDDEN = /[\p{Cc}\u2028\u2029\u202A-\u202E\u2066-\u2069\u206A-\u206F]/u;
const MARK = /\p{M}/gu;

const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });

/** The U+XXXX name of the first refused character in `text`, or null when there is none. */
export function forbiddenCharacter(text: string): string | null {
  if (!text.isWellFormed()) return "a lone surrogate";
  const found = FORBIDDEN.exec(text)?.[0];
  return found === undefined ? null : `U+${(found.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0")}`;
}

/** Why `text` is not acceptable under `limits` (a sentence for `error.details`), or null when it is. */
export function textIssue(text: string, limits: TextLimits): string | null {
  const bad = forbiddenCharacter(text);
  if (bad !== null) return `must not contain control or bidirectional override characters (found ${bad})`;
  let graphemes = 0;
  for (const { segment } of segmenter.segment(text)) {
    graphemes++;
    if (graphemes > limits.max_graphemes) return `at most ${limits.max_graphemes} characters`;
    if ((segment.match(MARK)?.length ?? 0) > limits.max_marks_per_grapheme) {
      return `at most ${limits.max_marks_per_grapheme} combining marks on one character`;
    }
    if (Array.from(segment).length > limits.max_code_points_per_grapheme) {
      return `at most ${limits.max_code_points_per_grapheme} code points in one character`;
    }
  }
  return null;
}

type TextConfig = Pick<Config, "memo_max_chars" | "display_name_max_chars" | "text_max_marks_per_grapheme" | "text_max_code_points_per_grapheme">;

/** A memo's limits, from the configuration. */
export function memoLimits(config: TextConfig): TextLimits {
  return { max_graphemes: config.memo_max_chars, ...perGrapheme(config) };
}

/** A display name's limits, from the configuration. */
export function displayNameLimits(config: TextConfig): TextLimits {
  return { max_graphemes: config.display_name_max_chars, ...perGrapheme(config) };
}

function perGrapheme(config: TextConfig): Omit<TextLimits, "max_graphemes"> {
  return { max_marks_per_grapheme: config.text_max_marks_per_grapheme, max_code_points_per_grapheme: config.text_max_code_points_per_grapheme };
}
