import { describe, expect, it } from "vitest";
import { hourlyChart, niceMax, type HourlyPoint } from "../../src/web/admin/chart.js";

const HOUR = 3_600_000;
const start = Date.UTC(2026, 10, 15, 13);

function week(fill: (i: number) => Partial<HourlyPoint> = () => ({})): HourlyPoint[] {
  return Array.from({ length: 168 }, (_, i) => ({ hour: new Date(start + i * HOUR).toISOString(), signIns: 0, failures: 0, ...fill(i) }));
}

describe("the dashboard's sign-in chart (server-rendered SVG)", () => {
  it("rounds the axis up to 1, 2 or 5 × 10^n", () => {
    expect([0, 3, 4, 5, 9, 11, 20, 21, 199, 501, 1000].map(niceMax)).toEqual([4, 4, 4, 5, 10, 20, 20, 50, 200, 1000, 1000]);
  });

  it("draws both series, a tick per day and a text summary, and contains no script or event handler", () => {
    const svg = hourlyChart(week((i) => ({ signIns: i % 24, failures: i === 100 ? 42 : 0 }))).value;
    expect(svg).toContain("<svg");
    expect(svg).toContain('class="series-ok"');
    expect(svg).toContain('class="series-fail"');
    expect(svg.match(/class="tick"/g)).toHaveLength(7);
    expect(svg).toContain("1932 sign-ins and 42 failed sign-ins");
    expect(svg).toContain("the busiest hour had 46 attempts");
    expect(svg).not.toMatch(/<script|\son[a-z]+=|javascript:|style=/i);
    // The failure spike reaches the top of the axis (50): y = TOP.
    expect(svg).toMatch(/>50<\/text>/);
  });

  it("renders an empty week (all zeros) on a 0–4 axis without NaN", () => {
    const svg = hourlyChart(week()).value;
    expect(svg).not.toContain("NaN");
    expect(svg).toContain("0 sign-ins and 0 failed sign-ins");
    expect(hourlyChart([]).value).not.toContain("NaN");
  });
});
