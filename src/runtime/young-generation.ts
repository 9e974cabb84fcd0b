import { setFlagsFromString } from "node:v8";

/** V8's default `--semi-space-growth-factor`. */
const V8_DEFAULT_GROWTH = 2;

/** True when the operator set the young generation's size or growth on the command line or in NODE_OPTIONS. */
function operatorChoseYoungGeneration(): boolean {
  return [...process.execArgv, ...(process.env.NODE_OPTIONS ?? "").split(/\s+/)].some((arg) => /semi[-_]space/.test(arg));
}

let held = false;

/**
 * Keeps V8's young generation at its initial size (1 MB semi-spaces) while
 * the server starts. Loading the modules and building the app allocate
 * ~20 MB that mostly survives, and V8 answers that by doubling the young
 * generation up to its 2 × 16 MB maximum, pages that an idle server then keeps
 * resident for nothing (~27 MB of RSS, docs/performance.md). Does nothing
 * when the operator chose a semi-space setting themselves.
 */
export function holdYoungGeneration(): void {
  if (held || operatorChoseYoungGeneration()) return;
  setFlagsFromString("--semi-space-growth-factor=1");
  held = true;
}

/**
 * Lets the young generation grow again, as V8 does by default (compose.ts
 * calls it on the first request once the server listens): traffic that
 * needs a larger one gets it, so there is no throughput cost under load; an
 * idle server keeps the small one.
 */
export function releaseYoungGeneration(): void {
  if (!held) return;
  setFlagsFromString(`--semi-space-growth-factor=${V8_DEFAULT_GROWTH}`);
  held = false;
}
