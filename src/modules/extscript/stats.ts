/**
 * Hook statistics per connection point: calls, replies, rejects, timeouts, failures, and a latency
 * histogram; the totals are module statistics (get_statistics extscript:, /metrics).
 */
import { Histogram } from '../../mi/histogram.ts';
import { defineModuleStatistic } from '../../mi/statistics.ts';

export interface HookCounters {
  calls: number;
  ok: number;
  rejects: number;
  timeouts: number;
  failures: number;
  /** Calls refused for an unknown source (counted under cp 0). */
  unknown_source: number;
  readonly latency: Histogram;
}

function counters(): HookCounters {
  return {
    calls: 0,
    ok: 0,
    rejects: 0,
    timeouts: 0,
    failures: 0,
    unknown_source: 0,
    latency: new Histogram(),
  };
}

const perCp = new Map<number, HookCounters>();
const total = counters();

export function statsFor(cpId: number): HookCounters {
  let c = perCp.get(cpId);
  if (c === undefined) {
    c = counters();
    perCp.set(cpId, c);
  }
  return c;
}

type Field = 'calls' | 'ok' | 'rejects' | 'timeouts' | 'failures' | 'unknown_source';

export function count(cpId: number, field: Field): void {
  statsFor(cpId)[field]++;
  total[field]++;
}

export function recordLatency(cpId: number, ms: number): void {
  statsFor(cpId).latency.observe(ms);
  total.latency.observe(ms);
}

function view(c: HookCounters): Record<string, unknown> {
  return {
    calls: c.calls,
    ok: c.ok,
    rejects: c.rejects,
    timeouts: c.timeouts,
    failures: c.failures,
    unknown_source: c.unknown_source,
    latency_ms: {
      count: c.latency.count,
      mean: c.latency.count === 0 ? 0 : Number((c.latency.sum / c.latency.count).toFixed(3)),
      p50_le: c.latency.quantile(0.5),
      p99_le: c.latency.quantile(0.99),
      buckets: c.latency.buckets(),
    },
  };
}

/** extscript_stats: every connection point's figures, or one's. */
export function statsView(cpId?: number): Record<string, unknown> {
  if (cpId !== undefined) return { cp_id: cpId, ...view(statsFor(cpId)) };
  return {
    total: view(total),
    connection_points: [...perCp.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([id, c]) => ({ cp_id: id, ...view(c) })),
  };
}

for (const f of ['calls', 'ok', 'rejects', 'timeouts', 'failures', 'unknown_source'] as const) {
  defineModuleStatistic({
    group: 'extscript',
    name: f,
    kind: 'counter',
    help: `M4 external script ${f.replace('_', ' ')} (all connection points)`,
    read: () => total[f],
  });
}
defineModuleStatistic({
  group: 'extscript',
  name: 'latency_ms_sum',
  kind: 'counter',
  help: 'Total hook latency, ms',
  read: () => total.latency.sum,
});
defineModuleStatistic({
  group: 'extscript',
  name: 'latency_count',
  kind: 'counter',
  help: 'Hook calls timed',
  read: () => total.latency.count,
});
