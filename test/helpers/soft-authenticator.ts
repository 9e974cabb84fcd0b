import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from "node:crypto";

/**
 * A software WebAuthn authenticator for tests: an EC P-256 (ES256) key made
 * with node:crypto, "none" attestation, and assertions signed over
 * authenticatorData ‖ SHA-256(clientDataJSON) as a real authenticator signs
 * them. Every field a relying party checks can be bent to play an attack:
 * the origin, the RP ID, the UV flag, the counter.
 */

type Cbor = number | string | Uint8Array | Map<Cbor, Cbor>;

/** Minimal CBOR (RFC 8949) encoder: integers, byte and text strings, maps: all a COSE key and an attestation object need. */
export function encodeCbor(value: Cbor): Buffer {
  const head = (major: number, n: number): Buffer => {
    if (n < 24) return Buffer.from([(major << 5) | n]);
    if (n < 0x100) return Buffer.from([(major << 5) | 24, n]);
    if (n < 0x10000) return Buffer.from([(major << 5) | 25, n >> 8, n & 0xff]);
    const b = Buffer.alloc(5);
    b[0] = (major << 5) | 26;
    b.writeUInt32BE(n, 1);
    return b;
  };
  if (typeof value === "number") return value >= 0 ? head(0, value) : head(1, -1 - value);
  if (typeof value === "string") {
    const bytes = Buffer.from(value, "utf8");
    return Buffer.concat([head(3, bytes.length), bytes]);
  }
  if (value instanceof Uint8Array) return Buffer.concat([head(2, value.length), Buffer.from(value)]);
  const parts = [head(5, value.size)];
  for (const [k, v] of value) parts.push(encodeCbor(k), encodeCbor(v));
  return Buffer.concat(parts);
}

const sha256 = (data: Buffer | string) => createHash("sha256").update(data).digest();
const b64u = (b: Buffer) => b.toString("base64url");

/** How to bend one ceremony (an attack), or nothing for an honest one. */
export interface CeremonyTweaks {
  /** The origin written in clientDataJSON (default: the authenticator's origin). */
  origin?: string;
  /** The RP ID whose hash goes in authenticatorData (default: the options' rpId, else the authenticator's). */
  rpId?: string;
  /** User verified (the UV flag; default true). */
  uv?: boolean;
  /** User present (the UP flag; default true). */
  up?: boolean;
  /** The sign counter to present (default: the next one). */
  counter?: number;
  /** The challenge to answer (default: the options' challenge). */
  challenge?: string;
  /** clientDataJSON's type (default `webauthn.create` / `webauthn.get`). */
  type?: string;
}

/** The options a relying party hands out, as far as the authenticator reads them. */
export interface CeremonyOptions {
  challenge: string;
  rp?: { id?: string };
  rpId?: string;
  user?: { id: string };
  allowCredentials?: { id: string }[];
}

/** One software authenticator holding one credential. */
export class SoftAuthenticator {
  readonly credentialId: Buffer = randomBytes(16);
  private readonly privateKey: KeyObject;
  private readonly publicKey: KeyObject;
  /** The next counter: 0 keeps no counter (as synced passkeys do). */
  counter: number;
  /** The user handle of the registered account (set at registration). */
  userHandle: string | null = null;

  constructor(
    readonly origin: string,
    readonly rpId: string,
    options: { counter?: number } = {},
  ) {
    const pair = generateKeyPairSync("ec", { namedCurve: "P-256" });
    this.privateKey = pair.privateKey;
    this.publicKey = pair.publicKey;
    this.counter = options.counter ?? 1;
  }

  get id(): string {
    return b64u(this.credentialId);
  }

  /** The credential's public key as a COSE EC2 key (kty 2, alg -7, crv 1). */
  coseKey(): Buffer {
    const jwk = this.publicKey.export({ format: "jwk" });
    return encodeCbor(
      new Map<Cbor, Cbor>([
        [1, 2],
        [3, -7],
        [-1, 1],
        [-2, Buffer.from(jwk.x as string, "base64url")],
        [-3, Buffer.from(jwk.y as string, "base64url")],
      ]),
    );
  }

  private authData(rpId: string, tweaks: CeremonyTweaks, counter: number, attested: boolean): Buffer {
    let flags = 0;
    if (tweaks.up !== false) flags |= 0x01;
    if (tweaks.uv !== false) flags |= 0x04;
    if (attested) flags |= 0x40;
    const count = Buffer.alloc(4);
    count.writeUInt32BE(counter);
    const parts: Buffer[] = [sha256(rpId), Buffer.from([flags]), count];
    if (attested) {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(this.credentialId.length);
      parts.push(Buffer.alloc(16), len, this.credentialId, this.coseKey());
    }
    return Buffer.concat(parts);
  }

  private clientData(type: string, challenge: string, origin: string): Buffer {
    return Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }), "utf8");
  }

  /** Answers registration options: a RegistrationResponseJSON with "none" attestation. */
  register(options: CeremonyOptions, tweaks: CeremonyTweaks = {}): Record<string, unknown> {
    const rpId = tweaks.rpId ?? options.rp?.id ?? this.rpId;
    this.userHandle = options.user?.id ?? null;
    const counter = tweaks.counter ?? this.counter;
    const authData = this.authData(rpId, tweaks, counter, true);
    const attestationObject = encodeCbor(
      new Map<Cbor, Cbor>([
        ["fmt", "none"],
        ["attStmt", new Map()],
        ["authData", authData],
      ]),
    );
    const clientDataJSON = this.clientData(tweaks.type ?? "webauthn.create", tweaks.challenge ?? options.challenge, tweaks.origin ?? this.origin);
    return {
      id: this.id,
      rawId: this.id,
      type: "public-key",
      response: { clientDataJSON: b64u(clientDataJSON), attestationObject: b64u(attestationObject), transports: ["internal"] },
      clientExtensionResults: {},
      authenticatorAttachment: "platform",
    };
  }

  /** Answers authentication options: an AuthenticationResponseJSON signed with the credential's key. */
  assert(options: CeremonyOptions, tweaks: CeremonyTweaks = {}): Record<string, unknown> {
    const rpId = tweaks.rpId ?? options.rpId ?? this.rpId;
    const counter = tweaks.counter ?? (this.counter === 0 ? 0 : ++this.counter);
    const authData = this.authData(rpId, tweaks, counter, false);
    const clientDataJSON = this.clientData(tweaks.type ?? "webauthn.get", tweaks.challenge ?? options.challenge, tweaks.origin ?? this.origin);
    const signature = sign("sha256", Buffer.concat([authData, sha256(clientDataJSON)]), this.privateKey);
    return {
      id: this.id,
      rawId: this.id,
      type: "public-key",
      response: {
        clientDataJSON: b64u(clientDataJSON),
        authenticatorData: b64u(authData),
        signature: b64u(signature),
        ...(this.userHandle !== null ? { userHandle: this.userHandle } : {}),
      },
      clientExtensionResults: {},
      authenticatorAttachment: "platform",
    };
  }
}
