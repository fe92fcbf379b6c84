/**
 * Builds the Preact client into web/dist, which wrangler.toml serves as static assets (with an SPA fallback)
 * in front of the Worker. Run from the repository root: `npm run build:web`.
 */
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
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

/** The most JavaScript, gzipped, that the first page load may fetch (issue 18): the entry and its static imports. */
export const FIRST_LOAD_JS_BUDGET_BYTES = 60_000;

/**
 * Measures the first load's JavaScript (the entry chunk and every chunk it imports statically; lazy chunks such
 * as the chart's are left out) gzipped as a server would send it, prints it, and fails the build above the budget.
 */
const firstLoadBudget: Plugin = {
  name: "first-load-budget",
  apply: "build",
  generateBundle(_options, bundle) {
    const chunks = new Map(Object.values(bundle).flatMap((item) => (item.type === "chunk" ? [[item.fileName, item] as const] : [])));
    const seen = new Set<string>();
    const visit = (name: string): void => {
      const chunk = chunks.get(name);
      if (chunk === undefined || seen.has(name)) return;
      seen.add(name);
      chunk.imports.forEach(visit);
    };
    for (const chunk of chunks.values()) if (chunk.isEntry) visit(chunk.fileName);
    const bytes = [...seen].reduce((sum, name) => sum + gzipSync(chunks.get(name)?.code ?? "").length, 0);
    const line = `first-load JavaScript: ${(bytes / 1000).toFixed(1)} kB gzip of ${FIRST_LOAD_JS_BUDGET_BYTES / 1000} kB (${[...seen].join(", ")})`;
    if (bytes > FIRST_LOAD_JS_BUDGET_BYTES) this.error(`over budget: ${line}`);
    this.info(line);
  },
};

export default defineConfig({
  root,
  plugins: [preact(), statementFonts, firstLoadBudget],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    // Vite prints each file's gzip size; firstLoadBudget above enforces the first load's JavaScript budget.
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
