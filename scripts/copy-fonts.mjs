#!/usr/bin/env node
// Copies the fonts of PDF statements from their npm packages (Noto, SIL Open Font License) into the static
// assets (web/dist/fonts/), after `vite build` has emptied web/dist. The Worker fetches them through its
// ASSETS binding when a statement needs them (src/statements/fonts.ts), so they never count against the
// Worker's bundle size. Run by every web build (a plugin in web/vite.config.ts), so `npm start`, `npm test` and
// `npm run build:web` all serve the same assets; `node scripts/copy-fonts.mjs` runs it on its own.
import { copyFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";

const require = createRequire(import.meta.url);
/** Served name → [package, file inside it]. Keep in step with FONT_FILES in src/statements/fonts.ts. */
const FONTS = {
  "NotoSans-Regular.ttf": ["@expo-google-fonts/noto-sans", "400Regular/NotoSans_400Regular.ttf"],
  "NotoSansArabic-Regular.ttf": ["@expo-google-fonts/noto-sans-arabic", "400Regular/NotoSansArabic_400Regular.ttf"],
  "NotoSansHebrew-Regular.ttf": ["@expo-google-fonts/noto-sans-hebrew", "400Regular/NotoSansHebrew_400Regular.ttf"],
  "NotoSansDevanagari-Regular.ttf": ["@expo-google-fonts/noto-sans-devanagari", "400Regular/NotoSansDevanagari_400Regular.ttf"],
  "NotoSansJP-Regular.ttf": ["@expo-google-fonts/noto-sans-jp", "400Regular/NotoSansJP_400Regular.ttf"],
  "NotoSansKR-Regular.ttf": ["@expo-google-fonts/noto-sans-kr", "400Regular/NotoSansKR_400Regular.ttf"],
  "NotoEmoji-Regular.ttf": ["@expo-google-fonts/noto-emoji", "400Regular/NotoEmoji_400Regular.ttf"],
  "NotoSansArmenian-Regular.ttf": ["@expo-google-fonts/noto-sans-armenian", "400Regular/NotoSansArmenian_400Regular.ttf"],
  "NotoSansSyriac-Regular.ttf": ["@expo-google-fonts/noto-sans-syriac", "400Regular/NotoSansSyriac_400Regular.ttf"],
  "NotoSansBengali-Regular.ttf": ["@expo-google-fonts/noto-sans-bengali", "400Regular/NotoSansBengali_400Regular.ttf"],
  "NotoSansGurmukhi-Regular.ttf": ["@expo-google-fonts/noto-sans-gurmukhi", "400Regular/NotoSansGurmukhi_400Regular.ttf"],
  "NotoSansGujarati-Regular.ttf": ["@expo-google-fonts/noto-sans-gujarati", "400Regular/NotoSansGujarati_400Regular.ttf"],
  "NotoSansTamil-Regular.ttf": ["@expo-google-fonts/noto-sans-tamil", "400Regular/NotoSansTamil_400Regular.ttf"],
  "NotoSansTelugu-Regular.ttf": ["@expo-google-fonts/noto-sans-telugu", "400Regular/NotoSansTelugu_400Regular.ttf"],
  "NotoSansKannada-Regular.ttf": ["@expo-google-fonts/noto-sans-kannada", "400Regular/NotoSansKannada_400Regular.ttf"],
  "NotoSansMalayalam-Regular.ttf": ["@expo-google-fonts/noto-sans-malayalam", "400Regular/NotoSansMalayalam_400Regular.ttf"],
  "NotoSansSinhala-Regular.ttf": ["@expo-google-fonts/noto-sans-sinhala", "400Regular/NotoSansSinhala_400Regular.ttf"],
  "NotoSansThai-Regular.ttf": ["@expo-google-fonts/noto-sans-thai", "400Regular/NotoSansThai_400Regular.ttf"],
  "NotoSansLao-Regular.ttf": ["@expo-google-fonts/noto-sans-lao", "400Regular/NotoSansLao_400Regular.ttf"],
  "NotoSansMyanmar-Regular.ttf": ["@expo-google-fonts/noto-sans-myanmar", "400Regular/NotoSansMyanmar_400Regular.ttf"],
  "NotoSansGeorgian-Regular.ttf": ["@expo-google-fonts/noto-sans-georgian", "400Regular/NotoSansGeorgian_400Regular.ttf"],
  "NotoSansEthiopic-Regular.ttf": ["@expo-google-fonts/noto-sans-ethiopic", "400Regular/NotoSansEthiopic_400Regular.ttf"],
  "NotoSansCherokee-Regular.ttf": ["@expo-google-fonts/noto-sans-cherokee", "400Regular/NotoSansCherokee_400Regular.ttf"],
  "NotoSansKhmer-Regular.ttf": ["@expo-google-fonts/noto-sans-khmer", "400Regular/NotoSansKhmer_400Regular.ttf"],
  "NotoSansMath-Regular.ttf": ["@expo-google-fonts/noto-sans-math", "400Regular/NotoSansMath_400Regular.ttf"],
};

/**
 * Copies every statement font (and the licence) into `outDir`/fonts.
 * @param {URL} outDir the web build's output directory
 */
export function copyFonts(outDir) {
  const out = new URL("fonts/", outDir);
  mkdirSync(out, { recursive: true });
  for (const [name, [pkg, file]] of Object.entries(FONTS)) {
    const root = dirname(require.resolve(`${pkg}/package.json`));
    copyFileSync(join(root, file), new URL(name, out));
  }
  const licence = dirname(require.resolve("@expo-google-fonts/noto-sans/package.json"));
  copyFileSync(join(licence, "LICENSE_FONT"), new URL("LICENSE-OFL.txt", out));
  return Object.keys(FONTS).length;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const n = copyFonts(new URL("../web/dist/", import.meta.url));
  console.log(`copy-fonts: ${n} fonts into web/dist/fonts/`);
}
