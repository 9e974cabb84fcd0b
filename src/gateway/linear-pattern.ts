import { createRequire } from "node:module";
import type * as Re2js from "re2js";
import type { PathPattern } from "../core/gateway/access-rules.js";

// re2js is loaded with the first rules file, not at start (docs/performance.md, "Loaded on first use").
const require = createRequire(import.meta.url);
let engine: typeof Re2js.RE2JS | null = null;
const re2 = () => (engine ??= (require("re2js") as typeof Re2js).RE2JS);

/**
 * Largest compiled program a `resources` pattern may have (RE2 instructions,
 * about one per character or class). RE2 matches in O(input × program); the
 * cap keeps the program factor small, so a decision on an 8 KiB path stays
 * well under a millisecond (figures in docs/adr/0007-linear-time-rule-patterns.md).
 */
export const MAX_PATTERN_PROGRAM = 100;

/** A compiled pattern, or why the pattern is refused (a sentence without the pattern itself). */
export type LinearPatternResult = { ok: true; pattern: PathPattern } | { ok: false; problem: string };

/**
 * Compiles a rule's `resources` pattern on re2js, a pure-JavaScript port of
 * RE2: matching takes time linear in the input, so no request can make a
 * rule backtrack. Case-insensitive (so `/Admin` cannot slip past a rule
 * written for `/admin`), Go/RE2 syntax (Authelia's). Backreferences and
 * lookaround have no linear-time implementation and are refused with a reason.
 */
export function compileLinearPattern(source: string): LinearPatternResult {
  const RE2JS = re2();
  let compiled: Re2js.RE2JS;
  try {
    compiled = RE2JS.compile(source, RE2JS.CASE_INSENSITIVE);
  } catch (err) {
    return { ok: false, problem: unsupported(source) ?? `is not a valid RE2 regular expression (${syntaxError(err)})` };
  }
  const size = compiled.programSize();
  if (size > MAX_PATTERN_PROGRAM) {
    return { ok: false, problem: `is too complex (${size} RE2 instructions, at most ${MAX_PATTERN_PROGRAM}); split it into several shorter patterns or use a smaller repetition count` };
  }
  // The same search, with an explicit `(?s:.*?)` in front: `test` is unanchored anyway, and `^` still means the
  // start of the input. Without it, a pattern starting with `^` runs on re2js's one-pass matcher, about 5 times
  // slower per character than its DFA (0.5 ms against 0.1 ms on 8 KiB; docs/adr/0007). Safe to splice: the
  // source compiled on its own above, so its parentheses balance; the one construct that could swallow the closing
  // `)`, a `\Q` quote left open to the end, makes the spliced form unparsable, and the source is then run as it is.
  let search = compiled;
  try {
    search = RE2JS.compile(`(?s:.*?)(?:${source})`, RE2JS.CASE_INSENSITIVE);
  } catch {
    // `^/\Qa.b`: keep the one-pass matcher.
  }
  return { ok: true, pattern: { source, test: (input) => search.test(input) } };
}

/** The construct RE2 cannot run, named, when the pattern uses one (backreference, lookahead, lookbehind). */
function unsupported(source: string): string | null {
  if (/\\[1-9]|\\k</.test(source)) return "uses a backreference (\\1, \\k<name>), which RE2 cannot run in linear time";
  if (/\(\?<[=!]/.test(source)) return "uses a lookbehind ((?<= or (?<!), which RE2 does not support";
  if (/\(\?[=!]/.test(source)) return "uses a lookahead ((?= or (?!), which RE2 does not support";
  return null;
}

/** RE2's own reason, without the pattern text it quotes. */
function syntaxError(err: unknown): string {
  const desc = err instanceof Error && "getDescription" in err && typeof err.getDescription === "function" ? String((err.getDescription as (this: unknown) => unknown).call(err)) : "syntax error";
  return desc.slice(0, 80);
}
