import { describeRealProxy } from "./forward-auth-suite.js";
import { startNginx } from "./run-nginx.js";

// docs/proxies/nginx (auth_request) run by the real nginx: FWD-01..05 (docs/security-requirements.md#fwd-01).
describeRealProxy("nginx", startNginx);
