import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import type * as Yaml from "yaml";
import type { Node, Pair, YAMLMap } from "yaml";

// The YAML parser (and re2js, in linear-pattern.ts) are loaded with the first rules file, not at start:
// most deployments of the embedded default have no rules file, and they cost memory (docs/performance.md).
const require = createRequire(import.meta.url);
let loaded: { yaml: typeof Yaml } | null = null;
const lib = () => (loaded ??= { yaml: require("yaml") as typeof Yaml });
const isMap = (node: unknown): node is YAMLMap => lib().yaml.isMap(node);
const isScalar = (node: unknown): node is Yaml.Scalar => lib().yaml.isScalar(node);
const isSeq = (node: unknown): node is Yaml.YAMLSeq => lib().yaml.isSeq(node);
import type { AccessRule, AccessRules, DomainPattern, InjectedHeader, Policy, ResourcePattern, RuleRateLimit, Subject, Upstream } from "../core/gateway/access-rules.js";
import { parseHeaderTemplate } from "../core/vault/header-template.js";
import { ROLES, type Role } from "../core/users/user.js";
import { UPLOAD_RULE_DEFAULTS, type UploadRule } from "../core/uploads/upload-rule.js";
import { compileLinearPattern } from "./linear-pattern.js";
import { createNetworkSet, networkProblem } from "./network-set.js";

/** Every problem found in a rules file, each with its line number; the file is refused as a whole. */
export class RulesFileError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`the access rules file is invalid:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "RulesFileError";
    this.problems = problems;
  }
}

const POLICIES = ["bypass", "one_factor", "two_factor", "deny"] as const;
const MAX_REGEX = 1024;
const RULE_KEYS = ["domain", "resources", "methods", "networks", "subject", "policy", "body_limit", "rate_limit", "uploads"];
const UPLOAD_KEYS = ["max_size", "allowed_types", "allow_unknown", "strip_metadata", "max_pixels", "scan", "on_scan_error"];
const MIME = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/;
const SIZE = /^(\d{1,12})\s*(b|kb|kib|mb|mib|gb|gib)?$/i;
const UNITS: Record<string, number> = { b: 1, kb: 1000, kib: 1024, mb: 1000 ** 2, mib: 1024 ** 2, gb: 1000 ** 3, gib: 1024 ** 3 };

/** `body_limit`: bytes as an integer, or with a unit (`512KiB`, `10MB`). */
function byteSize(node: Node, problems: Problems, at: At, name = "body_limit"): number | null {
  const value = isScalar(node) ? node.value : null;
  const m = typeof value === "number" && Number.isSafeInteger(value) ? [String(value), String(value)] : typeof value === "string" ? SIZE.exec(value.trim()) : null;
  const bytes = m ? Number(m[1]) * (UNITS[(m[2] ?? "b").toLowerCase()] ?? 1) : NaN;
  if (!Number.isSafeInteger(bytes) || bytes < 0) {
    problems.push(`${at(node)}: \`${name}\` must be a size in bytes, like 1048576 or 512KiB or 10MB`);
    return null;
  }
  return bytes;
}

type Problems = string[];

/** `rate_limit`'s `limit`: `<count>/<window>`, the window a number and a unit (`20/1m`, `5/1h`, `100/10s`). */
const RATE = /^(\d{1,7})\s*\/\s*(\d{1,5})\s*(s|m|h|d)$/;
const WINDOW_UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const MAX_COUNT = 1_000_000;
const DAY_MS = 86_400_000;
/** Limits per rule: enough for "per minute and per day, per user and per IP". */
const MAX_RATE_LIMITS = 8;

