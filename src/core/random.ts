import { randomBytes, randomUUID } from "node:crypto";

/** A source of cryptographically secure randomness, injected into services. */
export interface Random {
  /** `n` bytes from a CSPRNG. */
  bytes(n: number): Buffer;
  /** A random UUID v4, for identifiers that are not secrets. */
  uuid(): string;
}

/** Randomness from `node:crypto` (the only allowed source, CRY-03). */
export const cryptoRandom: Random = {
  bytes: (n) => randomBytes(n),
  uuid: () => randomUUID(),
};
