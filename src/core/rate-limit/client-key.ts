import { isIP } from "node:net";

/** The default IPv6 prefix a client is keyed by: one /64, the smallest block a home or VPS usually gets. */
export const DEFAULT_IPV6_PREFIX_LENGTH = 64;

/** The range `IPV6_PREFIX_LENGTH` accepts. */
export const IPV6_PREFIX_RANGE = { min: 32, max: 128 } as const;

/**
 * Turns a client IP into the key of its per-client limits, regulation and
 * bans. The one place that decides "who is one client":
 *
 * - IPv4: the address (`203.0.113.7`);
 * - IPv4-mapped IPv6 (`::ffff:203.0.113.7`, as a dual-stack socket reports
 *   IPv4 peers): the IPv4 address, so both spellings share one budget;
 * - IPv6: its network of `prefixLength` bits in canonical form
 *   (`2001:db8:1:2::/64`), since a host usually owns a whole /64 and can
 *   rotate through it at will; with a prefix length of 128, the canonical
 *   address alone.
 *
 * A zone (`fe80::1%eth0`) is dropped. Anything that is not an IP address is
 * returned unchanged (it can only come from a test or a misconfigured proxy,
 * and must not collide with a real client's key).
 */
export type ClientKey = (ip: string) => string;

/** Creates the {@link ClientKey} function for a prefix length within {@link IPV6_PREFIX_RANGE}. */
export function createClientKey(prefixLength: number = DEFAULT_IPV6_PREFIX_LENGTH): ClientKey {
  if (!Number.isInteger(prefixLength) || prefixLength < IPV6_PREFIX_RANGE.min || prefixLength > IPV6_PREFIX_RANGE.max) {
    throw new RangeError(`IPv6 prefix length must be an integer from ${IPV6_PREFIX_RANGE.min} to ${IPV6_PREFIX_RANGE.max}`);
  }
  return (ip) => {
    // The common case first: a plain IPv4 address has no colon.
    if (!ip.includes(":")) return ip;
    const words = parseIpv6(ip);
    if (words === null) return ip;
    const v4 = mappedIpv4(words);
    if (v4 !== null) return v4;
    if (prefixLength === 128) return formatIpv6(words);
    return `${formatIpv6(maskIpv6(words, prefixLength))}/${prefixLength}`;
  };
}

/**
 * The ban key an admin's input names, for lifting a ban: an address (of any
 * client inside a banned network) or the network as listed
 * (`2001:db8:1:2::/64`, any spelling). Returns every key the input may stand
 * for, most specific last; the input itself is among them, so a ban recorded
 * under an older prefix length can still be lifted by its listed name.
 */
export function banKeysFor(input: string, clientKey: ClientKey): string[] {
  const keys = new Set<string>([input]);
  const [address = "", prefix, extra] = input.trim().split("/");
  if (extra === undefined && isIP(address.split("%")[0] ?? "") !== 0) {
    keys.add(clientKey(address));
    const words = address.includes(":") ? parseIpv6(address) : null;
    if (words !== null && prefix !== undefined && /^\d{1,3}$/.test(prefix) && Number(prefix) <= 128) {
      const length = Number(prefix);
      keys.add(length === 128 ? formatIpv6(words) : `${formatIpv6(maskIpv6(words, length))}/${length}`);
    }
  }
  return [...keys];
}

/** The eight 16-bit words of an IPv6 address, or null when `text` is not one. */
export function parseIpv6(text: string): number[] | null {
  const ip = text.split("%")[0] ?? "";
  if (isIP(ip) !== 6) return null;
  let head = ip;
  const tail: number[] = [];
  // A trailing dotted quad (`::ffff:1.2.3.4`, `64:ff9b::1.2.3.4`) is two words.
  const lastColon = ip.lastIndexOf(":");
  const last = ip.slice(lastColon + 1);
  if (last.includes(".")) {
    const [a = 0, b = 0, c = 0, d = 0] = last.split(".").map(Number);
    tail.push((a << 8) | b, (c << 8) | d);
    head = ip.slice(0, lastColon + 1);
    if (head.endsWith(":") && !head.endsWith("::")) head = head.slice(0, -1);
  }
  const hex = (part: string) => (part === "" ? [] : part.split(":").map((w) => parseInt(w, 16)));
  const gap = head.indexOf("::");
  let words: number[];
  if (gap === -1) {
    words = [...hex(head), ...tail];
  } else {
    const left = hex(head.slice(0, gap));
    const right = [...hex(head.slice(gap + 2)), ...tail];
    words = [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
  }
  return words.length === 8 && words.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffff) ? words : null;
}

/** `::ffff:a.b.c.d` (IPv4-mapped) as `a.b.c.d`, else null. */
function mappedIpv4(words: number[]): string | null {
  if (words[5] !== 0xffff || words.slice(0, 5).some((w) => w !== 0)) return null;
  const [hi = 0, lo = 0] = words.slice(6);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** The network of `words` with `length` leading bits kept. */
function maskIpv6(words: number[], length: number): number[] {
  return words.map((w, i) => {
    const keep = Math.max(0, Math.min(16, length - i * 16));
    return keep === 16 ? w : keep === 0 ? 0 : w & ((0xffff << (16 - keep)) & 0xffff);
  });
}

/** RFC 5952 text: lowercase, no leading zeros, the longest run (≥ 2) of zero words as `::`. */
function formatIpv6(words: number[]): string {
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const text = (ws: number[]) => ws.map((w) => w.toString(16)).join(":");
  if (bestStart === -1) return text(words);
  return `${text(words.slice(0, bestStart))}::${text(words.slice(bestStart + bestLength))}`;
}
