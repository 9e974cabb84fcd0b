import type { Ban } from "../../core/rate-limit/limiter-store.js";
import { formatTime, postButton } from "../components.js";
import { html, type SafeHtml } from "../html.js";
import { href, type PageContext } from "../page-context.js";
import { adminPage } from "./admin-layout.js";

/** `/admin/bans`: the IP bans in force, each with "Lift ban". */
export function bansPage(ctx: PageContext, bans: readonly Ban[]): SafeHtml {
  const rows = [...bans]
    .sort((a, b) => b.until - a.until)
    .map(
      (b) => html`<tr>
<td class="mono">${
        // An IPv6 network (`2001:db8:1:2::/64`) is no single audit `ip`: only an address links to its events.
        b.ip.includes("/") ? b.ip : html`<a href="${href(ctx, `/admin/audit?ip=${encodeURIComponent(b.ip)}`)}">${b.ip}</a>`
      }</td>
<td>${formatTime(b.until)}</td>
<td>${postButton(ctx, "/admin/bans/lift", "Lift ban", { hidden: { ip: b.ip }, confirm: `Lift the ban of ${b.ip}?` })}</td>
</tr>`,
    );
  return adminPage(ctx, {
    title: "Banned IPs",
    body: html`<h1>Banned IPs</h1>
<p class="muted">Clients that tripped the rate limits too often are banned for a while. An IPv6 client is banned by its network (for example <span class="mono">2001:db8:1:2::/64</span>): every address in it is refused. Lifting a ban lets the client in again at once.</p>
<div class="card">${
      bans.length === 0
        ? html`<p>No IP is banned.</p>`
        : html`<div class="table-wrap"><table><thead><tr><th scope="col">IP</th><th scope="col">Banned until</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead><tbody>${rows}</tbody></table></div>`
    }</div>`,
  });
}
