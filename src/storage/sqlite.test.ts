import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
});

test('sqlite: writes of one loop turn share one commit', async () => {
  const path = join(dir, 'batch.db');
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
});
