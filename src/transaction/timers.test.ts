import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import { arm, backoff, resolveTimers } from './timers.ts';

test('RFC 3261 Table 4 defaults, with RFC 6026 Timers L and M', () => {
  const t = resolveTimers();
  assert.equal(t.t1, 500);
  assert.equal(t.t2, 4000);
  assert.equal(t.t4, 5000);
  assert.equal(t.A, 500);
  assert.equal(t.B, 32000);
  assert.equal(t.C, 180000);
  assert.equal(t.D, 32000);
  assert.equal(t.E, 500);
  assert.equal(t.F, 32000);
  assert.equal(t.G, 500);
  assert.equal(t.H, 32000);
  assert.equal(t.I, 5000);
  assert.equal(t.J, 32000);
  assert.equal(t.K, 5000);
  assert.equal(t.L, 32000);
  assert.equal(t.M, 32000);
  assert.equal(t.tryingDelay, 200);
});

test('timers derive from T1 and T4; frTimer sets F; frInvTimer is an alias of timerC', () => {
  const t = resolveTimers({ t1: 10, t4: 50 });
  assert.equal(t.B, 640);
  assert.equal(t.F, 640);
  assert.equal(t.H, 640);
  assert.equal(t.J, 640);
  assert.equal(t.L, 640);
  assert.equal(t.M, 640);
  assert.equal(t.I, 50);
  assert.equal(t.K, 50);
  assert.equal(resolveTimers({ frTimer: 30000 }).F, 30000);
  assert.equal(resolveTimers({ frInvTimer: 120000 }).C, 120000);
  assert.equal(resolveTimers({ frInvTimer: 120000, timerC: 200000 }).C, 200000);
  assert.equal(resolveTimers({ timerC: 1000, t1: 10 }).maxInvLifetime, 1000 + 2 * 640);
});

test('waitTimer (Kamailio wt_timer) caps the INVITE post-final waits D, L, M and nothing else', () => {
  const t = resolveTimers({ waitTimer: 5000 });
  assert.deepEqual([t.D, t.L, t.M], [5000, 5000, 5000]);
  assert.deepEqual([t.B, t.F, t.H, t.I, t.J, t.K], [32000, 32000, 32000, 5000, 32000, 5000]);
  // A cap above the RFC values changes nothing.
  assert.equal(resolveTimers({ waitTimer: 60000 }).L, 32000);
});

test('invalid timer values are refused at construction', () => {
  assert.throws(() => resolveTimers({ t1: -1 }), RangeError);
  assert.throws(() => resolveTimers({ timerC: Number.NaN }), RangeError);
});

test('backoff doubles up to the cap', () => {
  assert.equal(backoff(500, 4000), 1000);
  assert.equal(backoff(4000, 4000), 4000);
  assert.equal(backoff(3000, 4000), 4000);
});

test('a throwing timer callback is reported, never rethrown', () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const seen: unknown[] = [];
    const target = { n: 0 };
    arm(
      (t: { n: number }) => {
        t.n++;
        throw new Error('boom');
      },
      5,
      target,
      (err, where) => seen.push([(err as Error).message, where]),
    );
    mock.timers.tick(5);
    assert.equal(target.n, 1);
    assert.deepEqual(seen, [['boom', 'timer']]);
  } finally {
    mock.timers.reset();
  }
});
