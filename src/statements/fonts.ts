/**
 * The fonts a PDF statement draws with, one per script family, all Noto (SIL Open Font License), and which
 * one each character needs. The files are not in the Worker's bundle: together they are about 7.5 MB (the
 * Japanese one alone 5.5 MB), past the free plan's 3 MB compressed limit and most of the paid plan's 10 MB,
 * and most statements need only the Latin one. They are served as static assets (`/fonts/…`, copied from
 * the font packages by `npm run build:web`, scripts/copy-fonts.mjs) and fetched through the ASSETS binding
 * when a statement needs them, each at most once per statement; see docs/architecture.md, "Statements".
 */

/** A font family the PDF may use. */
export type FontName = "latin" | "arabic" | "hebrew" | "devanagari" | "cjk" | "emoji";

/** Where each font is served from, among the static assets. */
export const FONT_FILES: Readonly<Record<FontName, string>> = {
  latin: "/fonts/NotoSans-Regular.ttf",
  arabic: "/fonts/NotoSansArabic-Regular.ttf",
  hebrew: "/fonts/NotoSansHebrew-Regular.ttf",
  devanagari: "/fonts/NotoSansDevanagari-Regular.ttf",
  cjk: "/fonts/NotoSansJP-Regular.ttf",
  emoji: "/fonts/NotoEmoji-Regular.ttf",
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

/** [first, last, font] ranges of code points, by Unicode block; everything else is drawn with the Latin font. */
const RANGES: readonly [number, number, FontName][] = [
  [0x0590, 0x05ff, "hebrew"],
  [0xfb1d, 0xfb4f, "hebrew"],
  [0x0600, 0x06ff, "arabic"],
  [0x0750, 0x077f, "arabic"],
  [0x0870, 0x08ff, "arabic"],
  [0xfb50, 0xfdff, "arabic"],
  [0xfe70, 0xfeff, "arabic"],
  [0x0900, 0x097f, "devanagari"],
  [0xa8e0, 0xa8ff, "devanagari"],
  [0x1100, 0x11ff, "cjk"],
  [0x2e80, 0x2fdf, "cjk"],
  [0x3000, 0x31ff, "cjk"],
  [0x3400, 0x4dbf, "cjk"],
  [0x4e00, 0x9fff, "cjk"],
  [0xac00, 0xd7af, "cjk"],
  [0xf900, 0xfaff, "cjk"],
  [0xff00, 0xffef, "cjk"],
  [0x20000, 0x3134f, "cjk"],
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
