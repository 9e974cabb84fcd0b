// Summarizes a V8 .cpuprofile (from `node --cpu-prof`): the functions with the
// most self time and the most inclusive time, as percentages of all samples.
//   npx tsx bench/profile-summary.ts <file.cpuprofile> [selfRows] [inclusiveRows] [fileRows] [--busy] [--after-ms N]
//   --busy        percentages of the busy samples only: "(idle)" is left out of the total and the lists
//   --after-ms N  only the samples taken N ms or more after the profile started (leaves start-up out)
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
const { values, positionals } = parseArgs({ allowPositionals: true, options: { busy: { type: "boolean", default: false }, "after-ms": { type: "string", default: "0" } } });
const afterUs = Number(values["after-ms"]) * 1000;
const profile = JSON.parse(readFileSync(positionals[0]!, "utf8")) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const name = (n: Node) =>
  `${n.callFrame.functionName || "(anonymous)"} ${n.callFrame.url.replace(/.*node_modules\//, "").replace(/.*\/(src|bench)\//, "$1/")}:${n.callFrame.lineNumber + 1}`;

const perNode = new Map<number, number>();
let total = 0;
let at = 0;
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0;
  at += dt;
  if (at < afterUs || (values.busy && byId.get(id)!.callFrame.functionName === "(idle)")) return;
  perNode.set(id, (perNode.get(id) ?? 0) + dt);
  total += dt;
});
const self = new Map<string, number>();
const inclusive = new Map<string, number>();
for (const [id, t] of perNode) {
  const key = name(byId.get(id)!);
  self.set(key, (self.get(key) ?? 0) + t);
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const k = name(byId.get(cur)!);
    if (seen.has(k)) continue;
    seen.add(k);
    inclusive.set(k, (inclusive.get(k) ?? 0) + t);
  }
}
const top = (m: Map<string, number>, n: number) =>
  [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, t]) => `${((100 * t) / total).toFixed(1).padStart(5)} %  ${k}`)
    .join("\n");
const byFile = new Map<string, number>();
for (const [key, t] of self) {
  const file = key.slice(key.indexOf(" ") + 1).replace(/:\d+$/, "");
  byFile.set(file, (byFile.get(file) ?? 0) + t);
}
console.log(`SELF BY FILE\n${top(byFile, Number(positionals[3] ?? 25))}\n`);
console.log(`SELF\n${top(self, Number(positionals[1] ?? 30))}\n\nINCLUSIVE\n${top(inclusive, Number(positionals[2] ?? 50))}`);
