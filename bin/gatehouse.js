#!/usr/bin/env node
// The `gatehouse` command. It runs the compiled CLI (dist/cli/main.js) when dist/ is up to date with
// src/ (always so in a production install, which has no src/), otherwise the TypeScript source through
// tsx, a dev dependency, so a checkout being edited never runs stale code.
import { fileURLToPath } from "node:url";
import { buildState } from "../scripts/build-state.js";

const root = new URL("..", import.meta.url);
const state = buildState(fileURLToPath(root));
let tsx = null;
if (state !== "fresh") {
  try {
    tsx = await import("tsx/esm/api");
  } catch {
    // No dev dependencies (npm ci --omit=dev): only dist/ can run.
  }
}
if (tsx !== null) {
  tsx.register();
  await import(new URL("src/cli/main.ts", root).href);
} else if (state === "missing") {
  process.stderr.write("gatehouse: dist/ is missing; build it with `npm run build` (needs the dev dependencies)\n");
  process.exitCode = 1;
} else {
  if (state === "stale") process.stderr.write("gatehouse: warning: dist/ is older than src/ and tsx is not installed; running dist/ (npm run build)\n");
  await import(new URL("dist/cli/main.js", root).href);
}
