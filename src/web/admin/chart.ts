import { html, type SafeHtml } from "../html.js";

/** One hour of the sign-in chart. */
export interface HourlyPoint {
  /** The hour's start, ISO-8601 UTC. */
  hour: string;
  signIns: number;
  failures: number;
}

const W = 840;
const H = 220;
const LEFT = 44;
const RIGHT = 8;
const TOP = 12;
const BOTTOM = 28;

/** The smallest "nice" axis maximum (1, 2 or 5 × 10^n) at or above `max` (at least 4). */
export function niceMax(max: number): number {
  if (!(max > 4)) return 4;
  const magnitude = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 5, 10]) if (step * magnitude >= max) return step * magnitude;
  return 10 * magnitude;
}

function round(n: number): string {
  return String(Math.round(n * 10) / 10);
}

/** An SVG path of `values` as steps, one `step` wide each, scaled to the plot. */
function stepPath(values: readonly number[], step: number, y: (v: number) => number): string {
  let d = "";
  values.forEach((v, i) => {
    const x0 = LEFT + i * step;
    d += `${i === 0 ? "M" : "L"}${round(x0)} ${round(y(v))}H${round(x0 + step)}`;
  });
  return d;
}

/**
 * Sign-ins and failures per hour as a server-rendered SVG (no script): two
 * step lines over a grid, a tick per day, and a text summary for screen
 * readers. Only numbers and dates derived from them reach the markup.
 */
export function hourlyChart(points: readonly HourlyPoint[]): SafeHtml {
  const plotW = W - LEFT - RIGHT;
  const plotH = H - TOP - BOTTOM;
  const n = Math.max(points.length, 1);
  const step = plotW / n;
  const max = niceMax(Math.max(0, ...points.map((p) => Math.max(p.signIns, p.failures))));
  const y = (v: number) => TOP + plotH - (Math.max(0, v) / max) * plotH;
  const totalIn = points.reduce((s, p) => s + p.signIns, 0);
  const totalFail = points.reduce((s, p) => s + p.failures, 0);
  const grid = [0, max / 2, max].map(
    (v) => html`<line class="gridline" x1="${LEFT}" x2="${W - RIGHT}" y1="${round(y(v))}" y2="${round(y(v))}"/><text class="axis" x="${LEFT - 6}" y="${round(y(v) + 4)}" text-anchor="end">${round(v)}</text>`,
  );
  const days = points.flatMap((p, i) => {
    if (!p.hour.endsWith("T00:00:00.000Z")) return [];
    const x = round(LEFT + i * step);
    return [html`<line class="tick" x1="${x}" x2="${x}" y1="${TOP}" y2="${TOP + plotH}"/><text class="axis" x="${x}" y="${H - 8}" text-anchor="middle">${p.hour.slice(5, 10)}</text>`];
  });
  const first = points[0]?.hour.slice(0, 16).replace("T", " ") ?? "";
  const last = points.at(-1)?.hour.slice(0, 16).replace("T", " ") ?? "";
  return html`<figure class="chart">
<svg viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="chart-title chart-desc" preserveAspectRatio="xMidYMid meet">
<title id="chart-title">Sign-ins and failures per hour, last 7 days</title>
<desc id="chart-desc">${totalIn} sign-ins and ${totalFail} failed sign-ins between ${first} and ${last} UTC; the busiest hour had ${Math.max(0, ...points.map((p) => p.signIns + p.failures))} attempts.</desc>
${grid}${days}
<path class="series-ok" fill="none" stroke-width="2" d="${stepPath(points.map((p) => p.signIns), step, y)}"/>
<path class="series-fail" fill="none" stroke-width="2" d="${stepPath(points.map((p) => p.failures), step, y)}"/>
</svg>
<figcaption><span class="key key-ok"></span> Sign-ins (${totalIn}) <span class="key key-fail"></span> Failures (${totalFail}) · hours in UTC</figcaption>
</figure>`;
}
