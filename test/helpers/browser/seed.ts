import { sql } from "kysely";
import type { Role } from "../../../src/core/users/user.js";
import { GOOD_PASSWORD, sessionCookieFrom, type Harness } from "../harness.js";

const HOUR = 3_600_000;

/** People of the demo data set, newest last. */
const PEOPLE = [
  "alice.nguyen", "bob.martin", "carol.smith", "dave.okafor", "erin.kim", "grace.hopper",
  "heidi.schmidt", "ivan.petrov", "judy.chen", "mallory", "oscar.diaz", "peggy.lee",
];
const AGENTS = [
  "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
];

/**
 * A week of plausible activity for the dashboard (and its screenshots):
 * sign-ins and failures every hour (busier in the daytime, one brute-force
 * burst), then a dozen users, a blocked one, an admin and a superadmin.
 * The harness clock must start 7 days back; it ends at about now. Events
 * go through the audit log service directly (no password hashing), so this
 * takes a fraction of a second. Steps are seconds apart, so lists have a
 * stable order.
 */
export async function seedDemoData(h: Harness): Promise<{ superadmin: { name: string; id: string }; admin: { name: string; id: string } }> {
  // A thousand one-row commits: without an fsync each (synchronous = FULL in production) for the seeding only.
  const sqlite = h.backend.name === "sqlite";
  if (sqlite) await sql`pragma synchronous = OFF`.execute(h.gh.database.db);
  for (let i = 0; i < 7 * 24; i++) {
    h.clock.advance(HOUR);
    const hour = new Date(h.clock.now()).getUTCHours();
    const day = Math.floor(i / 24);
    const daytime = hour >= 7 && hour <= 19;
    const successes = daytime ? 3 + ((day * 5 + hour * 3) % 7) : (hour + day) % 3;
    const failures = i === 115 ? 38 : (hour * 7 + day) % 9 === 0 ? 4 : (hour + day) % 4 === 0 ? 1 : 0;
    for (let k = 0; k < successes; k++) {
      await h.gh.audit.record({
        type: "login_success",
        ip: `198.51.100.${10 + ((i + k) % 40)}`,
        userAgent: AGENTS[(i + k) % AGENTS.length]!,
        details: { method: "password" },
      });
    }
    for (let k = 0; k < failures; k++) {
      await h.gh.audit.record({
        type: "login_failure",
        ip: i === 115 ? "203.0.113.66" : `198.51.100.${60 + (k % 5)}`,
        userAgent: i === 115 ? "python-requests/2.32.3" : AGENTS[k % AGENTS.length]!,
        details: { reason: "invalid_credentials" },
      });
    }
  }
  if (sqlite) await sql`pragma synchronous = FULL`.execute(h.gh.database.db);
  const superadmin = await createUser(h, "morgan.root", AGENTS[0]!, "superadmin");
  const admin = await createUser(h, "sam.ops", AGENTS[1]!, "admin");
  for (const [i, name] of PEOPLE.entries()) await createUser(h, name, AGENTS[i % AGENTS.length]!, "user");
  await h.gh.database.db.updateTable("users").set({ blocked: 1 } as never).where("username", "=", "mallory").execute();
  for (const [i, name] of ["alice.nguyen", "bob.martin", "erin.kim"].entries()) {
    const ua = { "user-agent": AGENTS[(i + 2) % AGENTS.length]! };
    h.clock.advance(40_000);
    await h.request({ method: "POST", url: "/api/auth/login", json: { username: name, password: "wrong-password-1" }, headers: ua });
    h.clock.advance(20_000);
    await h.request({ method: "POST", url: "/api/auth/login", json: { username: name, password: GOOD_PASSWORD }, headers: ua });
    h.clock.advance(60_000);
    await h.request({ method: "POST", url: "/api/auth/login", json: { username: name, password: GOOD_PASSWORD }, headers: { "user-agent": AGENTS[3]! } });
  }
  return { superadmin, admin };
}

/** Registers `name` from a browser with User-Agent `ua`, gives it `role`, and signs that first session out. */
async function createUser(h: Harness, name: string, ua: string, role: Role): Promise<{ name: string; id: string }> {
  const headers = { "user-agent": ua };
  h.clock.advance(30_000);
  const res = await h.request({ method: "POST", url: "/api/auth/register", headers, json: { username: name, password: GOOD_PASSWORD, email: `${name}@example.test` } });
  const cookie = sessionCookieFrom(res);
  if (res.statusCode !== 201 || cookie === null) throw new Error(`seeding ${name}: ${res.statusCode} ${res.body}`);
  const id = res.json().user.id as string;
  if (role !== "user") await h.gh.database.db.updateTable("users").set({ role }).where("id", "=", id).execute();
  h.clock.advance(5_000);
  await h.request({ method: "POST", url: "/api/auth/logout", cookie, headers });
  return { name, id };
}
