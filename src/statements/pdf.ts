/**
 * A statement as a PDF a person can print (pdf-lib, with fonts embedded through @pdf-lib/fontkit): a header
 * with the period, the opening and closing balances and the totals, then one row per entry, on as many A4
 * pages as it takes, with the column heads repeated and "page N of M" on every page.
 *
 * Any memo's script is drawn: plain text (WinAnsi) in Helvetica, which needs no embedding, and every other
 * character with the Noto font of its script (statements/fonts.ts); only the fonts the statement needs are
 * fetched, and each is embedded as a subset of the glyphs used.
 * fontkit shapes each run as it lays it out (Arabic joining forms, Devanagari conjuncts where the font's
 * tables say so) and lays a right-to-left run out right to left; a line that mixes directions keeps its runs
 * in logical order (there is no full bidirectional reordering), which the architecture notes record.
 */
// fontkit's shapers for complex scripts (Arabic, Indic) are generators compiled by Babel to calls on a global
// `regeneratorRuntime`, which the package does not bring; this installs it on globalThis.
import "regenerator-runtime/runtime.js";
import fontkit from "@pdf-lib/fontkit";
import { PDFDocument, type PDFFont, type PDFPage, StandardFonts } from "pdf-lib";
import type { Statement } from "../audit/statements";
import { formatMinor } from "../domain/money-format";
import { fontFor, isInvisibleModifier, type FontLoader, type FontName } from "./fonts";

const PAGE: [number, number] = [595.28, 841.89];
const MARGIN = 40;
const ROW_SIZE = 8;
const LINE = ROW_SIZE + 3;

/** Column left edges (right edges for the numbers, which are right-aligned). */
const COL = {
  seq: MARGIN,
  date: 72,
  kind: 150,
  amount_right: 290,
  balance_right: 365,
  details: 378,
  details_width: PAGE[0] - MARGIN - 378,
};

interface Coverage {
  hasGlyphForCodePoint(codePoint: number): boolean;
}

/**
 * Characters Helvetica draws as it is, without embedding anything (WinAnsi: printable ASCII, Latin-1 and the
 * typographic extras of Windows-1252 such as curly quotes, dashes and the euro sign). Most
 * of a statement is such text (figures, dates, ids, hashes, most memos), so most statements embed no font at
 * all, and the text that is costs no shaping: a 10,000-entry PDF took 43 s with every run laid out by fontkit.
 */
const PLAIN = /^[\x20-\x7e\xa0-\xff€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ]$/u;

/** The fonts of one document: Helvetica for plain text, Noto per script for the rest, embedded as needed. */
class Fonts {
  private readonly embedded = new Map<FontName, { font: PDFFont; coverage: Coverage }>();
  /** Advance widths at size 1, per font and character, so that measuring a line is additions. */
  private readonly advances = new Map<PDFFont, Map<string, number>>();

  private constructor(readonly plain: PDFFont) {}

  /** Helvetica, and every Noto font that some character of `texts` needs and the loader has. */
  static async load(doc: PDFDocument, loader: FontLoader, texts: Iterable<string>): Promise<Fonts> {
    const fonts = new Fonts(await doc.embedFont(StandardFonts.Helvetica));
    const needed = new Set<FontName>();
    for (const text of texts) for (const ch of text) if (!PLAIN.test(ch)) needed.add(fontFor(ch.codePointAt(0) ?? 0));
    // The Latin font is the fallback of every other script (punctuation, digits in other scripts' blocks).
    if (needed.size > 0) needed.add("latin");
    for (const name of needed) {
      const bytes = await loader(name);
      if (bytes === null) continue;
      const coverage = fontkit.create(bytes) as unknown as Coverage;
      fonts.embedded.set(name, { font: await doc.embedFont(bytes, { subset: true }), coverage });
    }
    return fonts;
  }

  /**
   * `text` cut into runs of one font each: plain characters in Helvetica, every other one in a font that has
   * a glyph for it if any does (else the Latin font's empty box, or "?" if even that font is missing).
   */
  runs(text: string): { font: PDFFont; text: string }[] {
    const out: { font: PDFFont; text: string }[] = [];
    for (const raw of text) {
      const cp = raw.codePointAt(0) ?? 0;
      if (isInvisibleModifier(cp)) continue;
      const font = PLAIN.test(raw) ? this.plain : this.fontWithGlyph(cp);
      const ch = font === this.plain && !PLAIN.test(raw) ? "?" : raw;
      const last = out[out.length - 1];
      if (last !== undefined && last.font === font) last.text += ch;
      else out.push({ font, text: ch });
    }
    return out;
  }

