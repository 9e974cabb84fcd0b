import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, extname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { errorCodes } from "../../src/core/errors.js";
import { ROUTE_POLICY } from "../policy/route-policy.js";

// The repository's documentation stands alone: it never cites documents the repository does not contain, its
// relative links lead somewhere, and every requirement id the code and tests cite is defined in
// docs/security-requirements.md.
const ROOT = join(import.meta.dirname, "..", "..");
const SKIP_DIRS = new Set(["node_modules", ".git", "dist", ".data", "artifacts", ".build", "screenshots", "results"]);
const TEXT = new Set([".ts", ".js", ".mjs", ".cjs", ".md", ".yml", ".yaml", ".conf", ".json", ".txt", ""]);

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (SKIP_DIRS.has(name)) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (TEXT.has(extname(name)) && name !== "package-lock.json") out.push(path);
  }
  return out;
}

const rel = (path: string) => relative(ROOT, path);
const read = (path: string) => readFileSync(path, "utf8");
const files = walk(ROOT);
const markdown = files.filter((f) => f.endsWith(".md"));

// The spec documents that live outside the repository, spelled without writing their names here.
const OUTSIDE = ["API", "SECURITY", "PRODUCT", "ARCHITECTURE"].map((n) => `${n}.md`);
const OUTSIDE_RE = new RegExp(`\\b(${OUTSIDE.map((n) => n.replace(".", "\\.")).join("|")})\\b`);

const ID = "(?:AUTH|RL|SESS|CSRF|AZ|RST|MFA|OIDC|REDIR|TOK|CRY|HDR|INP|FILE|BKP|LOG|FWD|CFG)";
const ID_RE = new RegExp(`\\b(${ID})-(\\d{2})(?:\\.\\.(\\d{2}))?\\b`, "g");

/** GitHub's heading anchor: lower-cased, punctuation dropped, spaces to hyphens; repeats get -1, -2… */
function anchorsOf(markdownText: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of stripFences(markdownText).split("\n")) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) {
      const text = (heading[1] ?? "").replace(/\[([^\]]*)\]\([^)]*\)/g, "$1").replace(/`/g, "");
      const slug = text.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, "").replace(/\s/g, "-");
      const n = seen.get(slug) ?? 0;
      anchors.add(n === 0 ? slug : `${slug}-${n}`);
      seen.set(slug, n + 1);
    }
    for (const m of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(m[1] ?? "");
  }
  return anchors;
}

/** Markdown without fenced code blocks (a `#` line there is no heading). */
function stripFences(text: string): string {
  return text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, "");
}

/** Markdown without fenced code blocks and inline code spans (links there are examples, not links). */
function stripCode(text: string): string {
  return stripFences(text).replace(/`[^`\n]*`/g, "``");
}

/** Every `[text](target)` and `![alt](target)` outside code, with its line number. */
function linksOf(text: string): { target: string; line: number }[] {
  const out: { target: string; line: number }[] = [];
  stripCode(text)
    .split("\n")
    .forEach((line, i) => {
      for (const m of line.matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) out.push({ target: m[1] ?? "", line: i + 1 });
    });
  return out;
}

describe("the documentation stands alone", () => {
  it("no file cites a spec document that is not in the repository", () => {
    const citing = files.flatMap((f) =>
      read(f)
        .split("\n")
        .flatMap((line, i) => (OUTSIDE_RE.test(line) ? [`${rel(f)}:${i + 1}: ${line.trim().slice(0, 120)}`] : [])),
    );
    expect(citing).toEqual([]);
  });

  it("every relative link in the Markdown files (README.md, docs/, src/, test/) leads to an existing file and heading", () => {
    const broken: string[] = [];
    const anchorCache = new Map<string, Set<string>>();
    const anchors = (file: string) => {
      let a = anchorCache.get(file);
      if (a === undefined) anchorCache.set(file, (a = anchorsOf(read(file))));
      return a;
    };
    for (const file of markdown) {
      for (const { target, line } of linksOf(read(file))) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
        const [pathPart = "", anchor] = target.split("#", 2);
        const resolved = pathPart === "" ? file : resolve(dirname(file), decodeURIComponent(pathPart));
        const where = `${rel(file)}:${line} → ${target}`;
        if (!existsSync(resolved)) {
          broken.push(`${where} (no such file)`);
          continue;
        }
        if (anchor !== undefined && resolved.endsWith(".md") && !anchors(resolved).has(anchor)) broken.push(`${where} (no such heading)`);
      }
    }
    expect(broken).toEqual([]);
  });

  const requirements = read(join(ROOT, "docs", "security-requirements.md"));
  const defined = new Set([...requirements.matchAll(new RegExp(`^### (${ID}-\\d{2})$`, "gm"))].map((m) => m[1]));

  it("every requirement id cited in src/ and test/ is defined in docs/security-requirements.md", () => {
    const undefinedIds = new Set<string>();
    for (const f of files.filter((p) => /^(src|test)\//.test(rel(p)))) {
      for (const m of read(f).matchAll(ID_RE)) {
        const ids = [`${m[1]}-${m[2]}`, ...(m[3] ? [`${m[1]}-${m[3]}`] : [])];
        for (const id of ids) if (!defined.has(id)) undefinedIds.add(`${id} (${rel(f)})`);
      }
    }
    expect([...undefinedIds]).toEqual([]);
    expect(defined.size).toBeGreaterThanOrEqual(100);
  });

  it("every requirement names its ASVS 5.0 reference and a status, and the test files it names exist", () => {
    const sections = requirements.split(/^### /m).slice(1);
    const problems: string[] = [];
    for (const section of sections) {
      const id = section.slice(0, section.indexOf("\n"));
      if (!/^- ASVS: .+ · Status: /m.test(section)) problems.push(`${id}: no "- ASVS: … · Status: …" line`);
      for (const m of section.matchAll(/`((?:test|bench)\/[^`\s]+)`/g)) {
        if (!existsSync(join(ROOT, m[1] ?? ""))) problems.push(`${id}: ${m[1]} does not exist`);
      }
    }
    expect(problems).toEqual([]);
  });
});

describe("docs/api.md describes the routes and error codes the code has", () => {
  const api = read(join(ROOT, "docs", "api.md"));

  it("every route of the reviewed access table is in docs/api.md (add a row there with each new route)", () => {
    const missing = Object.keys(ROUTE_POLICY)
      .map((route) => route.slice(route.indexOf(" ") + 1))
      .filter((path) => !path.startsWith("/_gatehouse/")) // the internal forwarding route, not callable
      .filter((path) => !new RegExp("`(?:[A-Z/]+ )?" + path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") + "(?:[?`\\[ ]|$)").test(api));
    expect([...new Set(missing)]).toEqual([]);
  });

  it("every error code of src/core/errors.ts is in docs/api.md with its status", () => {
    const missing = Object.entries(errorCodes)
      .filter(([code, { status }]) => !api.split("\n").some((line) => line.startsWith(`| ${status} |`) && line.includes(`\`${code}\``)))
      .map(([code, { status }]) => `${status} ${code}`);
    expect(missing).toEqual([]);
  });
});
