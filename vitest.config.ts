import { defineConfig } from "vitest/config";

export default defineConfig({
  // `gatehouse/fastify` (the package's own export) resolves to its TypeScript source in tests (package.json "exports").
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: ["source"] } },
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
