import type { Random } from "../random.js";
import { USERNAME_MAX, usernameProblem } from "../users/username.js";
import type { ExternalProfile } from "./identity-provider.js";

/** Keeps the username charset (letters, digits, `.`, `_`, `-`), trims punctuation from the ends. */
function slug(raw: string): string {
  const kept = raw.normalize("NFKD").replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^[._-]+|[._-]+$/g, "");
  return kept.slice(0, USERNAME_MAX - 5).replace(/[._-]+$/g, "");
}

/**
 * Usernames to try for an account a provider creates, best first: the
 * provider's suggestion (`preferred_username`, GitHub's login), the address's
 * local part, then each with `-2`…`-5`, then random suffixes. Every one is a
 * valid username.
 */
export function* usernameCandidates(profile: Pick<ExternalProfile, "preferredUsername" | "email">, random: Random): Generator<string> {
  const bases = [profile.preferredUsername ?? "", (profile.email ?? "").split("@")[0] ?? ""].map(slug).filter((b) => usernameProblem(b) === null);
  const base = bases[0] ?? "user";
  const seen = new Set<string>();
  const fresh = (name: string) => !seen.has(name.toLowerCase()) && usernameProblem(name) === null && seen.add(name.toLowerCase());
  for (const b of bases) if (fresh(b)) yield b;
  for (let i = 2; i <= 5; i++) if (fresh(`${base}-${i}`)) yield `${base}-${i}`;
  for (let i = 0; i < 5; i++) {
    const name = `${base}-${random.bytes(3).toString("hex")}`;
    if (fresh(name)) yield name;
  }
}
