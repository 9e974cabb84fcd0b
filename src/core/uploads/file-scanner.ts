import type { Readable } from "node:stream";

/** What a scanner says about one file. */
export type ScanVerdict = { clean: true } | { clean: false; signature: string };

/**
 * The virus-scanning port (ClamAV's clamd in `src/uploads/clamd-scanner.ts`).
 * `scan` reads the whole stream; when the scanner cannot answer (down, timed
 * out, a reply it cannot parse, its own size limit) it rejects with a
 * {@link ScannerUnavailableError}, never a verdict.
 */
export interface FileScanner {
  scan(file: Readable | Uint8Array): Promise<ScanVerdict>;
}

/** The typed failure of a {@link FileScanner}: no verdict could be had. */
export class ScannerUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ScannerUnavailableError";
  }
}
