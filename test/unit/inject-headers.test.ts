import { describe, expect, it } from "vitest";
import { parseHeaderTemplate, renderHeaderTemplate } from "../../src/core/vault/header-template.js";
import { checkSecretValue, prefixOf } from "../../src/core/vault/vault-names.js";
import { userKeyNamesOf } from "../../src/core/vault/user-key-names.js";
import { parseRulesFile, RulesFileError } from "../../src/gateway/parse-rules-file.js";

const file = (inject: string) => `access_control:
  default_policy: one_factor
upstreams:
  - domain: app.test
    url: http://127.0.0.1:9
    inject_headers:
${inject}`;

function problemsOf(text: string): string[] {
  try {
    parseRulesFile(text);
  } catch (err) {
    if (err instanceof RulesFileError) return err.problems;
    throw err;
  }
  return [];
}

describe("inject_headers: templates and the rules file", () => {
  it("a template is text around ${secret:…} and ${user_secret:…} placeholders", () => {
    expect(parseHeaderTemplate("Bearer ${secret:openai}")).toEqual({ parts: [{ text: "Bearer " }, { secret: "openai" }] });
    expect(parseHeaderTemplate("${user_secret:my-key}")).toEqual({ parts: [{ userSecret: "my-key" }] });
    for (const bad of ["Bearer", "${env:HOME}", "${secret:Bad}", "${secret:openai", "a\r\n${secret:x}", "${secret:}", ""]) {
      expect(typeof parseHeaderTemplate(bad), bad).toBe("string");
    }
  });

  it("a template renders only when every secret it names has a value", async () => {
    const t = parseHeaderTemplate("Bearer ${secret:a} ${user_secret:b}");
    if (typeof t === "string") throw new Error(t);
    expect(await renderHeaderTemplate(t, async (p) => ("secret" in p ? "A" : "B"))).toBe("Bearer A B");
    expect(await renderHeaderTemplate(t, async (p) => ("secret" in p ? "A" : null))).toBeNull();
  });

  it("values are header-safe, and only long ones show a 4-character prefix", () => {
    expect(prefixOf("0123456789abcdef")).toBe("0123");
    expect(prefixOf("0123456789abcde")).toBeNull();
    for (const bad of ["a\nb", "a\rb", "a\u0000b", "é", " a", "a ", ""]) expect(() => checkSecretValue(bad), JSON.stringify(bad)).toThrow();
    expect(checkSecretValue("Bearer-like value with spaces")).toBe("Bearer-like value with spaces");
  });

  it("the rules file takes a map (every path) or a list with resources; users may store the names it uses", () => {
    const map = parseRulesFile(file(`      Authorization: "Bearer \${secret:openai}"`));
    expect(map.upstreams[0]!.injectHeaders).toMatchObject([{ header: "authorization", resources: null }]);
    const list = parseRulesFile(file(`      - header: X-Key
        value: "\${user_secret:anthropic}"
        resources: ["^/api/chat"]`));
    const entry = list.upstreams[0]!.injectHeaders![0]!;
    expect(entry.header).toBe("x-key");
    expect(entry.resources!.map((r) => r.source)).toEqual(["^/api/chat"]);
    expect([...userKeyNamesOf(list)]).toEqual(["anthropic"]);
    expect([...userKeyNamesOf(map)]).toEqual([]);
  });

  it("refuses headers Gatehouse owns, bad templates and unknown keys, without echoing a value", () => {
    for (const header of ["Host", "Content-Length", "Cookie", "Remote-User", "X-Forwarded-For", "Transfer-Encoding", "bad header"]) {
      const problems = problemsOf(file(`      "${header}": "\${secret:x}"`));
      expect(problems.length, header).toBeGreaterThan(0);
    }
    const pasted = problemsOf(file(`      Authorization: "Bearer sk-pasted-by-mistake-123456"`));
    expect(pasted.join("\n")).toContain("names no secret");
    expect(pasted.join("\n")).not.toContain("sk-pasted");
    expect(problemsOf(file(`      - header: A
        value: "\${secret:x}"
        methods: [GET]`)).join("\n")).toContain("unknown key `methods`");
    expect(problemsOf(file(`      - header: A
        value: "\${secret:x}"
        resources: ["(unclosed"]`)).length).toBeGreaterThan(0);
  });
});
