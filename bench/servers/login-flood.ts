// The attacker of the login-flood scenario, in its own process so that the
// signed-in client whose latency is measured never shares an event loop with
// it: wrong passwords for made-up usernames, each request from a fresh client
// address (X-Forwarded-For from the trusted proxy), as fast as the server
// answers. Settings: FLOOD_URL, FLOOD_CONNECTIONS, FLOOD_SECONDS, FLOOD_ORIGIN.
// Prints `RESULT {"perSecond", "codes"}` when done.
import autocannon from "autocannon";

const env = process.env;
let n = 0;
const result = await autocannon({
  url: env.FLOOD_URL!,
  connections: Number(env.FLOOD_CONNECTIONS ?? 50),
  duration: Number(env.FLOOD_SECONDS ?? 5),
  requests: [
    {
      method: "POST",
      headers: { "content-type": "application/json", origin: env.FLOOD_ORIGIN ?? "" },
      setupRequest: (req) => {
        n++;
        const ip = `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
        return {
          ...req,
          headers: { ...req.headers, "x-forwarded-for": ip },
          body: JSON.stringify({ username: `flood${n}`, password: "wrong-password-123" }),
        };
      },
    },
  ],
});
const codes: Record<string, number> = {};
for (const [code, st] of Object.entries(result.statusCodeStats ?? {})) codes[code] = st.count ?? 0;
process.stdout.write(`RESULT ${JSON.stringify({ perSecond: result.requests.average, codes })}\n`);
