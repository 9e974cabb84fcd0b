import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import pino from "pino";
import { loadConfig } from "../../config/load-config.js";
import { apiReferenceMarkdown } from "./api-reference.js";

/** The PUBLIC_URL the checked-in reference is generated with (an https one: the `__Host-` cookie name). */
export const REFERENCE_PUBLIC_URL = "https://gatehouse.example.com";

/**
 * The OpenAPI document of a default Gatehouse (every API route built, a
 * throwaway SQLite data directory and key), as docs/api-reference.md is
 * generated from it.
 */
export async function referenceDocument(): Promise<Parameters<typeof apiReferenceMarkdown>[0]> {
  const dataDir = mkdtempSync(join(tmpdir(), "gatehouse-api-reference-"));
  try {
    const { createGatehouse } = await import("../../compose.js");
    const config = loadConfig({ NODE_ENV: "test", GATEHOUSE_DATA_DIR: dataDir, PUBLIC_URL: REFERENCE_PUBLIC_URL, SECRET_KEY: randomBytes(32).toString("hex") });
    const gh = await createGatehouse({ config, logger: pino({ level: "silent" }) });
    try {
      await gh.app.ready();
      return gh.app.swagger();
    } finally {
      await gh.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Where `npm run gen:api-reference` writes. */
export const API_REFERENCE_FILE = new URL("../../../docs/api-reference.md", import.meta.url);

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  writeFileSync(API_REFERENCE_FILE, apiReferenceMarkdown(await referenceDocument()));
  console.log("wrote docs/api-reference.md");
}
