import { describeRealProxy } from "../helpers/proxies/forward-auth-suite.js";
import { startNginx } from "../helpers/proxies/run-nginx.js";

// docs/proxies/nginx (auth_request) run by the real nginx: FWD-01..05 (docs/security-requirements.md#fwd-01).
describeRealProxy("nginx", startNginx);
