import assert from 'node:assert/strict';
import { describe, it, test } from 'node:test';
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
describe('Histogram', () => {
  it('counts into buckets and estimates quantiles from them', () => {
    const h = new Histogram([1, 10, 100]);
    for (const v of [0.5, 0.7, 5, 50, 500]) h.observe(v);
    assert.equal(h.count, 5);
    assert.equal(h.sum, 556.2);
    assert.deepEqual(h.buckets(), { le_1: 2, le_10: 3, le_100: 4, le_inf: 5 });
    assert.equal(h.quantile(0.4), 1);
    assert.equal(h.quantile(0.5), 10);
    assert.equal(h.quantile(1), Number.POSITIVE_INFINITY);
    assert.equal(new Histogram().quantile(0.5), 0);
    assert.deepEqual(h.prometheus('x', 'cp="1"').slice(0, 2), [
      'x_bucket{cp="1",le="1"} 2',
      'x_bucket{cp="1",le="10"} 3',
    ]);
  });
});
