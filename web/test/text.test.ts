/**
 * Tests of how the client shows text another person wrote (memos): neutralised for the screen, never for
 * storage, and checked before sending the way the server checks it. `node --test web/test/`.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { DISPLAY_MAX_MARKS, displayText, graphemeCount, memoProblem } from "../src/text.ts";

const ACUTE = "\u0301";

void describe("displayText", () => {
  void test("drops bidirectional overrides, embeddings and isolates from legacy memos", () => {
    assert.equal(displayText("invoice \u202Egpj.exe"), "invoice gpj.exe");
    assert.equal(displayText("\u202A\u202B\u202C\u202D\u2066\u2067\u2068\u2069x"), "x");
  });

  void test("turns controls and separators into spaces, so a row stays one line", () => {
    assert.equal(displayText("one\ntwo\r\nthree\u2028four\u0007"), "one two  three four ");
    assert.equal(displayText("\u001B[31mred"), " [31mred");
  });

  void test("keeps at most a few combining marks on each character", () => {
    const zalgo = `a${ACUTE.repeat(139)}b`;
    assert.equal(displayText(zalgo), `a${ACUTE.repeat(DISPLAY_MAX_MARKS)}b`);
    assert.equal(displayText("e\u0301te\u0301"), "e\u0301te\u0301");
  });

  void test("leaves ordinary text, emoji and right-to-left script as they are", () => {
    for (const text of [
      "thanks for lunch",
      "שָׁלוֹם",
      "مرحبا \u200Fبك",
      "\u{1F9D1}\u{1F3FB}\u200D\u2764\uFE0F\u200D\u{1F48B}\u200D\u{1F9D1}\u{1F3FC}",
      "1\uFE0F\u20E3",
    ]) {
      assert.equal(displayText(text), text);
    }
  });

  void test("replaces lone surrogates", () => {
    assert.equal(displayText("a\uD800b\uDC00c"), "a\uFFFDb\uFFFDc");
    assert.equal(displayText("\u{1F600}"), "\u{1F600}");
  });
});

void describe("memoProblem", () => {
  void test("counts characters as the server does: an emoji or an accented letter is one", () => {
    assert.equal(graphemeCount("\u{1F44D}\u{1F3FD}e\u0301"), 2);
    assert.equal(memoProblem("\u{1F44D}\u{1F3FD}".repeat(140), 140), null);
    assert.match(memoProblem("x".repeat(141), 140) ?? "", /140 characters/);
  });

  void test("refuses what the server refuses, before sending", () => {
    for (const bad of ["\u202Eevil", "a\nb", "\u2066x"]) assert.match(memoProblem(bad, 140) ?? "", /control, invisible or text-direction/);
  });
});
