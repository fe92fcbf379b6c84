// Lint rules that the compiler does not enforce: no floating promises, no `any`, no non-null assertions.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

/** Forbids `files` from importing any module under one of `above` (a folder, or a top-level module's name). */
function layer(files, above) {
  const group = above.flatMap((name) => [`**/${name}`, `**/${name}/**`]);
  return { files, rules: { "no-restricted-imports": ["error", { patterns: [{ group, message: "Layers point one way: edge -> coordinator -> wallet -> domain/db (eslint.config.js)." }] }] } };
}

export default tseslint.config(
  { ignores: ["node_modules/", "web/dist/", ".wrangler/", "src/worker-configuration.d.ts", "**/*.mjs", "**/*.js"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
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
  layer(["src/domain/**"], ["api", "cron", "audit", "auth", "coordinator", "transfer-coordinator", "wallet", "wallet-object", "db", "worker"]),
  layer(["src/db/**"], ["api", "cron", "audit", "auth", "coordinator", "transfer-coordinator", "wallet", "wallet-object", "worker"]),
  layer(["src/wallet/**", "src/wallet-object.ts"], ["api", "cron", "audit", "coordinator", "transfer-coordinator", "worker"]),
  layer(["src/coordinator/**", "src/transfer-coordinator.ts"], ["api", "cron", "audit", "worker"]),
  {
    // Vitest's asymmetric matchers (expect.objectContaining, expect.any) are typed `any` by design.
    files: ["test/**/*.ts"],
    rules: { "@typescript-eslint/no-unsafe-assignment": "off" },
  },
);
