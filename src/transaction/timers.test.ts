import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import { arm, backoff, type QueueItem, resolveTimers, TimerQueue } from './timers.ts';

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

test('TimerQueue: items come due in insertion order after the duration, one setTimeout for the queue', () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const fired: string[] = [];
    const q = new TimerQueue<{ qnext: QueueItem | undefined; qdue: number; name: string }>(
      100,
      (it) => fired.push(it.name),
      () => {},
    );
    const a = { qnext: undefined, qdue: 0, name: 'a' };
    const b = { qnext: undefined, qdue: 0, name: 'b' };
    q.push(a);
    q.push(b);
    mock.timers.tick(99);
    assert.deepEqual(fired, []);
    mock.timers.tick(1);
    assert.deepEqual(fired, ['a', 'b']);
    // An empty queue arms again on the next push; clear() drops what is pending.
    q.push({ qnext: undefined, qdue: 0, name: 'c' });
    mock.timers.tick(100);
    assert.deepEqual(fired, ['a', 'b', 'c']);
    q.push({ qnext: undefined, qdue: 0, name: 'd' });
    q.clear();
    mock.timers.tick(200);
    assert.deepEqual(fired, ['a', 'b', 'c']);
  } finally {
    mock.timers.reset();
  }
});

test('TimerQueue: with a real clock, later items wait for their own deadline; a throwing callback is reported', async () => {
  const fired: Array<[string, number]> = [];
  const seen: string[] = [];
  const t0 = performance.now();
  const q = new TimerQueue<{ qnext: QueueItem | undefined; qdue: number; name: string }>(
    30,
    (it) => {
      fired.push([it.name, performance.now() - t0]);
      if (it.name === 'a') throw new Error('boom');
    },
    (err) => seen.push((err as Error).message),
  );
  q.push({ qnext: undefined, qdue: 0, name: 'a' });
  await new Promise((r) => setTimeout(r, 15));
  q.push({ qnext: undefined, qdue: 0, name: 'b' });
  const deadline = Date.now() + 2000;
  while (fired.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(
    fired.map((f) => f[0]),
    ['a', 'b'],
  );
  assert.ok(fired[0][1] >= 29, `a fired after ${fired[0][1]} ms`);
  assert.ok(fired[1][1] >= 44, `b fired after ${fired[1][1]} ms`);
  assert.deepEqual(seen, ['boom']);
});