/** `rate_limit`: one `{per, limit}` mapping or a non-empty list of them. */
function rateLimits(node: Node, problems: Problems, at: At): RuleRateLimit[] | null {
  const items = isSeq(node) ? (node.items as Node[]) : [node];
  if (items.length === 0 || items.length > MAX_RATE_LIMITS) {
    problems.push(`${at(node)}: \`rate_limit\` must be a {per, limit} mapping or a list of 1 to ${MAX_RATE_LIMITS} of them`);
    return null;
  }
  const out: RuleRateLimit[] = [];
  let ok = true;
  for (const item of items) {
    if (!isMap(item)) {
      problems.push(`${at(item)}: each \`rate_limit\` needs \`per\` (user or ip) and \`limit\` (like "20/1m")`);
      ok = false;
      continue;
    }
    const e = entries(item, ["per", "limit"], problems, at);
    const perNode = e.get("per");
    const limitNode = e.get("limit");
    const per = perNode !== undefined && isScalar(perNode) ? perNode.value : undefined;
    if (per !== "user" && per !== "ip") {
      problems.push(`${at(perNode ?? item)}: \`rate_limit\` \`per\` must be \`user\` or \`ip\``);
      ok = false;
    }
    const raw = limitNode !== undefined && isScalar(limitNode) ? limitNode.value : undefined;
    const m = typeof raw === "string" ? RATE.exec(raw.trim()) : null;
    const limit = m ? Number(m[1]) : NaN;
    const windowMs = m ? Number(m[2]) * (WINDOW_UNITS[m[3] ?? "s"] ?? 1000) : NaN;
    if (!(limit >= 1 && limit <= MAX_COUNT && windowMs >= 1000 && windowMs <= DAY_MS)) {
      problems.push(`${at(limitNode ?? item)}: \`rate_limit\` \`limit\` must be "<count>/<window>" like "20/1m" (count 1 to 1000000, window 1s to 1d, units s, m, h, d)`);
      ok = false;
    }
    if (ok && (per === "user" || per === "ip")) out.push({ per, limit, windowMs });
  }
  return ok ? out : null;
}

/**
 * A rule's stable identity: a hash of its position and its content as
 * parsed (not its text: comments and spacing do not matter), so an
 * unchanged rule keeps its rate-limit counters across reloads and instances.
 */
function ruleId(index: number, node: Node): string {
  return createHash("sha256").update(`${index}\n${JSON.stringify(node.toJSON())}`).digest("base64url").slice(0, 16);
}

function flag(node: Node, name: string, problems: Problems, at: At): boolean | null {
  if (isScalar(node) && typeof node.value === "boolean") return node.value;
  problems.push(`${at(node)}: \`uploads.${name}\` must be true or false`);
  return null;
}

function oneOf<T extends string>(node: Node, name: string, values: readonly T[], problems: Problems, at: At): T | null {
  const value = isScalar(node) ? node.value : null;
  if (typeof value === "string" && (values as readonly string[]).includes(value)) return value as T;
  problems.push(`${at(node)}: \`uploads.${name}\` must be one of ${values.join(", ")}`);
  return null;
}

/** A rule's `uploads` section (docs/uploads.md); `max_size` is required. */
function uploadRule(node: Node, problems: Problems, at: At): UploadRule | null {
  if (!isMap(node)) {
    problems.push(`${at(node)}: \`uploads\` must be a mapping with at least \`max_size\``);
    return null;
  }
  const before = problems.length;
  const e = entries(node, UPLOAD_KEYS, problems, at);
  const sizeNode = e.get("max_size");
  if (sizeNode === undefined) problems.push(`${at(node)}: \`uploads.max_size\` is required`);
  const maxSize = sizeNode === undefined ? null : byteSize(sizeNode, problems, at, "uploads.max_size");
  if (maxSize === 0) problems.push(`${at(sizeNode)}: \`uploads.max_size\` must be at least 1 byte`);
  const rule: UploadRule = { ...UPLOAD_RULE_DEFAULTS, maxSize: maxSize ?? 0 };
  const types = e.get("allowed_types");
  if (types !== undefined) {
    const list = strings(types, "uploads.allowed_types", problems, at) ?? [];
    const mimes = list.map((t) => t.value.trim().toLowerCase());
    list.forEach((t, i) => {
      if (!MIME.test(mimes[i] ?? "")) problems.push(`${at(t.node)}: \`${t.value.slice(0, 60)}\` is not a MIME type like image/png`);
    });
    rule.allowedTypes = mimes;
  }
  const unknown = e.get("allow_unknown");
  if (unknown !== undefined) rule.allowUnknown = flag(unknown, "allow_unknown", problems, at) ?? false;
  const strip = e.get("strip_metadata");
  if (strip !== undefined) rule.stripMetadata = flag(strip, "strip_metadata", problems, at) ?? false;
  const pixels = e.get("max_pixels");
  if (pixels !== undefined) {
    const value = isScalar(pixels) ? pixels.value : null;
    if (typeof value === "number" && Number.isSafeInteger(value) && value >= 1 && value <= 1_000_000_000) rule.maxPixels = value;
    else problems.push(`${at(pixels)}: \`uploads.max_pixels\` must be a whole number of pixels from 1 to 1000000000`);
  }
  const scan = e.get("scan");
  if (scan !== undefined) rule.scan = oneOf(scan, "scan", ["clamav", "none"] as const, problems, at) === "clamav" ? "clamav" : null;
  const onError = e.get("on_scan_error");
  if (onError !== undefined) rule.onScanError = oneOf(onError, "on_scan_error", ["reject", "allow"] as const, problems, at) ?? "reject";
  return problems.length > before ? null : rule;
}

