import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Histogram } from './histogram.ts';
import { moduleStatistics, Statistics } from './statistics.ts';

test('a histogram counts into cumulative buckets and is exposed as statistics', () => {
  const h = new Histogram([10, 1, 5]);
  for (const v of [0.5, 1, 3, 7, 12, 100]) h.observe(v);
  assert.deepEqual(h.bounds, [1, 5, 10]);
  assert.deepEqual(
    [0, 1, 2, 3].map((i) => h.cumulative(i)),
    [2, 3, 4, 6],
  );
  h.define('test_hist', 'latency_ms', 'Test latency');
  const stats = new Statistics();
  for (const d of moduleStatistics()) if (d.group === 'test_hist') stats.define(d);
  assert.deepEqual(stats.get(['test_hist:']), {
    'test_hist:latency_ms_le_1': 2,
    'test_hist:latency_ms_le_5': 3,
    'test_hist:latency_ms_le_10': 4,
    'test_hist:latency_ms_le_inf': 6,
    'test_hist:latency_ms_sum': 124,
    'test_hist:latency_ms_count': 6,
  });
});
