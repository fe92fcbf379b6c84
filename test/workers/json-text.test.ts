// The body-text checks of src/domain/json-numbers.ts: floats that JSON.parse would hide, and member names given
// twice in one object. Generated bodies are compared with what their generator knows (a repeat planted or not),
// so the scanner's nesting, string skipping and escape reading are checked against an independent account.
import { describe, expect, it } from "vitest";
import { DUPLICATE_ISSUE, FLOAT_ISSUE, jsonTextProblem } from "../../src/domain/json-numbers";

/** A small deterministic generator (the same bodies every run). */
function rng(seed: number): () => number {
  let x = seed >>> 0;
  return () => (x = (x * 1_664_525 + 1_013_904_223) >>> 0) / 2 ** 32;
}

type Built = { text: string; repeated: string | null };

/** A JSON value of bounded depth; an object repeats one of its names when `plant` says so (first one wins). */
function value(next: () => number, depth: number, plant: { left: boolean }): Built {
  const roll = next();
  if (depth === 0 || roll < 0.3) return { text: String(Math.floor(next() * 1_000)), repeated: null };
  if (roll < 0.45) return { text: JSON.stringify(`amount, "x": 1.5 ${Math.floor(next() * 9)}`), repeated: null };
  if (roll < 0.65) {
    const items = Array.from({ length: Math.floor(next() * 3) }, () => value(next, depth - 1, plant));
    return { text: `[${items.map((i) => i.text).join(",")}]`, repeated: items.find((i) => i.repeated !== null)?.repeated ?? null };
  }
  const names = ["amount", "to", "memo", "handle"].filter(() => next() < 0.6);
  const members = names.map((name) => ({ name, v: value(next, depth - 1, plant) }));
  let repeated = members.find((m) => m.v.repeated !== null)?.v.repeated ?? null;
  const again = members[Math.floor(next() * members.length)];
  if (plant.left && again !== undefined && next() < 0.3) {
    plant.left = false;
    // Written once plainly and once with an escape for its first letter: the same name to JSON.
    const escaped = `\\u${again.name.charCodeAt(0).toString(16).padStart(4, "0")}${again.name.slice(1)}`;
    members.push({ name: escaped, v: { text: "7", repeated: null } });
    repeated ??= again.name;
  }
  return { text: `{${members.map((m) => `${JSON.stringify(m.name).replace("\\\\u", "\\u")}:${m.v.text}`).join(", ")}}`, repeated };
}

describe("jsonTextProblem", () => {
  it("names a float by its member, and the top level as body", () => {
    expect(jsonTextProblem('{"amount":1e2}')).toEqual({ field: "amount", issue: FLOAT_ISSUE });
    expect(jsonTextProblem("[1.0]")).toEqual({ field: "body", issue: FLOAT_ISSUE });
    expect(jsonTextProblem('{"memo":"1.5e3","amount":15}')).toBeNull();
  });

  it("names a repeated member, reading escapes, and only within one object", () => {
    expect(jsonTextProblem('{"amount":1,"amount":2}')).toEqual({ field: "amount", issue: DUPLICATE_ISSUE });
    expect(jsonTextProblem('{"a":1,"\\u0061":2}')).toEqual({ field: "a", issue: DUPLICATE_ISSUE });
    expect(jsonTextProblem('{"to":{"handle":"x"},"handle":"y"}')).toBeNull();
    expect(jsonTextProblem('[{"a":1},{"a":2}]')).toBeNull();
    expect(jsonTextProblem('{"a":["a","a"],"b":{"a":{"a":1}}}')).toBeNull();
    expect(jsonTextProblem('{"a":{"b":1},"a":2}')).toEqual({ field: "a", issue: DUPLICATE_ISSUE });
  });

  it("agrees with the generator on 2,000 generated bodies, with and without a planted repeat", () => {
    const next = rng(17);
    let planted = 0;
    for (let n = 0; n < 2_000; n++) {
      const built = value(next, 4, { left: next() < 0.5 });
      // The generated text is valid JSON (checked), so the scanner is judged on real bodies only.
      expect(() => JSON.parse(built.text) as unknown, built.text).not.toThrow();
      const found = jsonTextProblem(built.text);
      expect(found, built.text).toEqual(built.repeated === null ? null : { field: built.repeated, issue: DUPLICATE_ISSUE });
      if (built.repeated !== null) planted++;
    }
    expect(planted).toBeGreaterThan(100);
  });
});
