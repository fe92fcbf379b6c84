/**
 * Reads the text back out of a PDF that pdf-lib wrote: each page's content streams are decoded, every
 * `Tj` string is mapped from glyph ids to characters through its font's ToUnicode CMap, and the glyph ids
 * are kept too, so a test can tell a drawn glyph from `.notdef` (glyph 0, the empty box).
 */
import { decodePDFRawStream, PDFArray, PDFDict, PDFDocument, PDFName, PDFRawStream, PDFRef, type PDFObject } from "pdf-lib";

export interface PdfText {
  pages: number;
  /** The text of each page: one string per drawn run, in drawing order. */
  runs: string[][];
  /** Glyph ids drawn, per embedded (Type 0) font name, over the whole document. */
  glyphs: Map<string, number[]>;
}

function streamBytes(doc: PDFDocument, ref: PDFObject | undefined): Uint8Array {
  const stream = ref instanceof PDFRef ? doc.context.lookup(ref) : ref;
  if (!(stream instanceof PDFRawStream)) throw new Error("not a stream");
  return decodePDFRawStream(stream).decode();
}

/** The font's glyph id → text map, or null for a simple font (Helvetica), whose codes are WinAnsi bytes. */
function toUnicode(doc: PDFDocument, font: PDFDict): Map<number, string> | null {
  const ref = font.get(PDFName.of("ToUnicode"));
  if (ref === undefined) return null;
  const map = new Map<number, string>();
  const text = new TextDecoder().decode(streamBytes(doc, ref));
  for (const [, gid, utf16] of text.matchAll(/<([0-9a-fA-F]+)> <([0-9a-fA-F]+)>/g)) {
    const units = (utf16 ?? "").match(/.{4}/g)?.map((h) => parseInt(h, 16)) ?? [];
    map.set(parseInt(gid ?? "0", 16), String.fromCharCode(...units));
  }
  return map;
}

/** The text and glyphs of every page. */
export async function pdfText(bytes: Uint8Array): Promise<PdfText> {
  const doc = await PDFDocument.load(bytes);
  const glyphs = new Map<string, number[]>();
  const runs = doc.getPages().map((page) => {
    const fonts = page.node.Resources()?.lookup(PDFName.of("Font"), PDFDict);
    const maps = new Map<string, Map<number, string> | null>();
    for (const [name, ref] of fonts?.entries() ?? []) maps.set(name.decodeText(), toUnicode(doc, doc.context.lookup(ref, PDFDict)));
    const contents = page.node.Contents();
    const parts = contents instanceof PDFArray ? contents.asArray() : [contents];
    const out: string[] = [];
    for (const part of parts) {
      const ops = new TextDecoder().decode(streamBytes(doc, part));
      let font = "";
      for (const [, tf, hex] of ops.matchAll(/\/(\S+) [\d.]+ Tf|<([0-9a-fA-F]*)> Tj/g)) {
        if (tf !== undefined) {
          font = tf;
          continue;
        }
        const map = maps.get(font);
        if (map === null || map === undefined) {
          // A simple font: one byte per character, WinAnsi, which is Latin-1 for what a test draws.
          out.push(String.fromCharCode(...((hex ?? "").match(/.{2}/g)?.map((h) => parseInt(h, 16)) ?? [])));
          continue;
        }
        const ids = (hex ?? "").match(/.{4}/g)?.map((h) => parseInt(h, 16)) ?? [];
        glyphs.set(font, [...(glyphs.get(font) ?? []), ...ids]);
        out.push(ids.map((id) => map.get(id) ?? "\uFFFD").join(""));
      }
    }
    return out;
  });
  return { pages: doc.getPageCount(), runs, glyphs };
}
