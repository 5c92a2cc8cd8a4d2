import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { describe, it } from 'node:test';
import { inTransaction, TurnBatch } from './sqlite_batch.ts';

describe('TurnBatch', () => {
  it('hands the items of one turn to one run, on the next turn', async () => {
    const runs: number[][] = [];
    const b = new TurnBatch<number>((batch) => runs.push(batch));
    b.push(1);
    b.push(2);
    assert.deepEqual(runs, []);
    await new Promise((r) => setImmediate(r));
    b.push(3);
    b.flush();
    b.flush(); // nothing queued: no empty run
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(runs, [[1, 2], [3]]);
  });

  it('with a window, items of several turns share a run; maxItems runs at once', async () => {
    const runs: number[][] = [];
    const b = new TurnBatch<number>((batch) => runs.push(batch), { windowMs: 30, maxItems: 3 });
    b.push(1);
    await new Promise((r) => setImmediate(r));
    b.push(2);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(runs, [], 'still gathering');
    await new Promise((r) => setTimeout(r, 60));
    assert.deepEqual(runs, [[1, 2]]);
    b.push(3);
    b.push(4);
    b.push(5);
    assert.deepEqual(
      runs,
      [
        [1, 2],
        [3, 4, 5],
      ],
      'maxItems reached: run at once',
    );
    b.push(6);
    b.flush();
    await new Promise((r) => setTimeout(r, 60));
    assert.deepEqual(runs, [[1, 2], [3, 4, 5], [6]], 'flush cancels the window timer: no second run');
  });
});

describe('inTransaction', () => {
  it('commits, or rolls back and rethrows the error', () => {
    const db = new DatabaseSync(':memory:');
    db.exec('CREATE TABLE t (x INTEGER PRIMARY KEY)');
    inTransaction(db, () => db.exec('INSERT INTO t VALUES (1)'));
    assert.throws(
      () =>
        inTransaction(db, () => {
          db.exec('INSERT INTO t VALUES (2)');
          db.exec('INSERT INTO t VALUES (1)');
        }),
      /UNIQUE/,
    );
    assert.equal(db.isTransaction, false);
    assert.deepEqual(
      db
        .prepare('SELECT x FROM t')
        .all()
        .map((r) => r.x),
      [1],
    );
    db.close();
  });
});
