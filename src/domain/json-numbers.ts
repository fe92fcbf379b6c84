/**
 * Whether a JSON text writes a number as a float. Every number this API accepts in a request body is a whole
 * number (amounts in minor units, seconds), but JSON.parse turns `100.0`, `1e2` and even `1.0000000000000001`
 * into the whole number 100 or 1, so a schema that checks the parsed value cannot see that the client sent a
 * float. This looks at the text itself, before anything is parsed.
 */

/**
 * The first number in `text` written with a fraction or an exponent: the member name it is the value of (the
 * last string before its colon), or "body" for a number that is not a member's value; null when there is none.
 * Strings are skipped with their escapes, so digits inside a memo are not numbers. Malformed JSON is left to
 * the parser: this only ever reports a number token it saw.
 */
export function firstFloatMember(text: string): string | null {
  let lastString = "";
  let afterColon = false;
  let i = 0;
  while (i < text.length) {
    const ch = text[i] as string;
    if (ch === '"') {
      const end = stringEnd(text, i);
      lastString = text.slice(i + 1, end);
      afterColon = false;
      i = end + 1;
    } else if (ch === "-" || (ch >= "0" && ch <= "9")) {
      const token = /^-?[0-9]*(?:\.[0-9]*)?(?:[eE][+-]?[0-9]*)?/.exec(text.slice(i, i + 400))?.[0] ?? ch;
      if (/[.eE]/.test(token)) return afterColon ? memberName(lastString) : "body";
      afterColon = false;
      i += Math.max(token.length, 1);
    } else {
      if (ch === ":") afterColon = true;
      else if (ch !== " " && ch !== "\t" && ch !== "\n" && ch !== "\r") afterColon = false;
      i++;
    }
  }
  return null;
}

/** The index of the quote that closes the string opening at `start` (the text's length if it never closes). */
function stringEnd(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
  return Math.min(i, text.length);
}

/** A member name as a field of `error.details`: its JSON escapes read, or the raw text if they are malformed. */
function memberName(raw: string): string {
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    return raw;
  }
}
