/**
 * The SQLite backend (node:sqlite, WAL). Registrations survive a restart.
 *
 * The location table is mirrored in memory (loaded at open): reads never touch the disk. Writes
 * are queued and committed together in one transaction every COMMIT_WINDOW_MS (or at once when
 * COMMIT_MAX_OPS are queued), so REGISTERs arriving close together share a commit (the commit,
 * not the row, is what costs), and a write's promise settles when its commit did: a failed commit
 * rejects with StorageError and leaves the mirror unchanged (the REGISTER gets a 500). With WAL
 * and synchronous=NORMAL a commit is a few tens of microseconds, so the loop is never blocked for
 * long; the window adds at most COMMIT_WINDOW_MS to a REGISTER's answer.
 *
 * Subscribers are read from the database on each lookup (a primary-key read), so subscribers that
 * `junction subscriber add` writes from another process are seen at once.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { MemoryLocationStore } from './memory.ts';
import { inTransaction, TurnBatch } from './sqlite_batch.ts';
import {
  type AorUpdate,
  type Binding,
  type Storage,
  StorageError,
  type Subscriber,
  type SubscriberStore,
} from './types.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS location (
  aor TEXT NOT NULL,
  contact TEXT NOT NULL,
  expires INTEGER NOT NULL,
  q REAL NOT NULL,
  callid TEXT NOT NULL,
  cseq INTEGER NOT NULL,
  path TEXT NOT NULL,
  received TEXT,
  socket TEXT,
  user_agent TEXT,
  instance TEXT,
  reg_id INTEGER,
  flags INTEGER NOT NULL,
  last_modified INTEGER NOT NULL,
  methods TEXT,
  PRIMARY KEY (aor, contact)
);
CREATE INDEX IF NOT EXISTS location_expires ON location (expires);
CREATE TABLE IF NOT EXISTS subscriber (
  username TEXT NOT NULL,
  domain TEXT NOT NULL,
  ha1 TEXT NOT NULL,
  ha1b TEXT NOT NULL,
  ha1_sha256 TEXT NOT NULL,
  PRIMARY KEY (username, domain)
);
`;

/** Open (creating it and its folder when missing) a database with Junction's tables. */
export function openDatabase(path: string): DatabaseSync {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new DatabaseSync(path);
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('PRAGMA synchronous = NORMAL');
  db.exec('PRAGMA busy_timeout = 250');
  db.exec(SCHEMA);
  migrate(db);
  return db;
}

/** Columns added since the first schema, added to databases created before them. */
function migrate(db: DatabaseSync): void {
  const cols = db.prepare('PRAGMA table_info(location)').all() as unknown as Array<{ name: string }>;
  if (!cols.some((c) => c.name === 'methods')) db.exec('ALTER TABLE location ADD COLUMN methods TEXT');
}

interface Row {
  aor: string;
  contact: string;
  expires: number;
  q: number;
  callid: string;
  cseq: number;
  path: string;
  received: string | null;
  socket: string | null;
  user_agent: string | null;
  instance: string | null;
  reg_id: number | null;
  flags: number;
  last_modified: number;
  methods: string | null;
}

function fromRow(r: Row): Binding {
  return compact({
    aor: r.aor,
    contact: r.contact,
    expires: Number(r.expires),
    q: Number(r.q),
    callId: r.callid,
    cseq: Number(r.cseq),
    path: JSON.parse(r.path) as string[],
    received: r.received ?? undefined,
    socket: r.socket ?? undefined,
    userAgent: r.user_agent ?? undefined,
    instance: r.instance ?? undefined,
    regId: r.reg_id === null ? undefined : Number(r.reg_id),
    methods: r.methods === null ? undefined : r.methods === '' ? [] : r.methods.split(','),
    flags: Number(r.flags),
    lastModified: Number(r.last_modified),
  });
}

/** Drop undefined optional fields, so a binding reads back exactly as it was written. */
export function compact<T extends object>(o: T): T {
  for (const k of Object.keys(o) as Array<keyof T>) if (o[k] === undefined) delete o[k];
  return o;
}

/** How long writes gather before one commit, and the most one commit carries. */
export const COMMIT_WINDOW_MS = 10;
export const COMMIT_MAX_OPS = 512;

type Op =
  | { kind: 'update'; aor: string; change: AorUpdate }
  | { kind: 'removeAor'; aor: string }
  | { kind: 'expire'; now: number }
  | { kind: 'flush' };

interface Pending {
  op: Op;
  resolve: () => void;
  reject: (e: unknown) => void;
}

export class SqliteLocationStore extends MemoryLocationStore {
  private readonly db: DatabaseSync;
  private readonly upsert: StatementSync;
  private readonly del: StatementSync;
  private readonly delAor: StatementSync;
  private readonly delExpired: StatementSync;
  private readonly delAll: StatementSync;
  private readonly batch = new TurnBatch<Pending>((batch) => this.commit(batch), {
    windowMs: COMMIT_WINDOW_MS,
    maxItems: COMMIT_MAX_OPS,
  });
  /** Commits done and operations they carried (for the benchmark / stats). */
  commits = 0;
  operations = 0;

