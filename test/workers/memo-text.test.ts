/**
 * Memos and display names are shown on other people's screens, so they are limited by the characters a reader
 * sees (graphemes), by what one of those may hold, and refuse control and bidirectional override characters
 * (src/domain/text.ts). Every refusal is 400 `validation_error` naming the field, and moves nothing.
 */
import { describe, expect, it } from "vitest";
import { textIssue, type TextLimits } from "../../src/domain/text";
import { api, deposit, register, transfer, uniqueHandle, walletStub } from "./helpers";

type ErrorJson = { error: { code: string; details?: { field: string; issue: string }[] } };

const LIMITS: TextLimits = { max_graphemes: 140, max_marks_per_grapheme: 5, max_code_points_per_grapheme: 10 };
/** U+0301, combining acute accent. */
const ACUTE = "\u0301";

describe("the text policy", () => {
  it("counts characters as a reader sees them, so emoji and accents count once", () => {
    const kiss = "\u{1F9D1}\u{1F3FB}\u200D\u2764\uFE0F\u200D\u{1F48B}\u200D\u{1F9D1}\u{1F3FC}"; // 10 code points, 1 character
    const flag = "\u{1F3F4}\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}"; // Scotland: 7 code points
    for (const ok of [
      "thanks for lunch",
      "e\u0301te\u0301",
      kiss.repeat(140),
      flag.repeat(140),
      "שָׁלוֹם",
      "مرحبا \u200Fبك",
      "क्षत्रिय",
      "1\uFE0F\u20E3",
      "\u{1F44D}\u{1F3FD}".repeat(140),
    ]) {
      expect([ok.slice(0, 12), textIssue(ok, LIMITS)]).toEqual([ok.slice(0, 12), null]);
    }
    expect(textIssue("a".repeat(141), LIMITS)).toBe("at most 140 characters");
    expect(textIssue(kiss.repeat(141), LIMITS)).toBe("at most 140 characters");
  });

  it("refuses a pile of combining marks on one character, and chains of joined code points", () => {
    expect(textIssue(`a${ACUTE.repeat(5)}`, LIMITS)).toBeNull();
    expect(textIssue(`a${ACUTE.repeat(6)}`, LIMITS)).toBe("at most 5 combining marks on one character");
    expect(textIssue(`Z${"\u0336\u0351\u0359".repeat(46)}`, LIMITS)).toBe("at most 5 combining marks on one character");
    // Emoji joined by ZWJ are one grapheme however many there are: bounded by code points instead.
    expect(textIssue(Array(6).fill("\u{1F600}").join("\u200D"), LIMITS)).toBe("at most 10 code points in one character");
  });

  it("refuses controls, bidirectional overrides, embeddings and isolates, separators and lone surrogates", () => {
    const refused = [
      "\u0000",
      "\t",
      "\n",
      "\r",
      "\u001B[31m",
      "\u007F",
      "\u0085",
      "\u009B",
      "\u202A",
      "\u202B",
      "\u202C",
      "\u202D",
      "\u202E",
      "\u2066",
      "\u2067",
      "\u2068",
      "\u2069",
      "\u2028",
      "\u2029",
      "\u206A",
      "\uD800",
      "\uDC00x",
    ];
    for (const bad of refused) {
      const issue = textIssue(`pay ${bad} back`, LIMITS);
      expect([JSON.stringify(bad), issue]).toEqual([
        JSON.stringify(bad),
        expect.stringMatching(/^must not contain control, invisible or bidirectional override characters/),
      ]);
    }
    expect(textIssue("invoice \u202Egpj.exe", LIMITS)).toContain("U+202E");
    // Directional marks open no embedding and are needed in mixed Arabic and Hebrew text: allowed.
    expect(textIssue("\u200E\u200F\u061C", LIMITS)).toBe("must contain at least one visible character");
    expect(textIssue("\u05E9\u200F 12 \u061C\u0627", LIMITS)).toBeNull();
  });
});

