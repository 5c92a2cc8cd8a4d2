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

export interface TurnBatchOptions {
  /**
   * Gather items for this long (ms) before running them, instead of one event-loop turn: at a
   * few hundred writes/s each turn carries one write, so a short window is what shares a commit.
   */
  readonly windowMs?: number;
  /** Run at once when this many items are queued (bounds the batch and its latency). */
  readonly maxItems?: number;
}

/** Items pushed during one event-loop turn (or window), handed to `run` together. */
export class TurnBatch<T> {
  private queue: T[] = [];
  private scheduled = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly run: (batch: T[]) => void;
  private readonly windowMs: number;
  private readonly maxItems: number;

  constructor(run: (batch: T[]) => void, opts: TurnBatchOptions = {}) {
    this.run = run;
    this.windowMs = opts.windowMs ?? 0;
    this.maxItems = opts.maxItems ?? Number.POSITIVE_INFINITY;
  }

  push(item: T): void {
    this.queue.push(item);
    if (this.queue.length >= this.maxItems) {
      this.flush();
      return;
    }
    if (!this.scheduled) {
      this.scheduled = true;
      if (this.windowMs > 0) this.timer = setTimeout(() => this.flush(), this.windowMs);
      else setImmediate(() => this.flush());
    }
  }

  /** Run what is queued now (close, reads that must see it, tests). */
  flush(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.scheduled = false;
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    this.run(batch);
  }
}