/**
 * Parses and validates a rules file (docs/api.md "Access rules file"; Authelia's
 * `access_control` shape). Throws a {@link RulesFileError} listing every
 * problem with its line; never echoes a value that could be a secret.
 */
export function parseRulesFile(text: string): AccessRules {
  const lines = new (lib().yaml.LineCounter)();
  const doc = lib().yaml.parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const problems: Problems = [];
  const at = (node: Node | Pair | null | undefined): string => {
    const range = node && "range" in node ? node.range : node && "key" in node && isScalar(node.key) ? node.key.range : undefined;
    return range ? `line ${lines.linePos(range[0]).line}` : "line ?";
  };
  for (const err of doc.errors) problems.push(`line ${lines.linePos(err.pos[0]).line}: ${err.code === "DUPLICATE_KEY" ? "duplicate key" : "invalid YAML"} (${err.code})`);
  if (problems.length > 0) throw new RulesFileError(problems);

  const root = doc.contents;
  if (root === null) throw new RulesFileError(["line 1: the file is empty; it needs an `access_control` section"]);
  if (!isMap(root)) throw new RulesFileError([`${at(root)}: the file must be a mapping with an \`access_control\` section`]);
  // `identity_providers` is read by src/oauth/parse-providers-file.ts; a file may hold only that section.
  const top = entries(root, ["access_control", "upstreams", "identity_providers"], problems, at);

  let defaultPolicy: Policy = "deny";
  const rules: AccessRule[] = [];
  const access = top.get("access_control");
  if (access === undefined) {
    if (!top.has("identity_providers")) problems.push("line 1: `access_control` is missing");
  } else if (!isMap(access)) problems.push(`${at(access)}: \`access_control\` must be a mapping`);
  else {
    const section = entries(access, ["default_policy", "rules", "networks"], problems, at);
    const named = namedNetworks(section.get("networks"), problems, at);
    const dp = section.get("default_policy");
    if (dp !== undefined) defaultPolicy = policy(dp, problems, at, "default_policy") ?? "deny";
    const list = section.get("rules");
    if (list !== undefined && !isSeq(list)) problems.push(`${at(list)}: \`rules\` must be a list`);
    else if (list !== undefined) {
      list.items.forEach((item, i) => {
        const rule = parseRule(item as Node, i + 1, named, problems, at);
        if (rule) rules.push(rule);
      });
    }
  }

  const upstreams: Upstream[] = [];
  const ups = top.get("upstreams");
  if (ups !== undefined && !isSeq(ups)) problems.push(`${at(ups)}: \`upstreams\` must be a list`);
  else if (ups !== undefined) {
    for (const item of ups.items as Node[]) {
      if (!isMap(item)) {
        problems.push(`${at(item)}: each upstream needs \`domain\` and \`url\``);
        continue;
      }
      const e = entries(item, ["domain", "url", "inject_headers"], problems, at);
      const d = e.get("domain");
      const u = e.get("url");
      const inj = e.get("inject_headers");
      const injectHeaders = inj === undefined ? [] : injectedHeaders(inj, problems, at);
      const domain = d === undefined ? null : domainPattern(d, problems, at);
      if (d === undefined) problems.push(`${at(item)}: upstream \`domain\` is missing`);
      const url = u === undefined ? null : upstreamUrl(u, problems, at);
      if (u === undefined) problems.push(`${at(item)}: upstream \`url\` is missing`);
      if (domain && url) upstreams.push({ domain, url, ...(injectHeaders.length > 0 ? { injectHeaders } : {}) });
    }
  }
  if (problems.length > 0) throw new RulesFileError(problems);
  return { defaultPolicy, rules, upstreams };
}

type At = (node: Node | Pair | null | undefined) => string;

