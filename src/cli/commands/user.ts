import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import pino from "pino";
import { createGatehouse, type Gatehouse } from "../../compose.js";
import { ROLES, type Role, type User } from "../../core/users/user.js";
import { normalizeEmail } from "../../core/users/email.js";
import { normalizeUsername } from "../../core/users/username.js";
import { CliError, EXIT, printable, type CliIo, type Command } from "../cli-io.js";
import { loadCliConfig } from "../configured-database.js";

export const USER_USAGE = `Usage: gatehouse user <command>

  create <username> --password-file <f> [--email <e>] [--role user|admin|superadmin]
  invite <email> [--role user|admin|superadmin]
  list [--q <prefix>] [--role <role>] [--limit <n>]
  set-role <username> <user|admin|superadmin>
  block <username>
  unblock <username>
  reset-mfa <username|email>

An invitation prints its single-use link (valid 7 days) for you to pass on,
and mails it to the address when mail is configured.

A role change or a block ends all of that user's sessions at once and is
audited (actor: the CLI). The last active superadmin cannot be demoted or blocked.

reset-mfa removes every second factor of the user (for someone who lost their
authenticator and recovery codes), ends all their sessions, audits mfa_reset
and mails them. Make sure the request really comes from them.`;

const CLI_ORIGIN = { ip: "local", userAgent: "gatehouse-cli" };

function parse(args: string[]) {
  try {
    return parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        "password-file": { type: "string" },
        email: { type: "string" },
        role: { type: "string" },
        q: { type: "string" },
        limit: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (err) {
    throw new CliError(`${(err as Error).message}\n\n${USER_USAGE}`, EXIT.usage);
  }
}

function roleOf(value: string | undefined, fallback?: Role): Role {
  if (value === undefined && fallback) return fallback;
  if (!(ROLES as readonly string[]).includes(value ?? "")) throw new CliError(`role must be one of ${ROLES.join(", ")}`, EXIT.usage);
  return value as Role;
}

async function findUser(gh: Gatehouse, username: string | undefined, orEmail = false): Promise<User> {
  if (!username) throw new CliError(`a username is required\n\n${USER_USAGE}`, EXIT.usage);
  const byEmail = orEmail && username.includes("@");
  const user = await gh.stores.users.findByLogin(byEmail ? { email: normalizeEmail(username) } : { username: normalizeUsername(username) });
  if (!user) throw new CliError(`no user named "${printable(username)}"`);
  return user;
}

/** Applies a role or block change as an operator: the last superadmin stays, sessions end, the change is audited. */
async function change(gh: Gatehouse, user: User, next: { role?: Role; blocked?: boolean }): Promise<void> {
  // The same atomic guard as the admin API: a change racing a removal elsewhere cannot leave no active superadmin.
  const result = await gh.stores.users.changeGuardingLastSuperadmin(user.id, { kind: "update", ...next }, Date.now());
  if (result === "last_superadmin") throw new CliError("the last superadmin cannot be demoted or blocked: no other active superadmin remains");
  if (result === "not_found") throw new CliError(`no user named "${user.username}"`);
  await gh.sessions.revokeAllForUser(user.id);
  if (next.role !== undefined && next.role !== user.role) {
    await gh.audit.record({ type: "role_change", userId: user.id, details: { from: user.role, to: next.role, via: "cli" }, ...CLI_ORIGIN });
  }
  if (next.blocked !== undefined && next.blocked !== user.blocked) {
    await gh.audit.record({ type: next.blocked ? "user_blocked" : "user_unblocked", userId: user.id, details: { via: "cli" }, ...CLI_ORIGIN });
  }
}

/** `gatehouse user …`: operator user management over the configured database. */
export const userCommand: Command = async (args: string[], io: CliIo) => {
  const { values, positionals } = parse(args);
  const [sub, name, extra] = positionals;
  if (values.help || sub === undefined) {
    io.out(`${USER_USAGE}\n`);
    return values.help ? EXIT.ok : EXIT.usage;
  }
  const config = loadCliConfig(io.env);
  const gh = await createGatehouse({ config, logger: pino({ level: "silent" }) });
  // This process sends the mails it queues (an invitation) before it exits; close() stops the worker.
  gh.mail.start();
  try {
    switch (sub) {
      case "create": {
        if (!name || !values["password-file"]) throw new CliError(`create needs a username and --password-file\n\n${USER_USAGE}`, EXIT.usage);
        const password = readFileSync(values["password-file"], "utf8").replace(/\r?\n$/, "");
        const role = roleOf(values.role, "user");
        const { user } = await gh.accounts.register({ username: name, password, email: values.email }, CLI_ORIGIN, { role, signIn: false });
        io.out(`created ${printable(user.username)} (${user.role}) ${user.id}\n`);
        return EXIT.ok;
      }
      case "invite": {
        if (!name) throw new CliError(`invite needs an email address\n\n${USER_USAGE}`, EXIT.usage);
        const role = roleOf(values.role, "user");
        const { invitation, link, mailed } = await gh.invitations.create({ user: null, origin: CLI_ORIGIN }, { email: name, role });
        io.out(`invited ${printable(invitation.email)} (${invitation.role}); the link works once, until ${new Date(invitation.expiresAt).toISOString()}\n`);
        io.out(`${mailed ? "mailed to the address; " : "not mailed (no mail transport); "}the link:\n${link}\n`);
        return EXIT.ok;
      }
      case "list": {
        const limit = Math.min(1000, Math.max(1, Number(values.limit ?? 50) || 50));
        const { users, total } = await gh.stores.users.search({
          limit,
          offset: 0,
          ...(values.q ? { q: values.q } : {}),
          ...(values.role ? { role: roleOf(values.role) } : {}),
        });
        for (const u of users) {
          io.out(`${printable(u.id)}  ${printable(u.username).padEnd(24)} ${printable(u.email ?? "-").padEnd(32)} ${printable(u.role).padEnd(10)} ${u.blocked ? "blocked" : "active"}\n`);
        }
        io.out(`${users.length} of ${total} user(s)\n`);
        return EXIT.ok;
      }
      case "set-role": {
        const role = roleOf(extra);
        const user = await findUser(gh, name);
        await change(gh, user, { role });
        io.out(`${printable(user.username)} is now ${printable(extra ?? "")}; their sessions were ended\n`);
        return EXIT.ok;
      }
      case "block":
      case "unblock": {
        const user = await findUser(gh, name);
        await change(gh, user, { blocked: sub === "block" });
        io.out(`${printable(user.username)} is ${sub}ed${sub === "block" ? "; their sessions were ended" : ""}\n`);
        return EXIT.ok;
      }
      case "reset-mfa": {
        const user = await findUser(gh, name, true);
        const { methods, sessionsEnded } = await gh.resetSecondFactors(user.id, { user: null, origin: CLI_ORIGIN });
        // The notice is queued in the background; send it before this process exits.
        await gh.mail.flush();
        const had = methods.length === 0 ? "had no second factor" : `had ${methods.join(", ")}`;
        io.out(`${printable(user.username)} ${had}; every second factor was removed, ${sessionsEnded} session(s) ended${user.email && gh.mail.mailer.enabled ? ", and they were mailed" : ""}\n`);
        return EXIT.ok;
      }
      default:
        throw new CliError(`unknown user command "${printable(sub)}"\n\n${USER_USAGE}`, EXIT.usage);
    }
    // A GatehouseError reaches run-cli.ts, which prints its message, code and fields (never a value) and exits 1.
  } finally {
    await gh.close();
  }
};
