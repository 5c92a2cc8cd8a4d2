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