describe("invisible characters (outside probe, L3)", () => {
  it.each([
    ["a zero-width space", "pay\u200Bme"],
    ["a word joiner", "pay\u2060me"],
    ["a byte-order mark", "pay\uFEFFme"],
    ["an interlinear annotation", "pay\uFFF9me\uFFFB"],
    ["a Hangul filler", "pay\u3164me"],
    ["tag characters hiding text", "pay\u{E0068}\u{E0069}me"],
    ["a private-use character", "pay\uE000me"],
    ["a noncharacter", "pay\uFFFFme"],
    ["a plane-end noncharacter", "pay\u{1FFFE}me"],
  ])("refuses %s", (_name, text) => {
    expect(textIssue(text, LIMITS)).toMatch(/must not contain/);
  });

  it("keeps what writers need: joiners in emoji and scripts, and the flags made of tag characters", () => {
    const family = "\u{1F468}\u200D\u{1F469}\u200D\u{1F467}";
    const england = "\u{1F3F4}\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F}";
    const persian = "\u0645\u06CC\u200C\u062E\u0648\u0627\u0647\u0645";
    expect(textIssue(`${family} ${england} ${persian}`, LIMITS)).toBeNull();
  });

  it("refuses text that shows nothing", () => {
    for (const text of ["\u200B", "\u3164", "   ", "\u200D"]) expect(textIssue(text, LIMITS)).not.toBeNull();
  });
});

describe("memos over HTTP", () => {
  async function funded() {
    const from = await register({ prefix: "memo" });
    const to = await register({ prefix: "memo" });
    await deposit(from, 10_000);
    return { from, to };
  }

  const refusals: [string, string, RegExp][] = [
    ["139 combining marks", `a${ACUTE.repeat(139)}`, /combining marks/],
    ["a right-to-left override", "refund \u202Egnp.exe", /U\+202E/],
    ["a first-strong isolate left open", "\u2068open", /U\+2068/],
    ["a newline", "line one\nline two", /control/],
    ["an ANSI escape", "\u001B[2Jcleared", /control/],
    ["141 characters", "x".repeat(141), /at most 140 characters/],
    ["a lone surrogate", "broken \uD83D end", /lone surrogate/],
  ];
  for (const [name, memo, issue] of refusals) {
    it(`refuses a memo with ${name}: 400 on memo, and no money moves`, async () => {
      const { from, to } = await funded();
      const res = await transfer(from, { handle: to.handle }, 100, crypto.randomUUID(), memo);
      const json = res.json as ErrorJson;
      expect([res.status, json.error.code]).toEqual([400, "validation_error"]);
      expect(json.error.details).toEqual([{ field: "memo", issue: expect.stringMatching(issue) }]);
      const snap = await walletStub(from.wallet_id).snapshot();
      expect(snap.code === "ok" ? [snap.wallet.balance, snap.wallet.held, snap.wallet.version] : null).toEqual([10_000, 0, 1]);
    });
  }

  it("accepts 140 characters of accented letters, emoji and right-to-left script, stored as sent", async () => {
    const { from, to } = await funded();
    const memo = `${"e\u0301".repeat(60)}${"\u{1F469}\u200D\u{1F4BB}".repeat(40)}${"שָׁלוֹם".repeat(10)}`;
    expect([...new Intl.Segmenter(undefined, { granularity: "grapheme" }).segment(memo)].length).toBe(140);
    const res = await transfer(from, { handle: to.handle }, 100, crypto.randomUUID(), memo);
    expect(res.status, res.text).toBe(201);
    expect((res.json as { transfer: { memo: string } }).transfer.memo).toBe(memo);
  });

  it("still answers 401 first for a revoked token with a bad memo", async () => {
    const { from, to } = await funded();
    expect((await api("/auth/logout", { method: "POST", token: from.token })).status).toBe(204);
    const res = await transfer(from, { handle: to.handle }, 100, crypto.randomUUID(), "\u202Eevil");
    expect([res.status, (res.json as ErrorJson).error.code]).toEqual([401, "unauthenticated"]);
  });
});

describe("display names", () => {
  const register_ = (display_name: string) =>
    api("/auth/register", {
      body: { handle: uniqueHandle("dn"), password: "correct horse battery", display_name },
      headers: { "cf-connecting-ip": `198.51.100.${Math.floor(Math.random() * 250)}` },
    });

  it("refuses overrides, controls and mark piles with 400 on display_name, and creates nobody", async () => {
    for (const name of ["\u202Eecila", "Eve\u2066", "tab\there", `Z${ACUTE.repeat(40)}`, "n".repeat(65)]) {
      const res = await register_(name);
      const json = res.json as ErrorJson;
      expect([JSON.stringify(name).slice(0, 20), res.status, json.error.code, json.error.details?.[0]?.field]).toEqual([
        JSON.stringify(name).slice(0, 20),
        400,
        "validation_error",
        "display_name",
      ]);
    }
  });

  it("accepts 64 characters a reader sees, emoji and accents included, and trims outer spaces", async () => {
    const name = `${"\u{1F44B}\u{1F3FE}".repeat(32)}${"Zoe\u0308".repeat(8)}`;
    const res = await register_(`  ${name}  `);
    expect(res.status, res.text).toBe(201);
    expect((res.json as { user: { display_name: string } }).user.display_name).toBe(name);
  });
});
