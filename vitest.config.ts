import { defineConfig } from "vitest/config";

export default defineConfig({
  // `gatehouse/fastify` and `gatehouse/express` (the package's own exports) resolve to its TypeScript source in tests (package.json "exports"):
  // the "source" condition first, then Vite's defaults (setting the list replaces them).
  resolve: { conditions: ["source", "module", "browser", "development|production"] },
  ssr: { resolve: { conditions: ["source", "module", "node", "development|production"] } },
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