const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/;
/** Headers Gatehouse sets, or that frame the request: never injected. */
const NOT_INJECTABLE = new Set(["host", "content-length", "content-type", "transfer-encoding", "connection", "keep-alive", "upgrade", "te", "trailer", "expect", "cookie", "forwarded", "proxy-authorization", "proxy-connection"]);
const NOT_INJECTABLE_PREFIXES = ["remote-", "x-forwarded-", "x-gatehouse-", "sec-websocket-"];

function injectableHeader(raw: unknown, node: Node, problems: Problems, at: At): string | null {
  const name = typeof raw === "string" ? raw.trim().toLowerCase() : "";
  if (!HEADER_NAME.test(name)) {
    problems.push(`${at(node)}: an injected header needs a header name (letters, digits, -)`);
    return null;
  }
  if (NOT_INJECTABLE.has(name) || NOT_INJECTABLE_PREFIXES.some((p) => name.startsWith(p))) {
    problems.push(`${at(node)}: header \`${name}\` cannot be injected (Gatehouse sets it, or it frames the request)`);
    return null;
  }
  return name;
}

function injectedTemplate(node: Node, problems: Problems, at: At): InjectedHeader["template"] | null {
  const value = isScalar(node) ? node.value : null;
  const parsed = typeof value === "string" ? parseHeaderTemplate(value) : "must be a string";
  if (typeof parsed === "string") {
    // Never echo the value: it names secrets, and an operator may have pasted one by mistake.
    problems.push(`${at(node)}: an injected header's value ${parsed}`);
    return null;
  }
  return parsed;
}

/**
 * An upstream's `inject_headers` (docs/secrets.md): a mapping of header name
 * to template (every request to the upstream), or a list of
 * `{header, value, resources?}` (only requests whose path matches).
 */
function injectedHeaders(node: Node, problems: Problems, at: At): InjectedHeader[] {
  const out: InjectedHeader[] = [];
  if (isMap(node)) {
    for (const pair of node.items) {
      const header = injectableHeader(isScalar(pair.key) ? pair.key.value : null, (pair.key ?? node) as Node, problems, at);
      const template = pair.value ? injectedTemplate(pair.value as Node, problems, at) : null;
      if (!pair.value) problems.push(`${at(pair)}: an injected header needs a value`);
      if (header && template) out.push({ header, template, resources: null });
    }
  } else if (isSeq(node)) {
    for (const item of node.items as Node[]) {
      if (!isMap(item)) {
        problems.push(`${at(item)}: each injected header needs \`header\` and \`value\``);
        continue;
      }
      const e = entries(item, ["header", "value", "resources"], problems, at);
      const h = e.get("header");
      const v = e.get("value");
      if (h === undefined || v === undefined) {
        problems.push(`${at(item)}: each injected header needs \`header\` and \`value\``);
        continue;
      }
      const header = injectableHeader(isScalar(h) ? h.value : null, h, problems, at);
      const template = injectedTemplate(v, problems, at);
      const r = e.get("resources");
      const resources = r === undefined ? null : (strings(r, "resources", problems, at) ?? []).map((x) => compileResource(x.value, x.node, problems, at));
      if (header && template && !resources?.includes(null)) out.push({ header, template, resources: resources as ResourcePattern[] | null });
    }
  } else problems.push(`${at(node)}: \`inject_headers\` must be a mapping of header to value, or a list of {header, value, resources}`);
  if (out.length > 32) problems.push(`${at(node)}: at most 32 injected headers per upstream`);
  return out;
}

/** The map's entries by key; unknown or non-string keys are reported. */
function entries(map: YAMLMap, allowed: readonly string[], problems: Problems, at: At): Map<string, Node> {
  const out = new Map<string, Node>();
  for (const pair of map.items) {
    const key = isScalar(pair.key) ? pair.key.value : null;
    if (typeof key !== "string" || !allowed.includes(key)) {
      problems.push(`${at(pair)}: unknown key${typeof key === "string" ? ` \`${key.slice(0, 40)}\`` : ""} (allowed: ${allowed.join(", ")})`);
      continue;
    }
    if (pair.value === null || pair.value === undefined) {
      problems.push(`${at(pair)}: \`${key}\` has no value`);
      continue;
    }
    out.set(key, pair.value as Node);
  }
  return out;
}

