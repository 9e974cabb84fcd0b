import type { AdminOverview } from "../../core/admin/admin-dashboard.js";
import { html, type SafeHtml } from "../html.js";
import { href, type PageContext } from "../page-context.js";
import { adminPage } from "./admin-layout.js";
import { hourlyChart } from "./chart.js";

function stat(label: string, value: number, link?: string, warn = false): SafeHtml {
  const number = html`<span class="stat-value${warn && value > 0 ? " stat-warn" : ""}">${value.toLocaleString("en-US")}</span>`;
  return html`<div class="card stat">${link ? html`<a href="${link}">${number}</a>` : number}<span class="stat-label">${label}</span></div>`;
}

/** `/admin`: the counts of the dashboard and the sign-in chart of the last 7 days. */
export function overviewPage(ctx: PageContext, o: AdminOverview): SafeHtml {
  return adminPage(ctx, {
    title: "Overview",
    body: html`<h1>Overview</h1>
<div class="stats">
${stat("Users", o.users, href(ctx, "/admin/users"))}
${stat("Active sessions", o.activeSessions)}
${stat("Failed sign-ins (24 h)", o.failedSignIns24h, href(ctx, "/admin/audit?type=login_failure"), true)}
${stat("Locked accounts", o.lockedAccounts, href(ctx, "/admin/audit?type=account_locked"), true)}
${stat("Banned IPs", o.bannedIps, href(ctx, "/admin/bans"), true)}
</div>
<section class="card" aria-labelledby="chart-h">
<h2 id="chart-h">Sign-ins, last 7 days</h2>
${hourlyChart(o.hourly)}
</section>`,
  });
}
