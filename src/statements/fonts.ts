/**
 * The fonts a PDF statement draws with, one per script family, all Noto (SIL Open Font License), and which
 * one each character needs. The files are not in the Worker's bundle: together they are about 16 MB (the
 * Japanese and Korean ones 5.5 and 6 MB), past the free plan's 3 MB compressed limit and the paid plan's 10 MB,
 * and most statements need only the Latin one. They are served as static assets (`/fonts/…`, copied from
 * the font packages by `npm run build:web`, scripts/copy-fonts.mjs) and fetched through the ASSETS binding
 * when a statement needs them, each at most once per statement; see docs/architecture.md, "Statements".
 */

/** A font family the PDF may use: one per script (or script family) that the Latin font does not draw. */
export type FontName =
  | "latin"
  | "arabic"
  | "hebrew"
  | "devanagari"
  | "cjk"
  | "korean"
  | "emoji"
  | "armenian"
  | "syriac"
  | "bengali"
  | "gurmukhi"
  | "gujarati"
  | "tamil"
  | "telugu"
  | "kannada"
  | "malayalam"
  | "sinhala"
  | "thai"
  | "lao"
  | "myanmar"
  | "georgian"
  | "ethiopic"
  | "cherokee"
  | "khmer"
  | "math";

/** Where each font is served from, among the static assets (scripts/copy-fonts.mjs copies them there). */
export const FONT_FILES: Readonly<Record<FontName, string>> = {
  latin: "/fonts/NotoSans-Regular.ttf",
  arabic: "/fonts/NotoSansArabic-Regular.ttf",
  hebrew: "/fonts/NotoSansHebrew-Regular.ttf",
  devanagari: "/fonts/NotoSansDevanagari-Regular.ttf",
  cjk: "/fonts/NotoSansJP-Regular.ttf",
  korean: "/fonts/NotoSansKR-Regular.ttf",
  emoji: "/fonts/NotoEmoji-Regular.ttf",
  armenian: "/fonts/NotoSansArmenian-Regular.ttf",
  syriac: "/fonts/NotoSansSyriac-Regular.ttf",
  bengali: "/fonts/NotoSansBengali-Regular.ttf",
  gurmukhi: "/fonts/NotoSansGurmukhi-Regular.ttf",
  gujarati: "/fonts/NotoSansGujarati-Regular.ttf",
  tamil: "/fonts/NotoSansTamil-Regular.ttf",
  telugu: "/fonts/NotoSansTelugu-Regular.ttf",
  kannada: "/fonts/NotoSansKannada-Regular.ttf",
  malayalam: "/fonts/NotoSansMalayalam-Regular.ttf",
  sinhala: "/fonts/NotoSansSinhala-Regular.ttf",
  thai: "/fonts/NotoSansThai-Regular.ttf",
  lao: "/fonts/NotoSansLao-Regular.ttf",
  myanmar: "/fonts/NotoSansMyanmar-Regular.ttf",
  georgian: "/fonts/NotoSansGeorgian-Regular.ttf",
  ethiopic: "/fonts/NotoSansEthiopic-Regular.ttf",
  cherokee: "/fonts/NotoSansCherokee-Regular.ttf",
  khmer: "/fonts/NotoSansKhmer-Regular.ttf",
  math: "/fonts/NotoSansMath-Regular.ttf",
};

/** Loads a font's bytes; null if it cannot be had (the text then falls back to the Latin font). */
export type FontLoader = (name: FontName) => Promise<Uint8Array | null>;

/** Fonts from the static assets of this Worker. */
export function assetFonts(assets: Fetcher): FontLoader {
  return async (name) => {
    const response = await assets.fetch(new Request(`https://assets.invalid${FONT_FILES[name]}`));
    if (!response.ok) {
      await response.body?.cancel();
      return null;
    }
    return new Uint8Array(await response.arrayBuffer());
  };
}

/**
 * [first, last, font] ranges of code points, by Unicode block (the first match wins, so Hangul's own blocks come
 * before the CJK ones around them); everything else is drawn with the Latin font, which also covers Latin,
 * Greek and Cyrillic.
 */
