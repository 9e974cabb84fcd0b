import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from "node:dns";
import type { LookupFunction } from "node:net";
import { rootCertificates } from "node:tls";
import { Agent, fetch } from "undici";
import { ProviderError } from "../core/oauth/identity-provider.js";
import { isAllowedAddress } from "./outbound-address.js";
import { checkOutboundUrl } from "./outbound-url.js";

/** The request options of an outbound IdP call (a subset of fetch's, as openid-client's `customFetch` passes them). */
export interface OutboundInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string | URLSearchParams | Uint8Array | ArrayBuffer | ReadableStream | null;
  signal?: AbortSignal;
  redirect?: "manual";
  duplex?: "half";
}

/** A fetch for identity-provider calls; compatible with openid-client's `customFetch`. Fails with {@link ProviderError} `unavailable`. */
export type OutboundFetch = (url: string, init: OutboundInit) => Promise<Response>;

/** Options of {@link createOutboundFetch}. */
export interface OutboundFetchOptions {
  /** Extra PEM certificate authority (a private CA) trusted besides the system roots. */
  caPem?: string | null;
  /** Allow loopback and private addresses (an IdP on the LAN); link-local and metadata addresses stay refused. */
  privateNetwork: boolean;
  /** Whole-call deadline, connection to last body byte (default 10 s). */
  timeoutMs?: number;
  /** Largest response body read (default 1 MiB). */
  maxBytes?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_BYTES = 1024 * 1024;

/** A DNS lookup that refuses the whole name when any address it resolves to is not allowed (no DNS-rebinding bypass). */
function guardedLookup(privateNetwork: boolean): LookupFunction {
  return (hostname: string, options: LookupOptions, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, "", 0);
      if (addresses.length === 0 || addresses.some((a) => !isAllowedAddress(a.address, privateNetwork))) {
        return callback(new ProviderError("unavailable", "outbound call refused: the host resolves to an address that is not allowed"), "", 0);
      }
      if (options.all) return callback(null, addresses);
      const first = addresses[0]!;
      callback(null, first.address, first.family);
    });
  };
}

/** The first {@link ProviderError} in an error's cause chain, if any. */
function providerErrorIn(err: unknown): ProviderError | null {
  for (let e = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (e instanceof ProviderError) return e;
  }
  return null;
}

/** Reads at most `maxBytes` of a body; more is a failure (the rest is not read). */
async function readCapped(body: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<Uint8Array> {
  if (!body) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new ProviderError("unavailable", "outbound call refused: response body too large");
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/**
 * Creates the fetch every outbound identity-provider call goes through (discovery,
 * JWKS, token, user info, GitHub's API): `https:` only, certificate validation
 * always on (system roots plus `caPem` when given), redirects never followed (a
 * 3xx answer fails), addresses checked before connecting (IP literals) and at
 * DNS resolution (host names), a deadline on the whole call, and a capped body.
 * Any failure is a {@link ProviderError} `unavailable` whose message holds no
 * URL query, token, secret or body text.
 */
export function createOutboundFetch(options: OutboundFetchOptions): OutboundFetch {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const agent = new Agent({
    connect: {
      ...(options.caPem ? { ca: [...rootCertificates, options.caPem] } : {}),
      rejectUnauthorized: true,
      lookup: guardedLookup(options.privateNetwork),
      timeout: timeoutMs,
    },
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });

  return async (rawUrl, init) => {
    const url = checkOutboundUrl(rawUrl, options.privateNetwork);
    const deadline = AbortSignal.timeout(timeoutMs);
    const signal = init.signal ? AbortSignal.any([deadline, init.signal]) : deadline;
    try {
      const res = await fetch(url, {
        method: init.method ?? "GET",
        headers: init.headers,
        body: init.body ?? null,
        ...(init.duplex ? { duplex: init.duplex } : {}),
        redirect: "manual",
        signal,
        dispatcher: agent,
      });
      if (res.status >= 300 && res.status < 400) {
        await res.body?.cancel().catch(() => undefined);
        throw new ProviderError("unavailable", `outbound call refused: the provider answered a redirect (${res.status})`);
      }
      const declared = Number(res.headers.get("content-length") ?? "0");
      if (declared > maxBytes) {
        await res.body?.cancel().catch(() => undefined);
        throw new ProviderError("unavailable", "outbound call refused: response body too large");
      }
      const body = await readCapped(res.body as ReadableStream<Uint8Array> | null, maxBytes);
      const headers = new Headers([...res.headers].filter(([name]) => name !== "content-encoding" && name !== "content-length"));
      const nullBody = res.status === 204 || res.status === 205 || res.status === 304;
      return new Response(nullBody ? null : body, { status: res.status, statusText: res.statusText, headers });
    } catch (err) {
      const known = providerErrorIn(err);
      if (known) throw known;
      if (signal.aborted) {
        throw new ProviderError("unavailable", deadline.aborted ? "outbound call timed out" : "outbound call aborted", { cause: err });
      }
      throw new ProviderError("unavailable", "outbound call failed (network or TLS)", { cause: err });
    }
  };
}
