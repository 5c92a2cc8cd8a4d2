import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Histogram } from './histogram.ts';

describe('Histogram', () => {
  it('counts into buckets and estimates quantiles from them', () => {
    const h = new Histogram([1, 10, 100]);
    for (const v of [0.5, 0.7, 5, 50, 500]) h.record(v);
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
