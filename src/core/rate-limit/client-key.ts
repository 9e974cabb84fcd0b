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
  const keyOf = (ip: string): string => {
    const words = parseIpv6(ip);
    if (words === null) return ip;
    const v4 = mappedIpv4(words);
    if (v4 !== null) return v4;
    if (prefixLength === 128) return formatIpv6(words);
    return `${formatIpv6(maskIpv6(words, prefixLength))}/${prefixLength}`;
  };
  // One request asks up to three times (ban, route limit, regulator), and clients come back: a small memo, emptied
  // when full, so a flood of fresh addresses costs only the parse (about a microsecond) and never memory.
  const memo = new Map<string, string>();
  return (ip) => {
    // The common case first: a plain IPv4 address has no colon; anything longer than an address is none (kept as is).
    if (!ip.includes(":") || ip.length > 45) return ip;
    let key = memo.get(ip);
    if (key === undefined) {
      key = keyOf(ip);
      if (memo.size >= 4096) memo.clear();
      memo.set(ip, key);
    }
    return key;
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

/** The eight 16-bit words of an IPv6 address, or null when `text` is not one (a hand-written parser: `net.isIP` costs microseconds per call). */
export function parseIpv6(text: string): number[] | null {
  const zone = text.indexOf("%");
  const ip = zone === -1 ? text : text.slice(0, zone);
  if (ip.length < 2 || ip.length > 45) return null;
  const tail: number[] = [];
  let head = ip;
  // A trailing dotted quad (`::ffff:1.2.3.4`, `64:ff9b::1.2.3.4`) is two words.
  const lastColon = ip.lastIndexOf(":");
  if (ip.indexOf(".", lastColon) !== -1) {
    const quad = ipv4Words(ip.slice(lastColon + 1));
    if (quad === null) return null;
    tail.push(quad[0], quad[1]);
    head = ip.slice(0, lastColon + 1);
    if (!head.endsWith("::")) head = head.slice(0, -1);
  }
  const gap = head.indexOf("::");
  if (gap !== -1 && head.indexOf("::", gap + 1) !== -1) return null;
  const left = hexWords(gap === -1 ? head : head.slice(0, gap));
  const right = gap === -1 ? [] : hexWords(head.slice(gap + 2));
  if (left === null || right === null) return null;
  const given = left.length + right.length + tail.length;
  if (gap === -1 ? given !== 8 : given > 7) return null;
  return [...left, ...Array<number>(8 - given).fill(0), ...right, ...tail];
}

/** `a:b:c` as words of 1–4 hex digits each ("" is none), or null. */
function hexWords(part: string): number[] | null {
  if (part === "") return [];
  const words: number[] = [];
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= part.length; i++) {
    const c = i === part.length ? 58 : part.charCodeAt(i);
    if (c === 58) {
      if (digits === 0) return null;
      words.push(value);
      value = 0;
      digits = 0;
      continue;
    }
    const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
    if (d < 0 || ++digits > 4) return null;
    value = value * 16 + d;
  }
  return words;
}

/** `a.b.c.d` (decimal, no leading zeros) as two 16-bit words, or null. */
function ipv4Words(text: string): [number, number] | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const bytes: number[] = [];
  for (const p of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(p) || Number(p) > 255) return null;
    bytes.push(Number(p));
  }
  return [(bytes[0]! << 8) | bytes[1]!, (bytes[2]! << 8) | bytes[3]!];
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
