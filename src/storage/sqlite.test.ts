import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { binding, runStorageConformance } from './conformance.ts';
import { type SqliteLocationStore, sqliteStorage } from './sqlite.ts';

const dir = mkdtempSync(join(tmpdir(), 'junction-sqlite-'));
let n = 0;
const paths = new Map<object, string>();

runStorageConformance('sqlite', {
  async open() {
    const path = join(dir, `t${n++}.db`);
    const s = sqliteStorage(path);
    paths.set(s, path);
    return s;
  },
  async reopen(s) {
    const path = paths.get(s)!;
    await s.close();
    return sqliteStorage(path);
  },
  async cleanup() {
    rmSync(dir, { recursive: true, force: true });
  },
  memoryCache: true,
});

test('sqlite: a database made before the methods column gains it, and its rows load', async () => {
  const own = mkdtempSync(join(tmpdir(), 'junction-sqlite-old-'));
  const path = join(own, 'old.db');
  const db = new DatabaseSync(path);
  db.exec(`CREATE TABLE location (aor TEXT NOT NULL, contact TEXT NOT NULL, expires INTEGER NOT NULL,
    q REAL NOT NULL, callid TEXT NOT NULL, cseq INTEGER NOT NULL, path TEXT NOT NULL, received TEXT,
    socket TEXT, user_agent TEXT, instance TEXT, reg_id INTEGER, flags INTEGER NOT NULL,
    last_modified INTEGER NOT NULL, PRIMARY KEY (aor, contact))`);
  db.prepare(
    `INSERT INTO location VALUES ('o', 'sip:o@h', ?, 1, 'c', 1, '[]', NULL, NULL, NULL, NULL, NULL, 0, 1)`,
  ).run(Date.now() + 60_000);
  db.close();
  const s = sqliteStorage(path);
  try {
    const [b] = await s.location.get('o');
    assert.equal(b?.contact, 'sip:o@h');
    assert.equal(b?.methods, undefined);
    await s.location.update('o', { put: [binding('o', 'sip:o2@h', { methods: ['INVITE'] })], remove: [] });
  } finally {
    await s.close();
  }
  const again = sqliteStorage(path);
  try {
    assert.deepEqual((await again.location.get('o')).find((x) => x.contact === 'sip:o2@h')?.methods, [
      'INVITE',
    ]);
  } finally {
    await again.close();
    rmSync(own, { recursive: true, force: true });
  }
});

test('sqlite: writes of one loop turn share one commit', async () => {
  const own = mkdtempSync(join(tmpdir(), 'junction-sqlite-batch-'));
  const path = join(own, 'batch.db');
  const s = sqliteStorage(path);
  const loc = s.location as SqliteLocationStore;
  await Promise.all(
    Array.from({ length: 500 }, (_, i) =>
      loc.update(`a${i}`, { put: [binding(`a${i}`, `sip:a${i}@h`)], remove: [] }),
    ),
  );
  assert.equal(loc.operations, 500);
  assert.ok(loc.commits <= 2, `commits ${loc.commits}`);
  await s.close();
  rmSync(own, { recursive: true, force: true });
});
