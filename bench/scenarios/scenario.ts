import type { BenchContext } from "../lib/load.js";
import type { Row, Target } from "../lib/report.js";

/** A selectable part of the run (`--only <id>`): it starts its own servers and returns its rows. */
export interface Scenario {
  id: string;
  /** Scenarios whose rows this one's ratios need; `--only` pulls them in. */
  needs?: string[];
  /** The targets that read this scenario's rows. */
  targets?: Target[];
  run(ctx: BenchContext, rows: Map<string, Row>): Promise<Row[]>;
}

/** The signed-in API limit is 120/min per user; throughput scenarios lift it (the limiter stays in the path). */
export const UNLIMITED_API = { RATE_LIMIT_API: "999999/1s" };

/** The origin the bench servers are configured with (CSRF checks on POSTs). */
export const BENCH_ORIGIN = "http://127.0.0.1";
