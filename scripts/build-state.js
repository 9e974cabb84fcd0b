// Is dist/ the compiled form of src/? Used by scripts/build.js (`npm run build`, `npm start`'s
// fast path) and by bin/gatehouse.js. Node built-ins only: it runs where no dev dependency is installed.
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

/** Written by scripts/build.js after a complete build; its mtime is the build's time. */
export const STAMP = join("dist", ".build-stamp");
/** Besides src/, the files a build reads. */
const INPUTS = ["package.json", "tsconfig.json", "tsconfig.build.json"];

/** The newest modification time (ms) of src/ and the build's configuration, or null without src/ (an installed copy). */
function newestInput(root) {
  const src = join(root, "src");
  if (!existsSync(src)) return null;
  let newest = 0;
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else newest = Math.max(newest, statSync(path).mtimeMs);
    }
    newest = Math.max(newest, statSync(dir).mtimeMs);
  };
  walk(src);
  for (const file of INPUTS) if (existsSync(join(root, file))) newest = Math.max(newest, statSync(join(root, file)).mtimeMs);
  return newest;
}

/**
 * `fresh`: dist/ was built after the last change to src/ (or there is no src/, as in the container image);
 * `stale`: src/ changed since; `missing`: never built.
 */
export function buildState(root) {
  const stamp = join(root, STAMP);
  if (!existsSync(stamp) || !existsSync(join(root, "dist", "main.js"))) return "missing";
  const newest = newestInput(root);
  return newest === null || newest <= statSync(stamp).mtimeMs ? "fresh" : "stale";
}
