/**
 * Builds the Preact client into web/dist, which wrangler.toml serves as static assets (with an SPA fallback)
 * in front of the Worker. Run from the repository root: `npm run build:web`.
 */
import { fileURLToPath } from "node:url";
import preact from "@preact/preset-vite";
import { defineConfig, type Plugin } from "vite";
// @ts-expect-error -- a plain ES module script, typed by its JSDoc; the web project does not check scripts.
import { copyFonts } from "../scripts/copy-fonts.mjs";

// The config is loaded from the repository root, so the web folder is named explicitly as the root.
const root = fileURLToPath(new URL(".", import.meta.url));

/** The PDF statements' fonts are static assets: copied into every build, after vite has emptied the folder. */
const statementFonts: Plugin = {
  name: "statement-fonts",
  apply: "build",
  closeBundle() {
    (copyFonts as (outDir: URL) => number)(new URL("dist/", import.meta.url));
  },
};

export default defineConfig({
  root,
  plugins: [preact(), statementFonts],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    // Vite prints each file's gzip size; the budget for all JavaScript is 50 KB gzipped.
    reportCompressedSize: true,
    // Nothing is inlined as a data: URL, so every asset is a file the CSP's 'self' covers.
    assetsInlineLimit: 0,
    // The CSP forbids inline scripts, so the module-preload helper must not be injected inline.
    modulePreload: { polyfill: false },
  },
  server: {
    // In development the API and the live feed come from `wrangler dev` on its default port.
    proxy: { "/api": { target: "http://127.0.0.1:8787", ws: true } },
  },
});
