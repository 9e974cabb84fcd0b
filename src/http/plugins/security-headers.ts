import type { IncomingMessage, ServerResponse } from "node:http";
import helmet, { type HelmetOptions } from "helmet";

type CspDirectives = Record<string, string[]>;

/** The CSP of JSON, static and error responses. */
const DEFAULT_CSP: CspDirectives = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", "data:"],
  fontSrc: ["'self'"],
  connectSrc: ["'self'"],
  objectSrc: ["'none'"],
  baseUri: ["'none'"],
  frameAncestors: ["'none'"],
  formAction: ["'self'"],
};

/** Stands in for the per-response nonce in the precomputed page CSP. */
const NONCE_SLOT = "__gatehouse_nonce__";
/** Stands in for the origins a sign-in may return to (after `'self'` in `form-action`). */
const FORM_SLOT = "__gatehouse_form_targets__";
/** Stands in for the base path ("" or "/.gatehouse") of the report endpoint. */
const BASE_SLOT = "/__gatehouse_base__";

/** Where browsers POST CSP violation reports (relative to the base path). */
export const CSP_REPORT_PATH = "/api/csp-report";

/**
 * The stricter CSP of HTML pages (HDR-02): nothing by default, scripts only
 * with this response's nonce (the one `<script src>` of the layout carries
 * it; there is no inline code), styles only from Gatehouse's own `/assets/`,
 * forms only to itself and to the origins a sign-in may return to (the
 * protected hosts, see docs/adr/0006-form-action-lists-protected-origins.md),
 * never framed, violations reported.
 */
const HTML_CSP: CspDirectives = {
  defaultSrc: ["'none'"],
  scriptSrc: [`'nonce-${NONCE_SLOT}'`],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", "data:"],
  connectSrc: ["'self'"],
  objectSrc: ["'none'"],
  formAction: ["'self'", FORM_SLOT],
  frameAncestors: ["'none'"],
  baseUri: ["'none'"],
  reportUri: [`${BASE_SLOT}${CSP_REPORT_PATH}`],
  reportTo: ["csp"],
};

/** The helmet configuration of Gatehouse (HDR-01 to HDR-05). */
export function helmetOptions(secure: boolean, csp: CspDirectives = DEFAULT_CSP): HelmetOptions {
  return {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: csp,
    },
    strictTransportSecurity: secure ? { maxAge: 63_072_000, includeSubDomains: true, preload: false } : false,
    xFrameOptions: { action: "deny" },
    referrerPolicy: { policy: "strict-origin-when-cross-origin" },
    crossOriginOpenerPolicy: { policy: "same-origin" },
    crossOriginResourcePolicy: { policy: "same-origin" },
    crossOriginEmbedderPolicy: false,
    xDnsPrefetchControl: { allow: false },
    xPermittedCrossDomainPolicies: { permittedPolicies: "none" },
  };
}

/**
 * Runs helmet once against a recording response and returns the headers it
 * sets. The set is static (no per-response nonce on JSON routes), so
 * computing it once saves rebuilding helmet on every request, which is what
 * `@fastify/helmet` does (see docs/adr/0004-helmet-headers-computed-once.md).
 */
export function computeSecurityHeaders(secure: boolean, csp: CspDirectives = DEFAULT_CSP): Record<string, string> {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader: (name: string, value: unknown) => {
      headers[name] = String(value);
    },
    removeHeader: (name: string) => {
      delete headers[name];
    },
  };
  let error: unknown = null;
  helmet(helmetOptions(secure, csp))({} as IncomingMessage, recorder as unknown as ServerResponse, (err?: unknown) => {
    error = err ?? null;
  });
  if (error !== null) throw error instanceof Error ? error : new Error("helmet refused its options", { cause: error });
  headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), browsing-topics=()";
  return headers;
}

/**
 * The headers of HTML pages: the same hardening headers with the page CSP
 * ({@link HTML_CSP}) and `Cache-Control: no-store`. Computed once; per
 * response only the nonce, the base path and the sign-in return origins
 * are spliced into the CSP.
 */