/** A string, or a list of strings; null (reported) otherwise. */
function strings(node: Node, name: string, problems: Problems, at: At): { value: string; node: Node }[] | null {
  if (isScalar(node) && typeof node.value === "string") return [{ value: node.value, node }];
  if (isSeq(node) && node.items.length > 0 && node.items.every((n) => isScalar(n) && typeof n.value === "string")) {
    return (node.items as Node[]).map((n) => ({ value: (n as { value: string }).value, node: n }));
  }
  problems.push(`${at(node)}: \`${name}\` must be a string or a non-empty list of strings`);
  return null;
}

function policy(node: Node, problems: Problems, at: At, name: string): Policy | null {
  const value = isScalar(node) ? node.value : null;
  if (typeof value !== "string" || !(POLICIES as readonly string[]).includes(value)) {
    problems.push(`${at(node)}: \`${name}\` must be one of ${POLICIES.join(", ")}`);
    return null;
  }
  return value as Policy;
}

function domainPattern(node: Node, problems: Problems, at: At): DomainPattern | null {
  const list = strings(node, "domain", problems, at);
  if (list === null) return null;
  const [first] = list;
  if (list.length !== 1 || first === undefined) {
    problems.push(`${at(node)}: an upstream's \`domain\` is a single host`);
    return null;
  }
  return hostPattern(first.value, first.node, problems, at);
}

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

function hostPattern(raw: string, node: Node, problems: Problems, at: At): DomainPattern | null {
  let host = raw.trim().toLowerCase();
  if (host.endsWith(".")) host = host.slice(0, -1);
  const wildcard = host.startsWith("*.");
  const name = wildcard ? host.slice(2) : host;
  if (name.length === 0 || name.length > 253 || !name.split(".").every((l) => LABEL.test(l))) {
    problems.push(`${at(node)}: domain \`${raw.slice(0, 80)}\` is not a host name or \`*.\` pattern (no ports, schemes or {placeholders})`);
    return null;
  }
  return wildcard ? { suffix: `.${name}` } : { exact: name };
}

function upstreamUrl(node: Node, problems: Problems, at: At): URL | null {
  const value = isScalar(node) ? node.value : null;
  let url: URL | null;
  try {
    url = typeof value === "string" ? new URL(value) : null;
  } catch {
    url = null;
  }
  if (url === null || (url.protocol !== "http:" && url.protocol !== "https:") || url.search !== "" || url.hash !== "") {
    problems.push(`${at(node)}: upstream \`url\` must be an http(s) URL without query or fragment`);
    return null;
  }
  return url;
}

function namedNetworks(node: Node | undefined, problems: Problems, at: At): Map<string, string[]> {
  const named = new Map<string, string[]>();
  if (node === undefined) return named;
  if (!isSeq(node)) {
    problems.push(`${at(node)}: \`networks\` must be a list of {name, networks}`);
    return named;
  }
  for (const item of node.items as Node[]) {
    if (!isMap(item)) {
      problems.push(`${at(item)}: a named network needs \`name\` and \`networks\``);
      continue;
    }
    const e = entries(item, ["name", "networks"], problems, at);
    const name = e.get("name");
    const nets = e.get("networks");
    const list = nets === undefined ? null : strings(nets, "networks", problems, at);
    if (!isScalar(name) || typeof name.value !== "string" || list === null) {
      problems.push(`${at(item)}: a named network needs a string \`name\` and \`networks\``);
      continue;
    }
    const cidrs: string[] = [];
    for (const n of list) {
      const problem = networkProblem(n.value.trim());
      if (problem) problems.push(`${at(n.node)}: network \`${n.value.slice(0, 60)}\` ${problem}`);
      else cidrs.push(n.value.trim());
    }
    named.set(name.value, cidrs);
  }
  return named;
}

function compileResource(source: string, node: Node, problems: Problems, at: At): ResourcePattern | null {
  if (source.length > MAX_REGEX) {
    problems.push(`${at(node)}: resource pattern longer than ${MAX_REGEX} characters`);
    return null;
  }
  // RE2 semantics on a linear-time engine (docs/adr/0007): no request can make a rule backtrack.
  const compiled = compileLinearPattern(source);
  if (!compiled.ok) {
    problems.push(`${at(node)}: resource \`${source.slice(0, 80)}\` ${compiled.problem}`);
    return null;
  }
  return compiled.pattern;
}

