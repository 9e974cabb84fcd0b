// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import { importX } from "eslint-plugin-import-x";
import { createTypeScriptImportResolver } from "eslint-import-resolver-typescript";

export default tseslint.config(
  { ignores: ["node_modules/", "dist/", ".data/", "bench/results/", "bench/.build/", "coverage/"] },
  js.configs.recommended,
  // Type-aware rules (floating/misused promises, unsafe any, ...) for all TypeScript.
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
  },
  {
    // Plain JavaScript (browser assets, bin/, this file) is not in the TypeScript project.
    files: ["**/*.js", "**/*.mjs", "**/*.cjs"],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    languageOptions: { globals: { process: "readonly", Buffer: "readonly", console: "readonly", setTimeout: "readonly", clearTimeout: "readonly", setInterval: "readonly", clearInterval: "readonly", URL: "readonly", NodeJS: "readonly" } },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      // CRY-03: randomness only from node:crypto.
      "no-restricted-properties": ["error", { object: "Math", property: "random", message: "Use the injected Random (node:crypto) — CRY-03." }],
    },
  },
  {
    // The core is free of frameworks, databases and HTTP (docs/architecture.md).
    files: ["src/core/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { group: ["fastify", "fastify-*", "@fastify/*"], message: "src/core must not import Fastify." },
            { group: ["kysely", "better-sqlite3", "pg", "ioredis"], message: "src/core must not import a database or cache driver; use a store port." },
            { group: ["node:http", "node:https", "http", "https", "node:http2"], message: "src/core must not import HTTP modules." },
            { group: ["**/http/**", "**/storage/**", "**/config/**"], message: "src/core must not depend on outer layers." },
          ],
        },
      ],
    },
  },
  {
    // CRY-03: secrets are compared with safeEqual, never ===.
    files: ["src/**/*.ts"],
    rules: {
      "no-restricted-syntax": [
        "error",
        {
          selector: "BinaryExpression[operator=/^[!=]==?$/][left.type='Identifier'][left.name=/(token|secret|hmac|hash)$/i][right.type='Identifier'][right.name=/(token|secret|hmac|hash)$/i]",
          message: "Compare secrets with safeEqual() (constant time) — CRY-03.",
        },
      ],
    },
  },
  {
    // The browser scripts of the web pages (served from /assets/, no build step).
    files: ["src/web/assets/**/*.js"],
    languageOptions: {
      sourceType: "script",
      globals: { window: "readonly", document: "readonly", navigator: "readonly", location: "readonly", history: "readonly", fetch: "readonly", setTimeout: "readonly", clearTimeout: "readonly", URL: "readonly", URLSearchParams: "readonly" },
    },
  },
  {
    // Migrations are frozen and typed as Kysely<any> on purpose (Kysely's convention).
    files: ["src/storage/sql/migrations/*.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
  {
    // async marks implementations of Promise-returning ports and Fastify's async plugins and handlers (Fastify's
    // contract: an async plugin has finished registering when its promise settles); removing it would turn a
    // thrown error into a synchronous throw, so `async` without `await` is allowed.
    files: ["src/**/*.ts"],
    rules: { "@typescript-eslint/require-await": "off" },
  },
  {
    files: ["test/**/*.ts", "bench/**/*.ts"],
    rules: {
      "@typescript-eslint/no-non-null-assertion": "off",
      // Tests read untyped JSON response bodies (`res.json()` is any) on every line; the assertions check the shape.
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      // Test callbacks and fakes are async to match the interfaces and vitest hooks they stand in for.
      "@typescript-eslint/require-await": "off",
      // `expect(store.method).toHaveBeenCalled…` and spies pass methods unbound on purpose.
      "@typescript-eslint/unbound-method": "off",
      // `String(data)` of a WebSocket message decodes its Buffer; the rule cannot tell it from a plain object.
      "@typescript-eslint/no-base-to-string": "off",
      // The rule wants `res.json<T>()` for `res.json() as T`; both say the same, and bodies are cast everywhere.
      "@typescript-eslint/no-unnecessary-type-assertion": "off",
    },
  },
  {
    // No import cycles in src/ (layering stays a tree; resolves the `.js` specifiers to the `.ts` sources).
    files: ["src/**/*.ts"],
    plugins: { "import-x": importX },
    settings: {
      "import-x/extensions": [".ts", ".js"],
      "import-x/parsers": { "@typescript-eslint/parser": [".ts"] },
      "import-x/resolver-next": [createTypeScriptImportResolver({ project: "tsconfig.json" })],
    },
    rules: { "import-x/no-cycle": ["error", { ignoreExternal: true }] },
  },
);