export interface HtmlSecurityHeaders {
  /** Every header but the CSP (static). */
  readonly fixed: Readonly<Record<string, string>>;
  /** The CSP and reporting headers of one response. */
  forResponse(nonce: string, basePath: string): Record<string, string>;
}

/** Where a sign-in may return to, besides the page's own origin (the access gate's `returnTargetSources()`). */
export interface FormTargets {
  /** The portal's origin: listed on pages served on a proxied app host (on the portal it is `'self'`). */
  portal: string;
  /** The protected hosts' CSP sources. */
  hosts: readonly string[];
}

const NO_FORM_TARGETS: FormTargets = Object.freeze({ portal: "", hosts: Object.freeze([]) });

/**
 * Builds {@link HtmlSecurityHeaders} for a deployment (https or not).
 * `formTargets` gives the CSP sources a sign-in may return to besides
 * `'self'`; it is read per response and joined again only when it returns
 * a new object (a rules reload). `providerSources` are listed after them on
 * every page: the identity providers' sign-in origins, where a provider
 * button's form is redirected (fixed until a restart).
 */
export function computeHtmlSecurityHeaders(
  secure: boolean,
  formTargets: () => FormTargets = () => NO_FORM_TARGETS,
  providerSources: readonly string[] = [],
): HtmlSecurityHeaders {
  const all: Record<string, string> = { ...computeSecurityHeaders(secure, HTML_CSP), "Cache-Control": "no-store" };
  const csp = all["Content-Security-Policy"] ?? "";
  delete all["Content-Security-Policy"];
  const [head = "", rest = ""] = csp.split(NONCE_SLOT);
  const [beforeForm = "", afterForm = ""] = rest.split(` ${FORM_SLOT}`);
  const [middle = "", tail = ""] = afterForm.split(BASE_SLOT);
  let joined: { of: FormTargets; onPortal: string; onApp: string } | null = null;
  const formText = (onPortal: boolean): string => {
    const of = formTargets();
    if (joined === null || joined.of !== of) {
      const hosts = [...of.hosts, ...providerSources].map((s) => ` ${s}`).join("");
      joined = { of, onPortal: hosts, onApp: of.portal === "" ? hosts : ` ${of.portal}${hosts}` };
    }
    return onPortal ? joined.onPortal : joined.onApp;
  };
  const fixed = Object.freeze(all);
  return {
    fixed,
    forResponse: (nonce, basePath) => ({
      "Content-Security-Policy": head + nonce + beforeForm + formText(basePath === "") + middle + basePath + tail,
      "Reporting-Endpoints": `csp="${basePath}${CSP_REPORT_PATH}"`,
    }),
  };
}

declare module "fastify" {
  interface FastifyInstance {
    /** The headers an HTML page response sets over the default set (see `src/web/README.md`). */
    htmlSecurityHeaders: HtmlSecurityHeaders;
  }
}

/**
 * Helmet headers that only matter to documents in old or specific browsers
 * (IE's download and XSS filters, Flash/PDF cross-domain policies, DNS
 * prefetching, origin-keyed agent clusters). HTML pages keep them; JSON,
 * static and error answers go without them, since every header is written
 * and checked on every response (docs/performance.md). HDR-03's set
 * (X-Frame-Options, COOP, CORP, Permissions-Policy, nosniff) and the CSP,
 * Referrer-Policy and HSTS stay on every response.
 */
const DOCUMENT_ONLY_HEADERS = ["Origin-Agent-Cluster", "X-DNS-Prefetch-Control", "X-Download-Options", "X-Permitted-Cross-Domain-Policies", "X-XSS-Protection"];

/** The headers of every non-HTML response: {@link computeSecurityHeaders} without the document-only ones. */
export function computeApiSecurityHeaders(secure: boolean): Record<string, string> {
  const headers = computeSecurityHeaders(secure);
  for (const name of DOCUMENT_ONLY_HEADERS) delete headers[name];
  return headers;
}
