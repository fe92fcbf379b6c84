/**
 * A statement as a PDF a person can print (pdf-lib, with fonts embedded through @pdf-lib/fontkit): a header
 * with the period, the opening and closing balances and the totals, then one row per entry, on as many A4
 * pages as it takes, with the column heads repeated and "page N of M" on every page.
 *
 * Any memo's script is drawn: each character is drawn with the font of its script (statements/fonts.ts),
 * only the fonts the statement needs are fetched, and each is embedded as a subset of the glyphs used.
 * fontkit shapes each run as it lays it out (Arabic joining forms, Devanagari conjuncts where the font's
 * tables say so) and lays a right-to-left run out right to left; a line that mixes directions keeps its runs
 * in logical order (there is no full bidirectional reordering), which the architecture notes record.
 */
// fontkit's shapers for complex scripts (Arabic, Indic) are generators compiled by Babel to calls on a global
// `regeneratorRuntime`, which the package does not bring; this installs it on globalThis.
import "regenerator-runtime/runtime.js";
import fontkit from "@pdf-lib/fontkit";
import { PDFDocument, type PDFFont, type PDFPage, rgb } from "pdf-lib";
import type { Statement } from "../audit/statements";
import { formatMinor } from "../domain/money-format";
import { fontFor, isInvisibleModifier, type FontLoader, type FontName } from "./fonts";

const PAGE: [number, number] = [595.28, 841.89];
const MARGIN = 40;
const ROW_SIZE = 8;
const LINE = ROW_SIZE + 3;
const GREY = rgb(0.4, 0.4, 0.4);

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

/** The fonts of one document: embedded on first use, with their character coverage. */
class Fonts {
  private readonly embedded = new Map<FontName, { font: PDFFont; coverage: Coverage }>();

  private constructor(private readonly latin: PDFFont) {}

  /** Embeds the Latin font and every other font that some character of `texts` needs and the loader has. */
  static async load(doc: PDFDocument, loader: FontLoader, texts: Iterable<string>): Promise<Fonts> {
    const needed = new Set<FontName>(["latin"]);
    for (const text of texts) for (const ch of text) needed.add(fontFor(ch.codePointAt(0) ?? 0));
    const loaded = new Map<FontName, { font: PDFFont; coverage: Coverage }>();
    for (const name of needed) {
      const bytes = await loader(name);
      if (bytes === null) continue;
      const coverage = fontkit.create(bytes) as unknown as Coverage;
      loaded.set(name, { font: await doc.embedFont(bytes, { subset: true }), coverage });
    }
    const latin = loaded.get("latin");
    if (latin === undefined) throw new Error("the Latin font of statements could not be loaded (is /fonts/ among the assets?)");
    const fonts = new Fonts(latin.font);
    for (const [name, entry] of loaded) fonts.embedded.set(name, entry);
    return fonts;
  }

  /** The regular font for fixed text. */
  get base(): PDFFont {
    return this.latin;
  }

  /** `text` cut into runs of one font each, every character in a font that has a glyph for it if any does. */
  runs(text: string): { font: PDFFont; text: string }[] {
    const out: { font: PDFFont; text: string }[] = [];
    for (const ch of text) {
      const cp = ch.codePointAt(0) ?? 0;
      if (isInvisibleModifier(cp)) continue;
      const font = this.fontWithGlyph(cp);
      const last = out[out.length - 1];
      if (last !== undefined && last.font === font) last.text += ch;
      else out.push({ font, text: ch });
    }
    return out;
  }

  private fontWithGlyph(cp: number): PDFFont {
    for (const name of [fontFor(cp), "latin", "emoji", "cjk"] as const) {
      const entry = this.embedded.get(name);
      if (entry?.coverage.hasGlyphForCodePoint(cp)) return entry.font;
    }
    return this.latin;
  }

  width(text: string, size: number): number {
    return this.runs(text).reduce((sum, run) => sum + run.font.widthOfTextAtSize(run.text, size), 0);
  }
}

