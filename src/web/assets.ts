import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/** One static file served from `/assets/<name>`. */
export interface Asset {
  name: string;
  body: Buffer;
  contentType: string;
  /** Short content hash: the `?v=` of versioned URLs and the ETag. */
  version: string;
}

const TYPES: Record<string, string> = {
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".svg": "image/svg+xml",
};

const DIR = new URL("./assets/", import.meta.url);

/** Third-party browser bundles served from our own origin (strict CSP: no CDN): asset name → file inside its package. */
const VENDORED: ReadonlyArray<{ name: string; pkg: string; file: string }> = [
  // Exposes `SimpleWebAuthnBrowser` (startRegistration, startAuthentication) for passkeys.js.
  { name: "simplewebauthn-browser.js", pkg: "@simplewebauthn/browser", file: "dist/bundle/index.umd.min.js" },
];

function entry(name: string, body: Buffer, contentType: string): Asset {
  return { name, body, contentType, version: createHash("sha256").update(body).digest("base64url").slice(0, 12) };
}

function load(): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  const require = createRequire(import.meta.url);
  for (const v of VENDORED) {
    // The package's main file is `<root>/script/index.js`: the bundle sits beside it under dist/.
    const root = dirname(dirname(require.resolve(v.pkg)));
    assets.set(v.name, entry(v.name, readFileSync(join(root, v.file)), TYPES[".js"]!));
  }
  for (const name of readdirSync(DIR)) {
    const ext = name.slice(name.lastIndexOf("."));
    const contentType = TYPES[ext];
    if (contentType === undefined || !/^[a-z0-9-]+\.[a-z]+$/.test(name)) continue;
    const body = readFileSync(new URL(name, DIR));
    assets.set(name, entry(name, body, contentType));
  }
  return assets;
}

/** Every file of `src/web/assets/` (`.css`, `.js`, `.svg`) and the vendored bundles, read once at start-up. */
export const ASSETS: ReadonlyMap<string, Asset> = load();

/**
 * The versioned path of an asset, `/assets/<name>?v=<hash>`, cached for a
 * year by browsers (a changed file gets a new URL). Prefix it with the base path.
 */
export function assetPath(name: string): string {
  const asset = ASSETS.get(name);
  if (asset === undefined) throw new Error(`unknown asset ${name}`);
  return `/assets/${name}?v=${asset.version}`;
}
