/**
 * A latency histogram with fixed bucket bounds (ms): Prometheus-style cumulative buckets, quantile
 * estimates read from the buckets, and statistics (`<name>_le_<bound>` … `_le_inf`, `_sum`,
 * `_count`). Observing is one loop over a short array: no allocation per sample.
 */
import { defineModuleStatistic } from './statistics.ts';

/** Default bounds, ms: sub-millisecond resolution where loopback hooks live, up to 10 s. */
export const LATENCY_BOUNDS_MS: readonly number[] = [
  0.25, 0.5, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000,
];

export class Histogram {
  readonly bounds: readonly number[];
  /** counts[i]: samples ≤ bounds[i] and > bounds[i-1] (not cumulative); the last slot is +Inf. */
  readonly counts: number[];
  count = 0;
  sum = 0;

  constructor(bounds: readonly number[] = LATENCY_BOUNDS_MS) {
    this.bounds = [...bounds].sort((a, b) => a - b);
    this.counts = new Array<number>(this.bounds.length + 1).fill(0);
  }

  observe(v: number): void {
    let i = 0;
    while (i < this.bounds.length && v > (this.bounds[i] as number)) i++;
    (this.counts[i] as number)++;
    this.count++;
    this.sum += v;
  }

  /** Observations ≤ bounds[i] (i = bounds.length: all of them). */
  cumulative(i: number): number {
    let n = 0;
    for (let j = 0; j <= i; j++) n += this.counts[j] as number;
    return n;
  }

  /** Upper bound of the bucket holding quantile q (0-1); Infinity beyond the last bound, 0 when empty. */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.ceil(q * this.count);
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i] as number;
      if (seen >= rank) return i < this.bounds.length ? (this.bounds[i] as number) : Number.POSITIVE_INFINITY;
    }
    return Number.POSITIVE_INFINITY;
  }

  /** `{ "le_0.25": n, …, "le_inf": n }`, cumulative as Prometheus buckets. */
  buckets(): Record<string, number> {
    const out: Record<string, number> = {};
    let acc = 0;
    for (let i = 0; i < this.counts.length; i++) {
      acc += this.counts[i] as number;
      out[i < this.bounds.length ? `le_${this.bounds[i]}` : 'le_inf'] = acc;
    }
    return out;
  }

  /** Prometheus text lines of this histogram (`<metric>_bucket{le=..}`, `_sum`, `_count`). */
  prometheus(metric: string, labels = ''): string[] {
    const lines: string[] = [];
    let acc = 0;
    const sep = labels === '' ? '' : `${labels},`;
    for (let i = 0; i < this.counts.length; i++) {
      acc += this.counts[i] as number;
      const le = i < this.bounds.length ? String(this.bounds[i]) : '+Inf';
      lines.push(`${metric}_bucket{${sep}le="${le}"} ${acc}`);
    }
    const l = labels === '' ? '' : `{${labels}}`;
    lines.push(`${metric}_sum${l} ${this.sum}`, `${metric}_count${l} ${this.count}`);
    return lines;
  }

  /** Declare it as module statistics `group:name_le_*`, `group:name_sum`, `group:name_count`. */
  define(group: string, name: string, help: string): void {
    this.bounds.forEach((b, i) => {
      defineModuleStatistic({
        group,
        name: `${name}_le_${b}`,
        kind: 'counter',
        help: `${help} (≤ ${b})`,
        read: () => this.cumulative(i),
      });
    });
    const all = this.bounds.length;
    defineModuleStatistic({
      group,
      name: `${name}_le_inf`,
      kind: 'counter',
      help,
      read: () => this.cumulative(all),
    });
    defineModuleStatistic({
      group,
      name: `${name}_sum`,
      kind: 'counter',
      help,
      read: () => Math.round(this.sum),
    });
    defineModuleStatistic({ group, name: `${name}_count`, kind: 'counter', help, read: () => this.count });
  }
}
