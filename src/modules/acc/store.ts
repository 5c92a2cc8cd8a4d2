/**
 * Where call records go: the SQLite database of `storage:` (table `acc`, all record tables in one
 * with a `tbl` column), or a bounded in-memory list (memory / redis storage), and optionally a JSON
 * lines file as well. SQLite writes are queued and committed once per event-loop turn.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { inTransaction, TurnBatch } from '../../storage/sqlite_batch.ts';
import type { CallRecord, CdrQuery } from './record.ts';

export interface CdrStore {
  readonly kind: string;
  add(r: CallRecord): void;
  query(q: CdrQuery): Promise<CallRecord[]>;
  /** Write what is queued, close files. */
  close(): Promise<void>;
}

const COLUMNS = [
  'callid',
  'from_uri',
  'from_tag',
  'to_uri',
  'to_tag',
  'ruri',
  'source',
  'cp_id',
  'tp_id',
  'hook',
  'start_ts',
  'answer_ts',
  'end_ts',
  'duration',
  'status',
  'reason',
  'hangup',
  'comment',
] as const;

export const ACC_SCHEMA = `
CREATE TABLE IF NOT EXISTS acc (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  tbl TEXT NOT NULL,
  callid TEXT NOT NULL,
  from_uri TEXT NOT NULL,
  from_tag TEXT NOT NULL,
  to_uri TEXT NOT NULL,
  to_tag TEXT NOT NULL,
  ruri TEXT NOT NULL,
  source TEXT NOT NULL,
  cp_id TEXT,
  tp_id TEXT,
  hook TEXT,
  start_ts INTEGER NOT NULL,
  answer_ts INTEGER,
  end_ts INTEGER NOT NULL,
  duration INTEGER NOT NULL,
  status INTEGER NOT NULL,
  reason TEXT NOT NULL,
  hangup TEXT NOT NULL,
  comment TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS acc_start ON acc (start_ts);
CREATE INDEX IF NOT EXISTS acc_callid ON acc (callid);
`;

function matches(r: CallRecord, q: CdrQuery): boolean {
  return (
    (q.since === undefined || r.start_ts >= q.since) &&
    (q.until === undefined || r.start_ts < q.until) &&
    (q.callid === undefined || r.callid === q.callid) &&
    (q.table === undefined || r.table === q.table)
  );
}

/** The newest `max` records in memory (a ring: adding never moves the others). */
export class MemoryCdrStore implements CdrStore {
  readonly kind: string = 'memory';
  private readonly ring: Array<CallRecord | undefined>;
  private nextId = 1;

  constructor(max = 10000) {
    this.ring = new Array<CallRecord | undefined>(max);
  }

  add(r: CallRecord): void {
    r.id = this.nextId++;
    this.ring[r.id % this.ring.length] = r;
  }

  async query(q: CdrQuery): Promise<CallRecord[]> {
    const limit = q.limit ?? 100;
    const out: CallRecord[] = [];
    const n = this.ring.length;
    for (let id = this.nextId - 1; id > 0 && id >= this.nextId - n && out.length < limit; id--) {
      const r = this.ring[id % n];
      if (r !== undefined && matches(r, q)) out.push(r);
    }
    return out;
  }

  async close(): Promise<void> {}
}

interface Row extends Omit<CallRecord, 'table'> {
  tbl: string;
}

export function fromRow(r: Row): CallRecord {
  const { tbl, ...rest } = r;
  return {
    ...rest,
    id: Number(r.id),
    table: tbl,
    start_ts: Number(r.start_ts),
    answer_ts: r.answer_ts === null ? null : Number(r.answer_ts),
    end_ts: Number(r.end_ts),
    duration: Number(r.duration),
    status: Number(r.status),
  };
}

/** Records selected from an open database (the store, and `junction cdr` reading the file). */
export function queryDatabase(db: DatabaseSync, q: CdrQuery): CallRecord[] {
  const where: string[] = [];
  const args: Array<string | number> = [];
  if (q.since !== undefined) {
    where.push('start_ts >= ?');
    args.push(q.since);
  }
  if (q.until !== undefined) {
    where.push('start_ts < ?');
    args.push(q.until);
  }
  if (q.callid !== undefined) {
    where.push('callid = ?');
    args.push(q.callid);
  }
  if (q.table !== undefined) {
    where.push('tbl = ?');
    args.push(q.table);
  }
  args.push(q.limit ?? 100);
  const sql = `SELECT * FROM acc ${where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`} ORDER BY id DESC LIMIT ?`;
  return (db.prepare(sql).all(...args) as unknown as Row[]).map(fromRow);
}

export class SqliteCdrStore implements CdrStore {
  readonly kind: string = 'sqlite';
  private readonly db: DatabaseSync;
  private readonly insert: StatementSync;
  private readonly batch = new TurnBatch<CallRecord>((batch) => this.write(batch));
  private readonly onError: (err: unknown) => void;
  private nextId = 0;

  constructor(db: DatabaseSync, onError: (err: unknown) => void) {
    this.db = db;
    this.onError = onError;
    db.exec(ACC_SCHEMA);
    this.insert = db.prepare(
      `INSERT INTO acc (tbl, ${COLUMNS.join(', ')}) VALUES (?, ${COLUMNS.map(() => '?').join(', ')})`,
    );
    const row = db.prepare('SELECT MAX(id) AS m FROM acc').get() as { m: number | null } | undefined;
    this.nextId = Number(row?.m ?? 0) + 1;
  }

  add(r: CallRecord): void {
    r.id = this.nextId++;
    this.batch.push(r);
  }

  private write(batch: CallRecord[]): void {
    try {
      inTransaction(this.db, () => {
        for (const r of batch) this.insert.run(r.table, ...COLUMNS.map((c) => r[c]));
      });
    } catch (err) {
      this.onError(err);
    }
  }

  async query(q: CdrQuery): Promise<CallRecord[]> {
    this.batch.flush();
    return queryDatabase(this.db, q);
  }

  async close(): Promise<void> {
    this.batch.flush();
    this.db.close();
  }
}

/** Every record also written as one JSON line (file opened for appending). */
export class JsonLinesCdrStore implements CdrStore {
  readonly kind: string;
  private readonly inner: CdrStore;
  private readonly out: WriteStream;

  constructor(inner: CdrStore, path: string, onError: (err: unknown) => void) {
    this.inner = inner;
    this.kind = `${inner.kind}+jsonl`;
    this.out = createWriteStream(path, { flags: 'a', mode: 0o640 });
    this.out.on('error', onError);
  }

  add(r: CallRecord): void {
    this.inner.add(r);
    this.out.write(`${JSON.stringify(r)}\n`);
  }

  query(q: CdrQuery): Promise<CallRecord[]> {
    return this.inner.query(q);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.out.end(resolve));
    await this.inner.close();
  }
}
