import { describeRealProxy } from "../helpers/proxies/forward-auth-suite.js";
import { startCaddy } from "../helpers/proxies/run-caddy.js";

// docs/proxies/Caddyfile (forward_auth) run by the real Caddy: FWD-01..05 (docs/security-requirements.md#fwd-01).
describeRealProxy("caddy", startCaddy);
