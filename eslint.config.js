// Lint rules that the compiler does not enforce: no floating promises, no `any`, no non-null assertions in the
// TypeScript; and ESLint's recommended rules for the plain JavaScript (.mjs: scripts, HTTP and browser tests,
// benchmarks), which tsconfig.scripts.json type-checks.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

/** Forbids `files` from importing any module under one of `above` (a folder, or a top-level module's name). */
function layer(files, above) {
  const group = above.flatMap((name) => [`**/${name}`, `**/${name}/**`]);
  return {
    files,
    rules: {
      "no-restricted-imports": [
        "error",
        { patterns: [{ group, message: "Layers point one way: edge -> coordinator -> wallet -> domain/db (eslint.config.js)." }] },
      ],
    },
  };
}

/**
 * The globals of Node 24 that the .mjs files may use without importing them (the `globals` package is not a
 * dependency, so they are listed here); ES2024's own globals come with ecmaVersion.
 */
const nodeGlobals = Object.fromEntries(
  [
    ...["process", "console", "Buffer", "global", "crypto", "performance", "navigator", "structuredClone", "queueMicrotask"],
    ...["setTimeout", "clearTimeout", "setInterval", "clearInterval", "setImmediate", "clearImmediate"],
    ...["URL", "URLSearchParams", "TextEncoder", "TextDecoder", "AbortController", "AbortSignal", "Event", "EventTarget"],
    ...["fetch", "Headers", "Request", "Response", "FormData", "Blob", "File", "WebSocket", "DOMException"],
  ].map((name) => [name, "readonly"]),
);

/**
 * The browser globals that the end-to-end tests' page.evaluate and waitForFunction callbacks use: they are
 * serialized and run in the page, not in Node.
 */
const pageGlobals = Object.fromEntries(
  ["window", "document", "localStorage", "MutationObserver", "Element"].map((name) => [name, "readonly"]),
);

export default tseslint.config(
  { ignores: ["node_modules/", "web/dist/", ".wrangler/", "src/worker-configuration.d.ts", "**/*.js"] },
  js.configs.recommended,
  {
    // The type-aware rules need a TypeScript project, so they apply to the TypeScript only; the .mjs files are
    // checked by tsc (tsconfig.scripts.json) and linted by the block at the end.
    files: ["**/*.{ts,tsx,mts,cts}"],
    extends: [...tseslint.configs.recommendedTypeChecked],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-non-null-assertion": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/require-await": "off",
    },
  },
  // Layers point one way: the edge (api, cron, worker) -> coordinator -> wallet -> domain and db. A module may
  // import from its own layer and the ones below it, never from one above (config and observability are shared
  // leaves). Each rule lists what its layer must not reach.
  layer(
    ["src/domain/**"],
    ["api", "cron", "audit", "auth", "coordinator", "transfer-coordinator", "wallet", "wallet-object", "db", "worker"],
  ),
  layer(["src/db/**"], ["api", "cron", "audit", "auth", "coordinator", "transfer-coordinator", "wallet", "wallet-object", "worker"]),
  layer(["src/wallet/**", "src/wallet-object.ts"], ["api", "cron", "audit", "coordinator", "transfer-coordinator", "worker"]),
  layer(["src/coordinator/**", "src/transfer-coordinator.ts"], ["api", "cron", "audit", "worker"]),
  {
    // Vitest's asymmetric matchers (expect.objectContaining, expect.any) are typed `any` by design.
    files: ["test/**/*.ts"],
    rules: { "@typescript-eslint/no-unsafe-assignment": "off" },
  },
  {
    // Node ES modules: ESLint's recommended rules, Node's globals, and unused names allowed only when marked `_`.
    files: ["**/*.mjs"],
    languageOptions: { ecmaVersion: "latest", sourceType: "module", globals: nodeGlobals },
    rules: {
      "no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrorsIgnorePattern: "^_" }],
      "no-var": "error",
      "prefer-const": "error",
      eqeqeq: ["error", "always", { null: "ignore" }],
    },
  },
  { files: ["test/e2e/**/*.mjs"], languageOptions: { globals: { ...nodeGlobals, ...pageGlobals } } },
);
