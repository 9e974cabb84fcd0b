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
<td class="mono"><a href="${href(ctx, `/admin/audit?ip=${encodeURIComponent(b.ip)}`)}">${b.ip}</a></td>
<td>${formatTime(b.until)}</td>
<td>${postButton(ctx, "/admin/bans/lift", "Lift ban", { hidden: { ip: b.ip }, confirm: `Lift the ban of ${b.ip}?` })}</td>
</tr>`,
    );
  return adminPage(ctx, {
    title: "Banned IPs",
    body: html`<h1>Banned IPs</h1>
<p class="muted">Clients that tripped the rate limits too often are banned for a while. Lifting a ban lets the IP in again at once.</p>
<div class="card">${
      bans.length === 0
        ? html`<p>No IP is banned.</p>`
        : html`<div class="table-wrap"><table><thead><tr><th scope="col">IP</th><th scope="col">Banned until</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead><tbody>${rows}</tbody></table></div>`
    }</div>`,
  });
}