/** Draws `text` from (x, y), run by run. */
function draw(page: PDFPage, fonts: Fonts, text: string, x: number, y: number, size: number, color = rgb(0, 0, 0)): void {
  let at = x;
  for (const run of fonts.runs(text)) {
    page.drawText(run.text, { x: at, y, size, font: run.font, color });
    at += run.font.widthOfTextAtSize(run.text, size);
  }
}

function drawRight(page: PDFPage, fonts: Fonts, text: string, right: number, y: number, size: number): void {
  draw(page, fonts, text, right - fonts.width(text, size), y, size);
}

/** `text` broken into lines no wider than `width`, at spaces where it can be, else between characters. */
function wrap(fonts: Fonts, text: string, width: number, size: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const ch of text) {
    const next = line + ch;
    if (line === "" || fonts.width(next, size) <= width) {
      line = next;
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

  let page = doc.addPage(PAGE);
  let y = PAGE[1] - MARGIN;
  draw(page, fonts, "Statement", MARGIN, y - 14, 16);
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
    draw(page, fonts, line, MARGIN, y, line.startsWith("Entries") ? 7 : 10);
    y -= 14;
  }
  draw(
    page,
    fonts,
    "The signed JSON of this statement (format=json) carries the same figures; npm run verify-receipt checks it.",
    MARGIN,
    y,
    7,
    GREY,
  );
  y -= 20;
  y = columnHeads(page, fonts, y);

  for (const e of statement.entries) {
    const details = [
      ...(e.counterparty === null ? [] : wrap(fonts, e.counterparty, COL.details_width, ROW_SIZE - 1)),
      ...wrap(fonts, e.memo ?? "", COL.details_width, ROW_SIZE),
    ];
    const height = Math.max(1, details.length) * LINE + 3;
    if (y - height < MARGIN + 20) {
      page = doc.addPage(PAGE);
      y = columnHeads(page, fonts, PAGE[1] - MARGIN);
    }
    draw(page, fonts, String(e.seq), COL.seq, y, ROW_SIZE);
    draw(page, fonts, `${e.created_at.slice(0, 10)} ${e.created_at.slice(11, 19)}`, COL.date, y, ROW_SIZE);
    draw(page, fonts, e.kind, COL.kind, y, ROW_SIZE);
    drawRight(page, fonts, formatMinor(e.amount, exponent), COL.amount_right, y, ROW_SIZE);
    drawRight(page, fonts, formatMinor(e.balance_after, exponent), COL.balance_right, y, ROW_SIZE);
    details.forEach((line, i) => draw(page, fonts, line, COL.details, y - i * LINE, ROW_SIZE));
    y -= height;
  }
  if (statement.entries.length === 0) draw(page, fonts, "No entries in this period.", MARGIN, y, ROW_SIZE);

  const pages = doc.getPages();
  pages.forEach((p, i) =>
    draw(
      p,
      fonts,
      `${statement.wallet_id}  ${statement.from} to ${statement.to}  page ${i + 1} of ${pages.length}`,
      MARGIN,
      MARGIN - 16,
      7,
      GREY,
    ),
  );
  return doc.save();
}

/** The column heads and a rule under them; returns the y of the first row. */
function columnHeads(page: PDFPage, fonts: Fonts, y: number): number {
  draw(page, fonts, "seq", COL.seq, y, ROW_SIZE, GREY);
  draw(page, fonts, "time (UTC)", COL.date, y, ROW_SIZE, GREY);
  draw(page, fonts, "kind", COL.kind, y, ROW_SIZE, GREY);
  drawRight(page, fonts, "amount", COL.amount_right, y, ROW_SIZE);
  drawRight(page, fonts, "balance", COL.balance_right, y, ROW_SIZE);
  draw(page, fonts, "counterparty, memo", COL.details, y, ROW_SIZE, GREY);
  page.drawLine({ start: { x: MARGIN, y: y - 4 }, end: { x: PAGE[0] - MARGIN, y: y - 4 }, thickness: 0.5, color: GREY });
  return y - 16;
}
