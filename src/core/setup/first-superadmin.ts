import type { AuditLog } from "../audit/audit-log.js";
import type { Clock } from "../clock.js";
import { generateToken, hashToken, isWellFormedToken } from "../crypto/tokens.js";
import { GatehouseError } from "../errors.js";
import type { Random } from "../random.js";
import type { SecretRegulator } from "../rate-limit/secret-regulator.js";
import type { SessionOrigin } from "../sessions/session-service.js";
import type { SignedIn } from "../sign-in/sign-in.js";
import type { AccountService, Registration } from "../users/account-service.js";
import type { UserStore } from "../users/user-store.js";
import type { OneTimeTokenStore } from "./one-time-token-store.js";

const PURPOSE = "setup";
/** Lifetime of the setup link (AUTH-10: ≤ 60 min). */
export const SETUP_TOKEN_TTL_MS = 60 * 60_000;

/** What the first start did. */
export type FirstStart =
  | { status: "exists" }
  | { status: "seeded"; username: string }
  | { status: "setup"; token: string; expiresAt: number };

/** Dependencies of {@link createFirstSuperadmin}. */
export interface FirstSuperadminDeps {
  users: UserStore;
  accounts: AccountService;
  tokens: OneTimeTokenStore;
  regulator: SecretRegulator;
  audit: AuditLog;
  clock: Clock;
  random: Random;
}

/**
 * The first superadmin, with no default credentials ever (AUTH-10): seeded
 * from `GATEHOUSE_ADMIN_*` on first start (idempotent), or else created by
 * the one visitor who holds the one-time setup link.
 */
export interface FirstSuperadmin {
  /** On start: nothing when a superadmin exists; seeds from `seed` when given; else issues a fresh setup token. */
  ensure(seed: Registration | null): Promise<FirstStart>;
  /** True while no superadmin exists (the setup route answers 404 otherwise). */
  open(): Promise<boolean>;
  /**
   * Creates the superadmin with the setup token (throttled, single use, 403
   * for a wrong token) and signs them in, ending the session `replacing`.
   */
  complete(token: string, input: Registration, origin: SessionOrigin, replacing?: string | null): Promise<SignedIn>;
}

/** Creates the {@link FirstSuperadmin} flow. */
export function createFirstSuperadmin(deps: FirstSuperadminDeps): FirstSuperadmin {
  const { users, accounts, tokens, regulator, audit, clock, random } = deps;
  const system = { ip: "local", userAgent: "gatehouse" };

  async function open(): Promise<boolean> {
    return (await users.count("superadmin")) === 0;
  }

  return {
    open,
    async ensure(seed) {
      if (!(await open())) {
        await tokens.deletePurpose(PURPOSE);
        return { status: "exists" };
      }
      if (seed) {
        const { user } = await accounts.register(seed, system, { role: "superadmin", signIn: false });
        await audit.record({ type: "role_change", userId: user.id, details: { from: "none", to: "superadmin", via: "environment" }, ...system });
        return { status: "seeded", username: user.username };
      }
      await tokens.deletePurpose(PURPOSE);
      const token = generateToken(random);
      const now = clock.now();
      const expiresAt = now + SETUP_TOKEN_TTL_MS;
      await tokens.insert({ tokenHash: hashToken(token), purpose: PURPOSE, userId: null, createdAt: now, expiresAt });
      return { status: "setup", token, expiresAt };
    },
    async complete(token, input, origin, replacing = null) {
      if (!(await open())) throw new GatehouseError("not_found");
      const admission = await regulator.admit(origin, null);
      const used = isWellFormedToken(token) ? await tokens.consume(hashToken(token), PURPOSE, clock.now()) : null;
      await regulator.record(admission, used !== null);
      if (used === null) throw new GatehouseError("forbidden");
      let registered: Awaited<ReturnType<AccountService["register"]>>;
      try {
        registered = await accounts.register(input, origin, { role: "superadmin", flow: "setup", replacing });
      } catch (err) {
        // Refused input (a taken username, a weak password) must not burn the link:
        // the holder gets it back, with its original expiry, to try again.
        if (err instanceof GatehouseError) {
          await tokens.insert({ tokenHash: hashToken(token), purpose: PURPOSE, userId: used.userId, createdAt: used.createdAt, expiresAt: used.expiresAt });
        }
        throw err;
      }
      const { user, issued } = registered;
      if (issued === null) throw new Error("registration did not sign in");
      await audit.record({ type: "role_change", userId: user.id, actorId: user.id, details: { from: "none", to: "superadmin", via: "setup_link" }, ...origin });
      return { user, issued };
    },
  };
}