  /**
   * A run as the glyph ids to draw (hex), in pieces of one font each. fontkit's shapers throw on some sequences
   * (a lone Sinhala virama; Gurmukhi marks, whose anchors in NotoSansGurmukhi it cannot read): such a run is
   * drawn one character at a time, unshaped, and a character that still throws is drawn as "?" in Helvetica, so
   * that no memo can make a statement fail. The usual run is encoded once, as before.
   */
  encoded(run: { font: PDFFont; text: string }): { font: PDFFont; text: string; hex: string }[] {
    try {
      return [{ ...run, hex: run.font.encodeText(run.text).toString() }];
    } catch {
      return [...run.text].map((ch) => {
        try {
          return { font: run.font, text: ch, hex: run.font.encodeText(ch).toString() };
        } catch {
          return { font: this.plain, text: "?", hex: this.plain.encodeText("?").toString() };
        }
      });
    }
  }

  private fontWithGlyph(cp: number): PDFFont {
    for (const name of [fontFor(cp), "latin", "emoji", "cjk"] as const) {
      const entry = this.embedded.get(name);
      if (entry?.coverage.hasGlyphForCodePoint(cp)) return entry.font;
    }
    return this.embedded.get("latin")?.font ?? this.plain;
  }

  /** The width of one character at `size` (before shaping, which changes widths too little to matter here). */
  charWidth(ch: string, size: number): number {
    const run = this.runs(ch)[0];
    if (run === undefined) return 0;
    let table = this.advances.get(run.font);
    if (table === undefined) {
      table = new Map();
      this.advances.set(run.font, table);
    }
    let advance = table.get(run.text);
    if (advance === undefined) {
      advance = safeWidth(run.font, run.text) ?? this.plain.widthOfTextAtSize("?", 1);
      table.set(run.text, advance);
    }
    return advance * size;
  }

  width(text: string, size: number): number {
    let sum = 0;
    for (const ch of text) sum += this.charWidth(ch, size);
    return sum;
  }
}

/** A character's advance at size 1, or null when fontkit cannot lay it out (see `Fonts.encoded`). */
function safeWidth(font: PDFFont, ch: string): number | null {
  try {
    return font.widthOfTextAtSize(ch, 1);
  } catch {
    return null;
  }
}

/**
 * The pages being written. Each page's content is kept as operator text and written as one compressed stream
 * when the document is finished, rather than through pdf-lib's drawing calls, which build an object per
 * operator: at 10,000 entries those objects took over 200 MB of heap, past a Worker's 128 MB, and text costs
 * about a tenth of that (docs/performance.md).
 */
class Sheet {
  private readonly pages: { page: PDFPage; ops: string[]; keys: Map<PDFFont, string> }[] = [];

  constructor(
    private readonly doc: PDFDocument,
    private readonly fonts: Fonts,
  ) {}

  /** Starts a new page. */
  addPage(): void {
    this.pages.push({ page: this.doc.addPage(PAGE), ops: [], keys: new Map() });
  }

  get count(): number {
    return this.pages.length;
  }

  /** Draws `text` from (x, y) on page `index` (the current one by default), run by run. */
  text(text: string, x: number, y: number, size: number, grey = false, index = this.pages.length - 1): void {
    const sheet = this.pages[index];
    if (sheet === undefined) throw new Error("invariant: no page to draw on");
    let at = x;
    for (const run of this.fonts.runs(text)) {
      for (const part of this.fonts.encoded(run)) {
        let key = sheet.keys.get(part.font);
        if (key === undefined) {
          key = sheet.page.node.newFontDictionary(part.font.name, part.font.ref).asString();
          sheet.keys.set(part.font, key);
        }
        sheet.ops.push(`BT ${grey ? "0.4 g" : "0 g"} ${key} ${size} Tf ${at.toFixed(2)} ${y.toFixed(2)} Td ${part.hex} Tj ET`);
        at += this.fonts.width(part.text, size);
      }
    }
  }

  /** Draws `text` ending at `right`. */
  textRight(text: string, right: number, y: number, size: number, grey = false): void {
    this.text(text, right - this.fonts.width(text, size), y, size, grey);
  }

  /** A grey horizontal rule on the current page. */
  rule(y: number): void {
    this.pages[this.pages.length - 1]?.ops.push(`0.4 G 0.5 w ${MARGIN} ${y} m ${PAGE[0] - MARGIN} ${y} l S`);
  }

  /** Writes every page's content as one compressed stream. */
  finish(): void {
    for (const { page, ops } of this.pages) {
      page.node.addContentStream(this.doc.context.register(this.doc.context.flateStream(ops.join("\n"))));
      ops.length = 0;
    }
  }
}

