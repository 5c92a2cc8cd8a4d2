/**
 * A latency histogram exposed as statistics: one cumulative counter per upper bound
 * (`<name>_le_<bound>`, Prometheus' `le` convention, the last one `_le_inf`), plus `<name>_sum`
 * and `<name>_count`. Observing is a short loop over a few bounds, no allocation.
 */
import { defineModuleStatistic } from './statistics.ts';

export class Histogram {
  readonly bounds: readonly number[];
  /** Per bucket (not cumulative); the last one is +Inf. */
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(bounds: readonly number[]) {
    this.bounds = [...bounds].sort((a, b) => a - b);
    this.counts = new Array<number>(this.bounds.length + 1).fill(0);
  }

  observe(value: number): void {
    let i = 0;
    while (i < this.bounds.length && value > this.bounds[i]) i++;
    this.counts[i]++;
    this.sum += value;
    this.count++;
  }

  /** Observations ≤ bounds[i] (i = bounds.length: all of them). */
  cumulative(i: number): number {
    let n = 0;
    for (let j = 0; j <= i; j++) n += this.counts[j];
    return n;
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
