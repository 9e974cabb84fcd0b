import { describeRealProxy } from "./forward-auth-suite.js";
import { startCaddy } from "./run-caddy.js";

// docs/proxies/Caddyfile (forward_auth) run by the real Caddy: SECURITY.md FWD-01..05.
describeRealProxy("caddy", startCaddy);
