import { html, type HtmlValue, type SafeHtml } from "./html.js";
import { assetPath } from "./assets.js";
import { csrfField } from "./components.js";
import { href, type PageContext } from "./page-context.js";

/** Options of {@link layout}. */
export interface LayoutOptions {
  /** The page title (shown in the tab and as nothing else; put your own `<h1>`). */
  title: string;
  /** The page body, inside `<main>`. */
  body: HtmlValue;
  /** A narrow, centred column (sign-in forms). */
  narrow?: boolean;
  /** Extra scripts of this page (asset names), loaded deferred after gatehouse.js, in this order. */
  scripts?: readonly string[];
}

function navLink(ctx: PageContext, path: string, label: string): SafeHtml {
  const current = ctx.path === path || (path !== "/" && ctx.path.startsWith(`${path}/`));
  return html`<a href="${href(ctx, path)}"${current ? html` aria-current="page"` : ""}>${label}</a>`;
}

function nav(ctx: PageContext): SafeHtml {
  const user = ctx.user;
  if (user === null) {
    return html`<nav class="nav" aria-label="Main">${navLink(ctx, "/login", "Sign in")}${ctx.registrationOpen ? navLink(ctx, "/register", "Create account") : ""}</nav>`;
  }
  return html`<nav class="nav" aria-label="Main">
${navLink(ctx, "/account", "Account")}
${user.role === "admin" || user.role === "superadmin" ? navLink(ctx, "/admin", "Admin") : ""}
<span class="who">${user.username}</span>
<form class="inline" method="post" action="${href(ctx, "/logout")}">${csrfField(ctx)}<button type="submit" class="link">Sign out</button></form>
</nav>`;
}

/** The one page layout: header with navigation, the notice, the body; one stylesheet, one deferred script. */
export function layout(ctx: PageContext, o: LayoutOptions): SafeHtml {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${o.title} · Gatehouse</title>
<link rel="stylesheet" href="${href(ctx, assetPath("gatehouse.css"))}">
<link rel="icon" type="image/svg+xml" href="${href(ctx, assetPath("favicon.svg"))}">
<script src="${href(ctx, assetPath("gatehouse.js"))}" nonce="${ctx.nonce}" defer></script>
${(o.scripts ?? []).map((name) => html`<script src="${href(ctx, assetPath(name))}" nonce="${ctx.nonce}" defer></script>`)}
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top"><div class="top-in">
<a class="brand" href="${href(ctx, ctx.user ? "/account" : "/login")}">Gatehouse</a>
${nav(ctx)}
</div></header>
<main id="main"${o.narrow ? html` class="narrow"` : ""}>
${ctx.notice ? html`<div class="alert alert-ok" role="status">${ctx.notice}</div>` : ""}
${o.body}
</main>
</body>
</html>
`;
}
