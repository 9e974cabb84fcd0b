/** One line of the results table. */
export interface Row {
  id: string;
  title: string;
  /** Correct answers per second (median of rounds); null where throughput is not the point. */
  rps: number | null;
  p50: number | null;
  p99: number | null;
  /** The server's resident set size after the load, MB. */
  rssMb: number | null;
  /** Server CPU time per answer (µs): less sensitive to a busy machine than req/s. */
  cpuUs?: number | null;
  /** The load generator's CPU use during the rounds, % of one core (median): near 100, the load process, not the server, set the pace. */
  loadCpuPct?: number;
  /** Ratio to the baseline from paired rounds (baseline round, then this row's), median over rounds. */
  pairedRatio?: number;
  pairedCpu?: number | null;
  /** The row this one is compared with in the ratio column. */
  baseline?: string;
  /** What the ratio compares: throughput (default) or p99 latency. */
  compare?: "rps" | "p99" | "rss";
  note?: string;
  /** Set when the scenario could not run (the message says why). */
  error?: string;
}

/** A target of the issue, evaluated on the rows of one run. */
export interface Target {
  label: string;
  /** Row measured. */
  row: string;
  /** Row divided by (omitted for absolute targets). */
  of?: string;
  metric: "rps" | "p99" | "rssMb";
  op: ">=" | "<=" | "within";
  value: number;
}

export interface TargetResult extends Target {
  measured: number | null;
  met: boolean | null;
  /** For throughput targets: the same ratio computed from server CPU time per answer. */
  byCpu: number | null;
}

function metricOf(row: Row | undefined, metric: Target["metric"]): number | null {
  if (!row || row.error) return null;
  return row[metric];
}

/** Evaluates targets; a target whose rows are missing reads "not measured". */
export function evaluate(targets: Target[], rows: Map<string, Row>): TargetResult[] {
  return targets.map((t) => {
    const a = metricOf(rows.get(t.row), t.metric);
    const b = t.of === undefined ? 1 : metricOf(rows.get(t.of), t.metric);
    if (a === null || b === null || b === 0) return { ...t, measured: null, met: null, byCpu: null };
    const row = rows.get(t.row)!;
    const of = t.of === undefined ? undefined : rows.get(t.of);
    // Paired with the target's own baseline, or both paired with the same one (two rows compared through it).
    const paired = t.metric === "rps" && t.of !== undefined && row.baseline === t.of && row.pairedRatio !== undefined;
    const viaBase =
      t.metric === "rps" && of !== undefined && row.baseline !== undefined && of.baseline === row.baseline && row.pairedRatio !== undefined && !!of.pairedRatio;
    const measured = paired ? row.pairedRatio! : viaBase ? row.pairedRatio! / of.pairedRatio! : a / b;
    const ca = row.cpuUs;
    const cb = of?.cpuUs;
    const byCpu = paired
      ? (row.pairedCpu ?? null)
      : viaBase
        ? row.pairedCpu && of.pairedCpu
          ? row.pairedCpu / of.pairedCpu
          : null
        : t.metric === "rps" && ca && cb
          ? cb / ca
          : null;
    const met = t.op === ">=" ? measured >= t.value : t.op === "<=" ? measured <= t.value : Math.abs(measured - 1) <= t.value;
    return { ...t, measured, met, byCpu };
  });
}

const fmt = (n: number | null | undefined) => (n === null || n === undefined ? "–" : String(n));

function ratioCell(row: Row, rows: Map<string, Row>): string {
  if (row.error) return "error";
  if (!row.baseline) return "baseline";
  const base = rows.get(row.baseline);
  if (!base || base.error) return `– (no ${row.baseline})`;
  if (row.compare === "rss") {
    if (row.rssMb === null || !base.rssMb) return "–";
    return `RSS ${(row.rssMb / base.rssMb).toFixed(2)} × \`${row.baseline}\``;
  }
  if ((row.compare ?? "rps") === "p99") {
    if (row.p99 === null || base.p99 === null) return "–";
    return `p99 ${(row.p99 / Math.max(1, base.p99)).toFixed(2)} × \`${row.baseline}\``;
  }
  if (row.pairedRatio !== undefined) {
    const cpu = row.pairedCpu ? `; CPU ${row.pairedCpu.toFixed(2)}` : "";
    return `${row.pairedRatio.toFixed(2)} × \`${row.baseline}\` (paired rounds${cpu})`;
  }
  if (row.rps === null || base.rps === null || base.rps === 0) return "–";
  const cpu = row.cpuUs && base.cpuUs ? ` (CPU ${(base.cpuUs / row.cpuUs).toFixed(2)})` : "";
  return `${(row.rps / base.rps).toFixed(2)} × \`${row.baseline}\`${cpu}`;
}

/** The Markdown results table and target table. */
export function markdown(rows: Row[], results: TargetResult[], header: string): string {
  const byId = new Map(rows.map((r) => [r.id, r]));
  const lines = [
    header,
    "",
    "| id | scenario | req/s | ratio | p50 ms | p99 ms | server CPU µs/req | load CPU % | RSS MB | notes |",
    "|---|---|---:|---|---:|---:|---:|---:|---:|---|",
    ...rows.map(
      (r) =>
        `| \`${r.id}\` | ${r.title} | ${fmt(r.rps)} | ${ratioCell(r, byId)} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${fmt(r.cpuUs)} | ${fmt(r.loadCpuPct)} | ${fmt(r.rssMb)} | ${(r.error ? `**${r.error}**` : (r.note ?? "")).replaceAll("|", "/").replaceAll("\n", " ")} |`,
    ),
    "",
    "| target | measured | met | same ratio by server CPU per answer |",
    "|---|---:|---|---:|",
    ...results.map((t) => {
      const goal = t.op === "within" ? `within ±${Math.round(t.value * 100)} %` : `${t.op} ${t.value}`;
      const unit = t.of === undefined ? (t.metric === "rssMb" ? " MB" : "") : " ×";
      const measured = t.measured === null ? "not measured" : `${t.measured.toFixed(2)}${unit}`;
      const cpu = t.byCpu === null ? "–" : `${t.byCpu.toFixed(2)} ×`;
      return `| ${t.label} (${goal}${unit}) | ${measured} | ${t.met === null ? "–" : t.met ? "yes" : "**no**"} | ${cpu} |`;
    }),
  ];
  return lines.join("\n");
}
