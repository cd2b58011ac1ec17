// Daily analytics rows (one per day and workflow) summed per day for the charts.
import type { AnalyticsDay } from '../api/types';

export interface DayPoint {
  day: string;
  executions: number;
  successes: number;
  errors: number;
  successPct: number | null;
  p50: number | null;
  p95: number | null;
  cost: number;
  tokens: number;
}

export function byDay(rows: AnalyticsDay[]): DayPoint[] {
  const m = new Map<string, DayPoint & { finished: number }>();
  for (const r of rows) {
    const d = m.get(r.day) ?? { day: r.day, executions: 0, successes: 0, errors: 0, successPct: null, p50: null, p95: null, cost: 0, tokens: 0, finished: 0 };
    d.executions += r.executions;
    d.successes += r.successes;
    d.errors += r.errors;
    d.finished += r.successes + r.errors + r.cancelled;
    d.cost += Number(r.cost_usd);
    d.tokens += Number(r.tokens);
    // several workflows on one day: the slowest one's percentile (an upper bound)
    if (r.p50_ms !== null) d.p50 = Math.max(d.p50 ?? 0, r.p50_ms);
    if (r.p95_ms !== null) d.p95 = Math.max(d.p95 ?? 0, r.p95_ms);
    m.set(r.day, d);
  }
  return [...m.values()]
    .sort((a, b) => a.day.localeCompare(b.day))
    .map(({ finished, ...d }) => ({ ...d, successPct: finished ? Math.round((d.successes / finished) * 1000) / 10 : null }));
}
