import { describe, expect, it } from "vitest";
import { field, postButton } from "../../src/web/components.js";
import { parseForm, formValue, formValues, MAX_FORM_FIELDS } from "../../src/web/form.js";
import { escapeHtml, html, raw } from "../../src/web/html.js";
import type { PageContext } from "../../src/web/page-context.js";
import { describeUserAgent } from "../../src/web/user-agent.js";

const ctx: PageContext = { basePath: "/.gatehouse", csrfToken: "tok", nonce: "bm9uY2U=", user: null, path: "/login", notice: null };

describe("web rendering: escaping by default", () => {
  it("escapes every interpolated string, in text and in quoted attributes", () => {
    const evil = `"><svg onload=alert(1)>'\`&`;
    const out = html`<p title="${evil}">${evil}</p>`.value;
    expect(out).toBe('<p title="&quot;&gt;&lt;svg onload=alert(1)&gt;&#39;&#96;&amp;">&quot;&gt;&lt;svg onload=alert(1)&gt;&#39;&#96;&amp;</p>');
    expect(escapeHtml("<img src=x onerror=alert(1)>")).toBe("&lt;img src=x onerror=alert(1)&gt;");
  });

  it("nests html results and raw() without re-escaping; arrays are joined; null, undefined and false render nothing", () => {
    const inner = html`<b>${"<i>"}</b>`;
    expect(html`<div>${inner}${raw("<hr>")}${["a", html`<br>`, "<"]}${null}${undefined}${false}${0}</div>`.value).toBe(
      "<div><b>&lt;i&gt;</b><hr>a<br>&lt;0</div>",
    );
  });

  it("field() labels its input, never echoes a password value, and links hint and error by aria-describedby", () => {
    const pw = field({ name: "password", label: "Password", type: "password", value: "secret-value", autocomplete: "current-password" }).value;
    expect(pw).toContain('<label for="f-password">Password</label>');
    expect(pw).not.toContain("secret-value");
    const name = field({ name: "username", label: "User", value: '"><x>', hint: "h", errors: { fields: { username: "bad <b>" } } }).value;
    expect(name).toContain('value="&quot;&gt;&lt;x&gt;"');
    expect(name).toContain('aria-describedby="f-username-hint f-username-error"');
    expect(name).toContain("bad &lt;b&gt;");
    expect(name).toContain('aria-invalid="true"');
  });

  it("postButton() builds the action from the base path and carries the CSRF field", () => {
    const out = postButton(ctx, "/account/sessions/x/revoke", "Sign out", { confirm: 'Really "sure"?' }).value;
    expect(out).toContain('action="/.gatehouse/account/sessions/x/revoke"');
    expect(out).toContain('<input type="hidden" name="_csrf" value="tok">');
    expect(out).toContain('data-confirm="Really &quot;sure&quot;?"');
  });
});

describe("web forms: urlencoded parsing", () => {
  it("parses into a prototype-less record of value lists", () => {
    const form = parseForm("a=1&b=x%20y&b=z&c=");
    expect(Object.getPrototypeOf(form)).toBeNull();
    expect(formValue(form, "a")).toBe("1");
    expect(formValues(form, "b")).toEqual(["x y", "z"]);
    expect(formValue(form, "c")).toBe("");
    expect(formValue(form, "missing")).toBe("");
  });

  it("refuses prototype-pollution keys, too many fields, repeated single fields and over-long values", () => {
    for (const key of ["__proto__", "constructor", "prototype"]) expect(() => parseForm(`${key}=1`)).toThrow();
    expect(() => parseForm(Array.from({ length: MAX_FORM_FIELDS + 1 }, (_, i) => `f${i}=1`).join("&"))).toThrow();
    expect(() => formValue(parseForm("a=1&a=2"), "a")).toThrow();
    expect(() => formValue(parseForm(`a=${"x".repeat(20)}`), "a", 10)).toThrow();
  });
});

describe("web sessions list: device names from the User-Agent", () => {
  it.each([
    ["Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox on Linux"],
    ["Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36 Edg/126.0", "Edge on Windows"],
    ["Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Mobile/15E148 Safari/604.1", "Safari on iOS"],
    ["Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/126.0 Mobile Safari/537.36", "Chrome on Android"],
    ["curl/8.5.0", "curl"],
    ["", "Unknown device"],
    ["<img src=x onerror=alert(1)>", "Unknown device"],
  ])("%s → %s", (ua, expected) => {
    expect(describeUserAgent(ua)).toBe(expected);
  });
});
