/** Where a sentinel listens. */
export interface SentinelAddress {
  host: string;
  port: number;
}

/** A `redis-sentinel://` REDIS_URL, read: the sentinels to ask, the primary's name, and the credentials. */
export interface SentinelTarget {
  sentinels: SentinelAddress[];
  /** The name the sentinels monitor the primary under (`mymaster`). */
  name: string;
  /** Credentials for the primary (from the URL's user info). */
  username?: string;
  password?: string;
  /** Credentials for the sentinels themselves (`sentinelUsername`, `sentinelPassword` query parameters). */
  sentinelUsername?: string;
  sentinelPassword?: string;
  db: number;
}

const SENTINEL_SCHEME = "redis-sentinel://";
const DEFAULT_SENTINEL_PORT = 26379;
const SENTINEL_URL = /^redis-sentinel:\/\/(?:([^@/]*)@)?([^/?#@]+)\/([^/?#]+)\/?(?:\?([^#]*))?$/;
const KNOWN_PARAMS = new Set(["db", "sentinelUsername", "sentinelPassword"]);

/** True for the sentinel form of REDIS_URL. */
export const isSentinelUrl = (url: string): boolean => url.startsWith(SENTINEL_SCHEME);

function decode(part: string, what: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new Error(`REDIS_URL: the ${what} is not valid percent-encoding`);
  }
}

function parseAddress(raw: string): SentinelAddress {
  // host, host:port, [v6], [v6]:port
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(raw.trim());
  const port = m?.[2] === undefined ? DEFAULT_SENTINEL_PORT : Number(m[2]);
  if (!m || port < 1 || port > 65535) throw new Error(`REDIS_URL: "${raw}" is not a sentinel address (host or host:port)`);
  return { host: m[1]!.replace(/^\[|\]$/g, ""), port };
}

/**
 * Reads `redis-sentinel://[[user]:password@]host[:port][,host[:port]…]/name[?db=0&sentinelPassword=…]`:
 * one or more sentinels (port 26379 by default), the name of the primary they
 * watch, credentials for the primary in the user info, and the sentinels' own
 * credentials (if they need any) as query parameters. Throws on anything else.
 */
export function parseSentinelUrl(url: string): SentinelTarget {
  const m = SENTINEL_URL.exec(url.trim());
  if (!m) throw new Error("REDIS_URL: a sentinel URL is redis-sentinel://[[user]:password@]host[:port][,host[:port]…]/<primary name>");
  const [, userInfo, hosts, rawName, query] = m;
  const target: SentinelTarget = { sentinels: hosts!.split(",").map(parseAddress), name: decode(rawName!, "primary name"), db: 0 };
  if (userInfo !== undefined) {
    const colon = userInfo.indexOf(":");
    const user = decode(colon < 0 ? userInfo : userInfo.slice(0, colon), "user name");
    if (user) target.username = user;
    if (colon >= 0) target.password = decode(userInfo.slice(colon + 1), "password");
  }
  for (const [key, value] of new URLSearchParams(query ?? "")) {
    if (!KNOWN_PARAMS.has(key)) throw new Error(`REDIS_URL: unknown parameter "${key}" (db, sentinelUsername or sentinelPassword)`);
    if (key === "db") {
      if (!/^\d{1,2}$/.test(value)) throw new Error("REDIS_URL: db must be a database number");
      target.db = Number(value);
    } else if (key === "sentinelUsername") target.sentinelUsername = value;
    else target.sentinelPassword = value;
  }
  return target;
}

/**
 * The REDIS_URL without credentials, for messages: `redis://host:port`, or
 * `redis-sentinel://host:port,…/name`.
 */
export function describeRedisUrl(url: string): string {
  if (isSentinelUrl(url)) {
    const t = parseSentinelUrl(url);
    return `${SENTINEL_SCHEME}${t.sentinels.map((s) => `${s.host.includes(":") ? `[${s.host}]` : s.host}:${s.port}`).join(",")}/${t.name}`;
  }
  const u = new URL(url);
  return `${u.protocol}//${u.host}`;
}

/** The hosts REDIS_URL connects to first: Redis itself, or the sentinels. */
export function redisUrlHosts(url: string): string[] {
  if (isSentinelUrl(url)) return parseSentinelUrl(url).sentinels.map((s) => s.host);
  return [new URL(url).hostname.replace(/^\[|\]$/g, "")];
}
