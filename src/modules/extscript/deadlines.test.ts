import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Deadlines, Expiring } from './deadlines.ts';

class Entry extends Expiring {
  expiredAt: number | undefined;
  readonly name: string;
  readonly log: string[];
  constructor(name: string, log: string[]) {
    super();
    this.name = name;
    this.log = log;
  }
  expire(): void {
    this.expiredAt = performance.now();
    this.log.push(this.name);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('Deadlines', () => {
  it('expires entries at their deadline, in order, per timeout value; removed ones never', async () => {
    const d = new Deadlines();
    const log: string[] = [];
    const t0 = performance.now();
    const a = new Entry('a', log);
    const b = new Entry('b', log);
    const c = new Entry('c', log);
    const short = new Entry('short', log);
    d.add(a, t0, 60);
    d.add(b, t0, 60);
    d.add(c, t0 + 20, 60);
    d.add(short, t0, 20);
    d.remove(b);
    d.remove(b); // twice is harmless
    await sleep(150);
    assert.deepEqual(log, ['short', 'a', 'c']);
    assert.equal(b.expiredAt, undefined);
    for (const [e, at] of [
      [short, 20],
      [a, 60],
      [c, 80],
    ] as const) {
      const late = e.expiredAt! - t0 - at;
      assert.ok(late >= -0.5, `${e.name} expired ${-late} ms early`);
      assert.ok(late < 40, `${e.name} expired ${late} ms late`);
    }
    assert.equal(a.list, undefined, 'an expired entry has left its list');
  });

  it('keeps working after its list emptied, and for entries added while armed', async () => {
    const d = new Deadlines();
    const log: string[] = [];
    const first = new Entry('first', log);
    d.add(first, performance.now(), 30);
    d.remove(first);
    await sleep(10);
    const second = new Entry('second', log);
    const t1 = performance.now();
    d.add(second, t1, 30);
    await sleep(80);
    assert.deepEqual(log, ['second']);
    assert.ok(second.expiredAt! - t1 >= 29.5, 'not expired at the first entry’s (earlier) deadline');
  });
});
