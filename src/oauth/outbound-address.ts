import { isIP } from "node:net";
import { createNetworkSet } from "../gateway/network-set.js";

/** Never reachable from an IdP call: link-local (cloud metadata), unspecified, "this network", multicast, reserved. */
const ALWAYS_REFUSED = createNetworkSet(["169.254.0.0/16", "0.0.0.0/8", "224.0.0.0/4", "240.0.0.0/4", "fe80::/10", "::", "ff00::/8"]);

/** Reachable only for a provider with `privateNetwork` (an IdP on the LAN): loopback and private ranges. */
const PRIVATE = createNetworkSet(["127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "::1", "fc00::/7", "fec0::/10"]);

const MAPPED_V4 = /^::ffff:(?:(\d{1,3}(?:\.\d{1,3}){3})|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/i;

/** The IPv4 address inside an IPv4-mapped IPv6 address (`::ffff:127.0.0.1`, `::ffff:7f00:1`), else null. */
function embeddedIpv4(address: string): string | null {
  const m = MAPPED_V4.exec(address);
  if (!m) return null;
  if (m[1]) return m[1];
  const hi = parseInt(m[2]!, 16);
  const lo = parseInt(m[3]!, 16);
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join(".");
}

/**
 * Whether an outbound IdP call may connect to `address` (an IP literal).
 * Link-local, unspecified, multicast and reserved addresses are always refused;
 * loopback and private ones unless `privateNetwork`. IPv4-mapped IPv6 forms are
 * judged as the IPv4 address they carry; anything that is not an IP is refused.
 */
export function isAllowedAddress(address: string, privateNetwork: boolean): boolean {
  const bare = address.startsWith("[") && address.endsWith("]") ? address.slice(1, -1) : address;
  const v4 = embeddedIpv4(bare);
  if (v4 !== null) return isAllowedAddress(v4, privateNetwork);
  if (isIP(bare) === 0) return false;
  if (ALWAYS_REFUSED.contains(bare)) return false;
  return privateNetwork || !PRIVATE.contains(bare);
}
