/**
 * Statements built on first use (db/prepared.ts `lazily`): an object that wakes builds only what it reads,
 * each statement once.
 */
import { describe, expect, it } from "vitest";
import { lazily } from "../../src/db/prepared";

describe("lazily built statements", () => {
  it("builds a statement on its first read only, keeps it, and never builds one that is not read", () => {
    const built: string[] = [];
    const q = lazily({
      a: () => (built.push("a"), { name: "a" }),
      b: () => (built.push("b"), { name: "b" }),
    });
    expect(built).toEqual([]);
    const first = q.a;
    expect(q.a).toBe(first);
    expect(first).toEqual({ name: "a" });
    expect(built).toEqual(["a"]);
    expect(Object.keys(q)).toEqual(["a", "b"]);
    expect(built).toEqual(["a"]);
  });
});