const RANGES: readonly [number, number, FontName][] = [
  [0x0530, 0x058f, "armenian"],
  [0xfb13, 0xfb17, "armenian"],
  [0x0590, 0x05ff, "hebrew"],
  [0xfb1d, 0xfb4f, "hebrew"],
  [0x0600, 0x06ff, "arabic"],
  [0x0700, 0x074f, "syriac"],
  [0x0750, 0x077f, "arabic"],
  [0x0860, 0x086f, "syriac"],
  [0x0870, 0x08ff, "arabic"],
  [0xfb50, 0xfdff, "arabic"],
  [0xfe70, 0xfeff, "arabic"],
  [0x0900, 0x097f, "devanagari"],
  [0xa8e0, 0xa8ff, "devanagari"],
  [0x0980, 0x09ff, "bengali"],
  [0x0a00, 0x0a7f, "gurmukhi"],
  [0x0a80, 0x0aff, "gujarati"],
  [0x0b80, 0x0bff, "tamil"],
  [0x11fc0, 0x11fff, "tamil"],
  [0x0c00, 0x0c7f, "telugu"],
  [0x0c80, 0x0cff, "kannada"],
  [0x0d00, 0x0d7f, "malayalam"],
  [0x0d80, 0x0dff, "sinhala"],
  [0x111e0, 0x111ff, "sinhala"],
  [0x0e00, 0x0e7f, "thai"],
  [0x0e80, 0x0eff, "lao"],
  [0x1000, 0x109f, "myanmar"],
  [0xa9e0, 0xa9ff, "myanmar"],
  [0xaa60, 0xaa7f, "myanmar"],
  [0x10a0, 0x10ff, "georgian"],
  [0x1c90, 0x1cbf, "georgian"],
  [0x2d00, 0x2d2f, "georgian"],
  [0x1200, 0x139f, "ethiopic"],
  [0x2d80, 0x2ddf, "ethiopic"],
  [0xab00, 0xab2f, "ethiopic"],
  [0x1e7e0, 0x1e7ff, "ethiopic"],
  [0x13a0, 0x13ff, "cherokee"],
  [0xab70, 0xabbf, "cherokee"],
  [0x1780, 0x17ff, "khmer"],
  [0x19e0, 0x19ff, "khmer"],
  [0x1100, 0x11ff, "korean"],
  [0x3130, 0x318f, "korean"],
  [0xa960, 0xa97f, "korean"],
  [0xac00, 0xd7ff, "korean"],
  [0x2e80, 0x2fdf, "cjk"],
  [0x3000, 0x31ff, "cjk"],
  [0x3400, 0x4dbf, "cjk"],
  [0x4e00, 0x9fff, "cjk"],
  [0xf900, 0xfaff, "cjk"],
  [0xff00, 0xffef, "cjk"],
  [0x20000, 0x3134f, "cjk"],
  [0x2200, 0x22ff, "math"],
  [0x27c0, 0x27ef, "math"],
  [0x2980, 0x2aff, "math"],
  [0x1d400, 0x1d7ff, "math"],
  [0x2190, 0x21ff, "emoji"],
  [0x2300, 0x23ff, "emoji"],
  [0x2600, 0x27bf, "emoji"],
  [0x2b00, 0x2bff, "emoji"],
  [0x1f000, 0x1faff, "emoji"],
];

/** The font a code point is drawn with, by its block. */
export function fontFor(codePoint: number): FontName {
  for (const [first, last, font] of RANGES) if (codePoint >= first && codePoint <= last) return font;
  return "latin";
}

/**
 * Characters with no glyph of their own that only steer the ones around them (variation selectors, the
 * zero-width joiner): dropped before drawing, since a PDF without a shaping engine for emoji sequences would
 * only show them as boxes. An emoji ZWJ sequence is therefore drawn as its parts, side by side.
 */
export function isInvisibleModifier(codePoint: number): boolean {
  return codePoint === 0x200d || (codePoint >= 0xfe00 && codePoint <= 0xfe0f) || (codePoint >= 0x1f3fb && codePoint <= 0x1f3ff);
}
