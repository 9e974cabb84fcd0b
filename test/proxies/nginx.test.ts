import { describeRealProxy } from "./forward-auth-suite.js";
import { startNginx } from "./run-nginx.js";

// docs/proxies/nginx (auth_request) run by the real nginx: SECURITY.md FWD-01..05.
describeRealProxy("nginx", startNginx);
