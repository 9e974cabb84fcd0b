/**
 * The rules file of the vault page suites (inject and browser): one upstream
 * naming an operator secret (`openai`) and a user's own key (`anthropic`), so
 * the dashboard lists the one and "Your keys" offers only the other.
 */
export const VAULT_PAGES_RULES_YAML = `access_control:
  default_policy: one_factor
upstreams:
  - domain: app.test
    url: http://127.0.0.1:9
    inject_headers:
      Authorization: "Bearer \${secret:openai}"
      X-Own-Key: "\${user_secret:anthropic}"
`;
