/**
 * What JSON.parse hides about a request body's text, checked on the text itself before anything is parsed.
 *
 * Floats: every number this API accepts in a request body is a whole number (amounts in minor units, seconds),
 * but JSON.parse turns `100.0`, `1e2` and even `1.0000000000000001` into the whole number 100 or 1, so a schema
 * that checks the parsed value cannot see that the client sent a float.
 *
 * Duplicate members: JSON.parse keeps the last of `{"amount":1,"amount":100000}`, while another parser (a proxy's,
 * a log reader's, the client's own signer) may keep the first, so the same bytes would mean two different
 * payments (RFC 8259 §4: names "SHOULD be unique"; RFC 7493 I-JSON: "MUST NOT" repeat). Such a body is refused.
 */

/** A problem in a body's text: the member it concerns ("body" for the top level) and what is wrong. */
export interface JsonTextProblem {
  field: string;
  issue: string;
}

/** The issue of a number written as a float where a whole number is wanted. */
export const FLOAT_ISSUE = "a whole number, written without a fraction or exponent";
/** The issue of a member name given twice in one object. */
export const DUPLICATE_ISSUE = "given more than once in the same object";

/**
 * The first float or repeated member name in `text`, in the order they appear, or null when there is none. A
 * float is named by its member (the last string before its colon) or "body" for a number that is not a member's
 * value; a repeated name by itself. Strings are skipped with their escapes, so digits inside a memo are not
 * numbers, and names are compared as JSON reads them (`"a"` and `"\u0061"` are the same name). Malformed JSON is
 * left to the parser: this only ever reports a token it saw.
 */
export function jsonTextProblem(text: string): JsonTextProblem | null {
  let lastString = "";
  let afterColon = false;
  // One entry per open container: the names seen so far for an object, null for an array.
  const open: (Set<string> | null)[] = [];
  // Whether the next string is a member name: just after `{`, or after `,` inside an object.
  let expectName = false;
  let i = 0;
  while (i < text.length) {
    const ch = text[i] as string;
    if (ch === '"') {
      const end = stringEnd(text, i);
      lastString = text.slice(i + 1, end);
      const names = open.at(-1);
      if (expectName && names !== undefined && names !== null) {
        const name = memberName(lastString);
        if (names.has(name)) return { field: name, issue: DUPLICATE_ISSUE };
        names.add(name);
      }
      expectName = false;
      afterColon = false;
      i = end + 1;
    } else if (ch === "-" || (ch >= "0" && ch <= "9")) {
      const token = /^-?[0-9]*(?:\.[0-9]*)?(?:[eE][+-]?[0-9]*)?/.exec(text.slice(i, i + 400))?.[0] ?? ch;
      if (/[.eE]/.test(token)) return { field: afterColon ? memberName(lastString) : "body", issue: FLOAT_ISSUE };
      afterColon = false;
      expectName = false;
      i += Math.max(token.length, 1);
    } else {
      if (ch === "{") open.push(new Set());
      else if (ch === "[") open.push(null);
      else if (ch === "}" || ch === "]") open.pop();
      if (ch === ":") afterColon = true;
      else if (ch !== " " && ch !== "\t" && ch !== "\n" && ch !== "\r") afterColon = false;
      if (ch === "{" || (ch === "," && open.at(-1) instanceof Set)) expectName = true;
      else if (ch !== " " && ch !== "\t" && ch !== "\n" && ch !== "\r") expectName = false;
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
