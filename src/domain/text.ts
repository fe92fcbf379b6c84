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
 * - lone surrogates, which are not text and cannot be stored as UTF-8;
 * - invisible format characters (`\p{Cf}`: zero-width spaces, word joiners, the byte-order mark, interlinear
 *   annotations) and the Hangul fillers, which render as nothing and let a memo hide text or a name look empty;
 *   tag characters too (they can carry about 1,260 hidden ASCII characters in one memo), except inside the
 *   flag emoji they exist for (England, Scotland, Wales);
 * - private-use characters and noncharacters, which mean nothing on another user's screen.
 * Text that is not empty must also show something: at least one character that is not a space or a mark of
 * direction, so a display name of only U+200B or U+3164 is refused (an outside probe found both accepted).
 * The joiners ZWJ and ZWNJ (U+200D, U+200C) are allowed, as emoji sequences and Persian and Indic writing
 * need them. The directional marks LRM, RLM and ALM (U+200E, U+200F, U+061C) are allowed: writers of Arabic and Hebrew
 * need them to place punctuation and numbers, they open no embedding level, so they cannot reorder text beyond
 * the neighbours they sit between, and every client screen isolates user text anyway (`unicode-bidi: isolate`).
 *
 * Limits count characters as a reader sees them (extended grapheme clusters, `Intl.Segmenter`), so an emoji
 * or an accented letter counts once; each such character may carry at most a few combining marks (no "zalgo"
 * stacks over other rows) and a bounded number of code points (no unbounded emoji chains), so the grapheme
 * limit also bounds the code points, and the bytes, of what is stored.
 */

/** The limits that apply to one field. */
export interface TextLimits {
  max_graphemes: number;
  max_marks_per_grapheme: number;
  max_code_points_per_grapheme: number;
}

/**
 * Characters refused anywhere in user text (see the module comment for why each is there): controls, the
 * separators, every format character but the joiners and direction marks, the Hangul fillers, private use.
 */
const FORBIDDEN = /[\p{Cc}\u2028\u2029\p{Co}\u115F\u1160\u3164\uFFA0]|(?![\u200C-\u200F\u061C])\p{Cf}/u;
/** A subdivision flag (U+1F3F4, tag letters, CANCEL TAG): the one place tag characters are allowed. */
const FLAG_TAGS = /\u{1F3F4}[\u{E0020}-\u{E007E}]{1,8}\u{E007F}/gu;
/** Something a reader sees: not a space and not a mark of direction or joining. */
const VISIBLE = /[^\p{Z}\u200C-\u200F\u061C]/u;
const MARK = /\p{M}/gu;

const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });

/** The U+XXXX name of the first refused character in `text`, or null when there is none. */
export function forbiddenCharacter(text: string): string | null {
  if (!text.isWellFormed()) return "a lone surrogate";
  const outsideFlags = text.replace(FLAG_TAGS, "\u{1F3F4}");
  const found = FORBIDDEN.exec(outsideFlags)?.[0];
  if (found !== undefined) return codePointName(found);
  for (const ch of outsideFlags) {
    const cp = ch.codePointAt(0) ?? 0;
    // Noncharacters: U+FDD0..U+FDEF and the last two code points of every plane.
    if ((cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) === 0xfffe) return codePointName(ch);
  }
  return null;
}

function codePointName(ch: string): string {
  return `U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0")}`;
}

/** Why `text` is not acceptable under `limits` (a sentence for `error.details`), or null when it is. */
export function textIssue(text: string, limits: TextLimits): string | null {
  const bad = forbiddenCharacter(text);
  if (bad !== null) return `must not contain control, invisible or bidirectional override characters (found ${bad})`;
  if (text !== "" && !VISIBLE.test(text)) return "must contain at least one visible character";
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

/**
 * The settings the text limits come from (a structural part of `Config`): written out here so that this module
 * imports nothing and the web client can use the very same policy (web/src/text.ts).
 */
type TextConfig = {
  memo_max_chars: number;
  display_name_max_chars: number;
  text_max_marks_per_grapheme: number;
  text_max_code_points_per_grapheme: number;
};

/** A memo's limits, from the configuration. */
export function memoLimits(config: TextConfig): TextLimits {
  return { max_graphemes: config.memo_max_chars, ...perGrapheme(config) };
}

/** A display name's limits, from the configuration. */
export function displayNameLimits(config: TextConfig): TextLimits {
  return { max_graphemes: config.display_name_max_chars, ...perGrapheme(config) };
}

function perGrapheme(config: TextConfig): Omit<TextLimits, "max_graphemes"> {
  return {
    max_marks_per_grapheme: config.text_max_marks_per_grapheme,
    max_code_points_per_grapheme: config.text_max_code_points_per_grapheme,
  };
}
