/**
 * Whether a client asked for a page rather than JSON: its `Accept` header
 * names `text/html` (a browser navigation or form submission). The one test
 * behind every "page for people, JSON for programs" choice.
 */
export function acceptsHtml(accept: string | string[] | undefined): boolean {
  return typeof accept === "string" && accept.includes("text/html");
}
