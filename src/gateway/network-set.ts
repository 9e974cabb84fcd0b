import { BlockList, isIP } from "node:net";
import type { NetworkSet } from "../core/gateway/access-rules.js";

/** `::ffff:10.0.0.1` → `10.0.0.1`, so an IPv4 client on a dual-stack socket matches IPv4 networks. */
function unmapped(ip: string): string {
  return ip.toLowerCase().startsWith("::ffff:") && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
}

/** Why a network entry is not an IP address or CIDR, or null when it is. */
export function networkProblem(entry: string): string | null {
  const [address, prefix, extra] = entry.split("/");
  if (extra !== undefined || address === undefined) return "is not an IP address or CIDR";
  const family = isIP(address);
  if (family === 0) return "is not an IP address or CIDR";
  if (prefix !== undefined && (!/^\d{1,3}$/.test(prefix) || Number(prefix) > (family === 4 ? 32 : 128))) return "has an invalid prefix length";
  return null;
}

/** A {@link NetworkSet} over IPv4 and IPv6 CIDRs (node's `net.BlockList`); entries must pass {@link networkProblem}. */
export function createNetworkSet(entries: readonly string[]): NetworkSet {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = "", prefix] = entry.split("/");
    const type = isIP(address) === 4 ? "ipv4" : "ipv6";
    if (prefix === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(prefix), type);
  }
  return {
    contains(ip: string): boolean {
      const plain = unmapped(ip);
      const family = isIP(plain);
      return family !== 0 && list.check(plain, family === 4 ? "ipv4" : "ipv6");
    },
  };
}

/** Longest textual IP address (IPv4-mapped IPv6 with a zone-free form): anything longer is not an address. */
const MAX_IP_TEXT = 45;

/**
 * Membership in `entries` for peer addresses, remembered per address: the
 * peers asking are a handful of proxies, and the answer is needed several
 * times per request (client IP resolution, forward-auth). At most 1,024
 * answers are kept (a flood of made-up `X-Forwarded-For` entries only
 * empties the memo); a string too long to be an address is never kept.
 */
export function createTrustedPeers(entries: readonly string[]): (ip: string) => boolean {
  const set = createNetworkSet(entries);
  const known = new Map<string, boolean>();
  return (ip) => {
    let trusted = known.get(ip);
    if (trusted === undefined) {
      trusted = set.contains(ip);
      if (ip.length <= MAX_IP_TEXT) {
        if (known.size >= 1024) known.clear();
        known.set(ip, trusted);
      }
    }
    return trusted;
  };
}
