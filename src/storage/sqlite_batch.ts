/**
 * Writes queued and committed together, once per event-loop turn (setImmediate), in one SQLite
 * transaction: a burst of writes costs one commit (the location store and the acc CDR store).
 */
import type { DatabaseSync } from 'node:sqlite';

/** Run `fn` in one transaction: COMMIT, or ROLLBACK and rethrow `fn`'s (or COMMIT's) error. */
export function inTransaction(db: DatabaseSync, fn: () => void): void {
  db.exec('BEGIN');
  try {
    fn();
    db.exec('COMMIT');
  } catch (e) {
    try {
      if (db.isTransaction) db.exec('ROLLBACK');
    } catch {
      // the original error is the one to report
    }
    throw e;
  }
}

/** Items pushed during one event-loop turn, handed to `run` together on the next. */
export class TurnBatch<T> {
  private queue: T[] = [];
  private scheduled = false;
  private readonly run: (batch: T[]) => void;

  constructor(run: (batch: T[]) => void) {
    this.run = run;
  }

  push(item: T): void {
    this.queue.push(item);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Run what is queued now (close, reads that must see it, tests). */
  flush(): void {
    this.scheduled = false;
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    this.run(batch);
  }
}
