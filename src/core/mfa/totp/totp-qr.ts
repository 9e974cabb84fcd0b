// `qrcode` (and the PNG encoder it brings, about 10 MB of memory) loads at the first enrolment, not at start-up (docs/performance.md).
let qrcodeLib: Promise<typeof import("qrcode")> | null = null;
const lib = () => (qrcodeLib ??= import("qrcode"));

/**
 * The QR code of an `otpauth://` URL as SVG markup, rendered on the server (no
 * script, no third party sees the secret). Presentation attributes only: any
 * `style` attribute is removed so the markup passes a strict CSP inline.
 */
export async function totpQrSvg(url: string): Promise<string> {
  const QRCode = await lib();
  const svg = await QRCode.toString(url, { type: "svg", errorCorrectionLevel: "M", margin: 4, width: 224 });
  return svg.replace(/\s+style="[^"]*"/g, "").trim();
}