function subject(raw: string, node: Node, problems: Problems, at: At): Subject | null {
  const value = raw.trim();
  if (value.startsWith("user:") && value.length > 5) return { kind: "user", username: value.slice(5).trim().toLowerCase() };
  if (value.startsWith("group:") && (ROLES as readonly string[]).includes(value.slice(6).trim())) return { kind: "group", role: value.slice(6).trim() as Role };
  problems.push(`${at(node)}: subject must be \`user:<name>\` or \`group:<role>\` with a role of ${ROLES.join(", ")}`);
  return null;
}

function parseRule(node: Node, index: number, named: Map<string, string[]>, problems: Problems, at: At): AccessRule | null {
  const where = `rule ${index} (${at(node)})`;
  if (!isMap(node)) {
    problems.push(`${where}: a rule must be a mapping`);
    return null;
  }
  const before = problems.length;
  const e = entries(node, RULE_KEYS, problems, at);
  const domainNode = e.get("domain");
  const policyNode = e.get("policy");
  if (domainNode === undefined) problems.push(`${where}: \`domain\` is required`);
  if (policyNode === undefined) problems.push(`${where}: \`policy\` is required`);
  const domains = (domainNode && strings(domainNode, "domain", problems, at)) ?? [];
  const domainPatterns = domains.map((d) => hostPattern(d.value, d.node, problems, at)).filter((d): d is DomainPattern => d !== null);

  const resNode = e.get("resources");
  const resources = resNode === undefined ? null : (strings(resNode, "resources", problems, at) ?? []).map((r) => compileResource(r.value, r.node, problems, at));

  const methodNode = e.get("methods");
  const methods = methodNode === undefined ? null : (strings(methodNode, "methods", problems, at) ?? []).map((m) => m.value.trim().toUpperCase());
  if (methods?.some((m) => !/^[A-Z]{1,20}$/.test(m))) problems.push(`${at(methodNode)}: methods must be HTTP method names`);

  const netNode = e.get("networks");
  let cidrs: string[] | null = null;
  if (netNode !== undefined) {
    cidrs = [];
    for (const n of strings(netNode, "networks", problems, at) ?? []) {
      const value = n.value.trim();
      const group = named.get(value);
      if (group) cidrs.push(...group);
      else if (networkProblem(value) === null) cidrs.push(value);
      else problems.push(`${at(n.node)}: network \`${value.slice(0, 60)}\` is neither a CIDR nor a named network`);
    }
  }

  const subjectNode = e.get("subject");
  let subjects: (Subject | null)[] | null = null;
  if (subjectNode !== undefined) {
    if (isSeq(subjectNode) && subjectNode.items.some((i) => isSeq(i))) problems.push(`${at(subjectNode)}: nested subject lists (all-of) are not supported; list alternatives only`);
    else subjects = (strings(subjectNode, "subject", problems, at) ?? []).map((s) => subject(s.value, s.node, problems, at));
  }
  const pol = policyNode === undefined ? null : policy(policyNode, problems, at, "policy");
  const limitNode = e.get("body_limit");
  const maxBodyBytes = limitNode === undefined ? null : byteSize(limitNode, problems, at);
  const rateNode = e.get("rate_limit");
  const limits = rateNode === undefined ? null : rateLimits(rateNode, problems, at);
  if (pol === "deny" && rateNode !== undefined) problems.push(`${where}: a \`deny\` rule lets nothing through, so its \`rate_limit\` would never count`);
  const uploadsNode = e.get("uploads");
  const uploads = uploadsNode === undefined ? null : uploadRule(uploadsNode, problems, at);
  if (pol === "bypass" && subjectNode !== undefined) problems.push(`${where}: a \`bypass\` rule cannot have a \`subject\` (it applies before anyone signs in)`);
  if (problems.length > before || pol === null) return null;
  return {
    domains: domainPatterns,
    resources: resources as ResourcePattern[] | null,
    methods: methods === null ? null : new Set(methods),
    networks: cidrs === null ? null : createNetworkSet(cidrs),
    subjects: subjects as Subject[] | null,
    policy: pol,
    ...(maxBodyBytes === null ? {} : { maxBodyBytes }),
    ...(limits === null ? {} : { rateLimits: limits, id: ruleId(index, node) }),
    ...(uploads === null ? {} : { uploads }),
    origin: where,
  };
}