  constructor(db: DatabaseSync) {
    super();
    this.db = db;
    this.upsert = db.prepare(
      `INSERT OR REPLACE INTO location (aor, contact, expires, q, callid, cseq, path, received, socket,
        user_agent, instance, reg_id, flags, last_modified, methods) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
    );
    this.del = db.prepare('DELETE FROM location WHERE aor = ? AND contact = ?');
    this.delAor = db.prepare('DELETE FROM location WHERE aor = ?');
    this.delExpired = db.prepare('DELETE FROM location WHERE expires <= ?');
    this.delAll = db.prepare('DELETE FROM location');
    const now = Date.now();
    for (const r of db.prepare('SELECT * FROM location WHERE expires > ?').all(now) as unknown as Row[]) {
      const b = fromRow(r);
      this.updateSync(b.aor, { put: [b], remove: [] });
    }
  }

  override async update(aor: string, change: AorUpdate): Promise<void> {
    if (change.memoryOnly !== true) await this.enqueue({ kind: 'update', aor, change });
    this.updateSync(aor, change);
  }

  override async removeAor(aor: string): Promise<number> {
    const n = this.getSync(aor, 0).length;
    await this.enqueue({ kind: 'removeAor', aor });
    this.removeAorSync(aor);
    return n;
  }

  override async expire(now: number): Promise<Binding[]> {
    await this.enqueue({ kind: 'expire', now });
    return this.expireSync(now);
  }

  override async flush(): Promise<number> {
    await this.enqueue({ kind: 'flush' });
    return this.flushSync();
  }

  /** Settle every queued write now (close, tests). */
  drain(): void {
    this.batch.flush();
  }

  private enqueue(op: Op): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.batch.push({ op, resolve, reject });
    });
  }

  private commit(batch: Pending[]): void {
    try {
      inTransaction(this.db, () => {
        for (const p of batch) this.apply(p.op);
      });
    } catch (e) {
      const err = new StorageError(`sqlite write failed: ${(e as Error).message}`, e);
      for (const p of batch) p.reject(err);
      return;
    }
    this.commits++;
    this.operations += batch.length;
    for (const p of batch) p.resolve();
  }

  private apply(op: Op): void {
    switch (op.kind) {
      case 'update':
        for (const c of op.change.remove) this.del.run(op.aor, c);
        for (const b of op.change.put) {
          this.upsert.run(
            op.aor,
            b.contact,
            b.expires,
            b.q,
            b.callId,
            b.cseq,
            JSON.stringify(b.path),
            b.received ?? null,
            b.socket ?? null,
            b.userAgent ?? null,
            b.instance ?? null,
            b.regId ?? null,
            b.flags,
            b.lastModified,
            b.methods === undefined ? null : b.methods.join(','),
          );
        }
        return;
      case 'removeAor':
        this.delAor.run(op.aor);
        return;
      case 'expire':
        this.delExpired.run(op.now);
        return;
      case 'flush':
        this.delAll.run();
        return;
    }
  }
}

interface SubRow {
  username: string;
  domain: string;
  ha1: string;
  ha1b: string;
  ha1_sha256: string;
}

function subFromRow(r: SubRow): Subscriber {
  return { username: r.username, domain: r.domain, ha1: r.ha1, ha1b: r.ha1b, ha1Sha256: r.ha1_sha256 };
}

export class SqliteSubscriberStore implements SubscriberStore {
  private readonly sGet: StatementSync;
  private readonly sPut: StatementSync;
  private readonly sDel: StatementSync;
  private readonly sList: StatementSync;
  private readonly sCount: StatementSync;

  constructor(db: DatabaseSync) {
    this.sGet = db.prepare('SELECT * FROM subscriber WHERE username = ? AND domain = ?');
    this.sPut = db.prepare(
      'INSERT OR REPLACE INTO subscriber (username, domain, ha1, ha1b, ha1_sha256) VALUES (?,?,?,?,?)',
    );
    this.sDel = db.prepare('DELETE FROM subscriber WHERE username = ? AND domain = ?');
    this.sList = db.prepare('SELECT * FROM subscriber ORDER BY domain, username');
    this.sCount = db.prepare('SELECT COUNT(*) AS n FROM subscriber');
  }

  async get(username: string, domain: string): Promise<Subscriber | undefined> {
    const r = this.wrap(() => this.sGet.get(username, domain.toLowerCase())) as SubRow | undefined;
    return r === undefined ? undefined : subFromRow(r);
  }
  async put(s: Subscriber): Promise<void> {
    this.wrap(() => this.sPut.run(s.username, s.domain.toLowerCase(), s.ha1, s.ha1b, s.ha1Sha256));
  }
  async remove(username: string, domain: string): Promise<boolean> {
    const r = this.wrap(() => this.sDel.run(username, domain.toLowerCase()));
    return Number(r.changes) > 0;
  }
  async list(): Promise<Subscriber[]> {
    return (this.wrap(() => this.sList.all()) as unknown as SubRow[]).map(subFromRow);
  }
  async count(): Promise<number> {
    const r = this.wrap(() => this.sCount.get()) as { n: number };
    return Number(r.n);
  }

  private wrap<T>(f: () => T): T {
    try {
      return f();
    } catch (e) {
      throw new StorageError(`sqlite: ${(e as Error).message}`, e);
    }
  }
}

export function sqliteStorage(path: string): Storage {
  const db = openDatabase(path);
  const location = new SqliteLocationStore(db);
  return {
    kind: 'sqlite',
    location,
    subscribers: new SqliteSubscriberStore(db),
    async close() {
      location.drain();
      db.close();
    },
  };
}
