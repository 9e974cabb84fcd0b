import { createRequire } from "node:module";
import type * as Yaml from "yaml";
import type { ProviderSettings } from "../core/oauth/identity-provider.js";
import { RulesFileError } from "../gateway/parse-rules-file.js";
import { providerSettingsFrom, type RawProvider } from "./provider-settings-from.js";

const require = createRequire(import.meta.url);

/**
 * The `identity_providers` list of the rules file (GATEHOUSE_CONFIG), each
 * entry validated by {@link providerSettingsFrom} with its line number. An
 * absent section is an empty list; any problem refuses the whole file
 * ({@link RulesFileError}), as for the access rules.
 */
export function parseProvidersFile(text: string, env: NodeJS.ProcessEnv): ProviderSettings[] {
  const yaml = require("yaml") as typeof Yaml;
  const lines = new yaml.LineCounter();
  const doc = yaml.parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) return []; // the rules parser reports YAML errors with their lines
  const root = doc.contents;
  if (!yaml.isMap(root)) return [];
  const section = root.get("identity_providers", true) as Yaml.Node | undefined;
  if (section === undefined) return [];
  const lineOf = (node: Yaml.Node): string => (node.range ? `line ${lines.linePos(node.range[0]).line}` : "line ?");
  if (!yaml.isSeq(section)) throw new RulesFileError([`${lineOf(section)}: \`identity_providers\` must be a list`]);
  const problems: string[] = [];
  const providers: ProviderSettings[] = [];
  for (const item of section.items as Yaml.Node[]) {
    const where = `${lineOf(item)} (identity provider)`;
    if (!yaml.isMap(item)) {
      problems.push(`${where}: each identity provider is a mapping with at least \`type\`, \`client_id\` and a client secret`);
      continue;
    }
    const settings = providerSettingsFrom(item.toJS(doc) as RawProvider, where, env, problems);
    if (settings === null) continue;
    if (providers.some((p) => p.id === settings.id)) problems.push(`${where}: the id \`${settings.id}\` is used twice (each provider needs its own callback URL)`);
    else providers.push(settings);
  }
  if (problems.length > 0) throw new RulesFileError(problems);
  return providers;
}
