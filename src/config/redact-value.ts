/** Query options whose values are harmless to show (TLS mode, timeouts); every other value is hidden. */
const SHOWN_OPTIONS = new Set(["sslmode", "ignoretls", "connect_timeout", "family", "application_name"]);

/**
 * A secret setting's value made safe to print. Connection URLs
 * (`postgres://`, `redis://`, `smtp://` …) keep scheme, host, port and path
 * with `***` for the user and password and for query values other than TLS
 * options; http(s) URLs (webhooks, which may carry a token in the path or
 * query) keep only their origin; anything else becomes `***`.
 */
export function redactValue(raw: string): string {
  const value = raw.trim();
  if (value === "") return "";
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "***";
  }
  // A SQLite file's path (`sqlite:/var/lib/gatehouse/gh.db`) holds no credentials.
  if (url.protocol === "sqlite:" && url.username === "" && url.password === "" && url.search === "") return value;
  if (!/^[a-z][a-z0-9+.-]*:$/.test(url.protocol) || url.host === "") return "***";
  if (url.protocol === "http:" || url.protocol === "https:") {
    const rest = url.pathname !== "/" || url.search !== "" || url.hash !== "" || url.username !== "" || url.password !== "";
    return `${url.origin}${rest ? "/***" : ""}`;
  }
  const credentials = url.username !== "" || url.password !== "" ? "***@" : "";
  const options = [...url.searchParams.keys()].map((key) => `${encodeURIComponent(key)}=${SHOWN_OPTIONS.has(key.toLowerCase()) ? encodeURIComponent(url.searchParams.get(key) ?? "") : "***"}`);
  return `${url.protocol}//${credentials}${url.host}${url.pathname}${options.length > 0 ? `?${options.join("&")}` : ""}${url.hash !== "" ? "#***" : ""}`;
}
