import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  // The package's own entry points (package.json "exports"), from the sources: Vite does not resolve a package's self-reference.
  resolve: { alias: { "gatehouse/express": fileURLToPath(new URL("./src/library/express/index.ts", import.meta.url)) } },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Both cores: on a busy 2-core host the default (one worker) took 13 of CI's 20 minutes; two took 8.
    maxWorkers: 2,
    globalSetup: ["test/helpers/global-setup.ts"],
  },
});
