/** Library mode: the upload guard's checks for in-process apps (docs/uploads.md). */
export { checkUpload, type CheckUploadOptions, type UploadAccepted, type UploadCheckRule, type UploadRefused } from "./check-upload.js";
export { sanitizeFilename } from "../../core/uploads/sanitize-filename.js";
export type { FileScanner, ScanVerdict } from "../../core/uploads/file-scanner.js";
export { ScannerUnavailableError } from "../../core/uploads/file-scanner.js";