/** `text` broken into lines no wider than `width`, at spaces where it can be, else between characters. */
function wrap(fonts: Fonts, text: string, width: number, size: number): string[] {
  if (fonts.width(text, size) <= width) return text === "" ? [] : [text];
  const lines: string[] = [];
  let line = "";
  let lineWidth = 0;
  for (const ch of text) {
    const w = fonts.charWidth(ch, size);
    if (line === "" || lineWidth + w <= width) {
      line += ch;
      lineWidth += w;
      continue;
    }
    const space = line.lastIndexOf(" ");
    if (space > 0 && ch !== " ") {
      lines.push(line.slice(0, space));
      line = line.slice(space + 1) + ch;
    } else {
      lines.push(line);
      line = ch === " " ? "" : ch;
    }
    lineWidth = fonts.width(line, size);
  }
  if (line !== "") lines.push(line);
  return lines;
}

/** The statement as PDF bytes. */
export async function statementPdf(statement: Statement, exponent: number, loader: FontLoader): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  doc.registerFontkit(fontkit);
  doc.setTitle(`Statement ${statement.wallet_id} ${statement.from} to ${statement.to}`);
  doc.setProducer("edge-wallet");
  doc.setCreator("edge-wallet");
  const texts = statement.entries.flatMap((e) => [e.memo ?? "", e.counterparty ?? ""]);
  const fonts = await Fonts.load(doc, loader, texts);
  const money = (minor: number) => `${formatMinor(minor, exponent)} ${statement.currency}`;

  const sheet = new Sheet(doc, fonts);
  sheet.addPage();
  let y = PAGE[1] - MARGIN;
  sheet.text("Statement", MARGIN, y - 14, 16);
  y -= 34;
  const header = [
    `Wallet ${statement.wallet_id}, ${statement.currency}`,
    `Period ${statement.from} to ${statement.to} (UTC days, both included)`,
    `Opening balance: ${money(statement.opening_balance)}`,
    `Total in: ${money(statement.total_in)}`,
    `Total out: ${money(statement.total_out)}`,
    `Closing balance: ${money(statement.closing_balance)}`,
    `Entries: ${statement.entries.length}. Chain head: seq ${statement.chain_head.seq}, hash ${statement.chain_head.hash}`,
  ];
  for (const line of header) {
    sheet.text(line, MARGIN, y, line.startsWith("Entries") ? 7 : 10);
    y -= 14;
  }
  sheet.text(
    "The signed JSON of this statement (format=json) carries the same figures; npm run verify-receipt checks it.",
    MARGIN,
    y,
    7,
    true,
  );
  y -= 20;
  y = columnHeads(sheet, y);

  for (const e of statement.entries) {
    const details = [
      ...(e.counterparty === null ? [] : wrap(fonts, e.counterparty, COL.details_width, ROW_SIZE - 1)),
      ...wrap(fonts, e.memo ?? "", COL.details_width, ROW_SIZE),
    ];
    const height = Math.max(1, details.length) * LINE + 3;
    if (y - height < MARGIN + 20) {
      sheet.addPage();
      y = columnHeads(sheet, PAGE[1] - MARGIN);
    }
    sheet.text(String(e.seq), COL.seq, y, ROW_SIZE);
    sheet.text(`${e.created_at.slice(0, 10)} ${e.created_at.slice(11, 19)}`, COL.date, y, ROW_SIZE);
    sheet.text(e.kind, COL.kind, y, ROW_SIZE);
    sheet.textRight(formatMinor(e.amount, exponent), COL.amount_right, y, ROW_SIZE);
    sheet.textRight(formatMinor(e.balance_after, exponent), COL.balance_right, y, ROW_SIZE);
    details.forEach((line, i) => sheet.text(line, COL.details, y - i * LINE, ROW_SIZE));
    y -= height;
  }
  if (statement.entries.length === 0) sheet.text("No entries in this period.", MARGIN, y, ROW_SIZE);

  for (let i = 0; i < sheet.count; i++) {
    sheet.text(
      `${statement.wallet_id}  ${statement.from} to ${statement.to}  page ${i + 1} of ${sheet.count}`,
      MARGIN,
      MARGIN - 16,
      7,
      true,
      i,
    );
  }
  sheet.finish();
  return doc.save({ objectsPerTick: Number.POSITIVE_INFINITY });
}

/** The column heads and a rule under them; returns the y of the first row. */
function columnHeads(sheet: Sheet, y: number): number {
  sheet.text("seq", COL.seq, y, ROW_SIZE, true);
  sheet.text("time (UTC)", COL.date, y, ROW_SIZE, true);
  sheet.text("kind", COL.kind, y, ROW_SIZE, true);
  sheet.textRight("amount", COL.amount_right, y, ROW_SIZE, true);
  sheet.textRight("balance", COL.balance_right, y, ROW_SIZE, true);
  sheet.text("counterparty, memo", COL.details, y, ROW_SIZE, true);
  sheet.rule(y - 4);
  return y - 16;
}
