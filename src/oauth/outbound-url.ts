import { isIP } from "node:net";
import { ProviderError } from "../core/oauth/identity-provider.js";
import { isAllowedAddress } from "./outbound-address.js";

/** The host exactly as written in a URL string (before WHATWG normalisation), lower-cased. */
const RAW_HOST = /^[a-z][a-z0-9+.-]*:[/\\]{2}(?:[^@/?#\\]*@)?(\[[^\]]*\]|[^/?#:\\]*)/i;

/**
 * Checks a URL for an outbound IdP call before any connection: `https:` only,
 * no credentials in it, no numeric IPv4 spelling other than dotted decimal
 * (`2130706433`, `0x7f000001`, `017700000001`, `127.1` are refused outright,
 * whatever they normalise to), and an IP-literal host must pass
 * {@link isAllowedAddress}. Host names are checked later, when resolved.
 * Throws {@link ProviderError} `unavailable`; the message names no URL.
 */
export function checkOutboundUrl(raw: string, privateNetwork: boolean): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch (cause) {
    throw new ProviderError("unavailable", "outbound call refused: not a URL", { cause });
  }
  if (url.protocol !== "https:") throw new ProviderError("unavailable", "outbound call refused: only https is allowed");
  if (url.username !== "" || url.password !== "") throw new ProviderError("unavailable", "outbound call refused: credentials in the URL");
  const host = url.hostname;
  if (isIP(host) === 4) {
    const written = RAW_HOST.exec(raw)?.[1]?.toLowerCase();
    if (written !== host) throw new ProviderError("unavailable", "outbound call refused: numeric IPv4 host spelling");
  }
  const literal = host.startsWith("[") ? host.slice(1, -1) : host;
  if (isIP(literal) !== 0 && !isAllowedAddress(literal, privateNetwork)) {
    throw new ProviderError("unavailable", "outbound call refused: address not allowed");
  }
  return url;
}
