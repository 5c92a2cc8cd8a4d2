import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { sqliteStorage } from '../storage/sqlite.ts';
import { main } from './main.ts';

const dir = mkdtempSync(join(tmpdir(), 'junction-sub-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function io() {
  const o = { out: '', err: '' };
  return {
    o,
    io: {
      out: (t: string): void => {
        o.out += t;
      },
      err: (t: string): void => {
        o.err += t;
      },
    },
  };
}

test('junction subscriber add | list | rm on the configured SQLite database; the password is never printed', async () => {
  const cfg = join(dir, 'j.yaml');
  writeFileSync(cfg, 'storage: sqlite:./db/j.db\n');
  let r = io();
  assert.equal(
    await main(['subscriber', 'add', 'alice@Example.com', 'hunter2', '-c', cfg], r.io),
    0,
    r.o.err,
  );
  assert.match(r.o.out, /alice@example.com saved/);
  r = io();
  assert.equal(await main(['subscriber', 'add', 'bob', 'example.com', 'pw', '-c', cfg], r.io), 0, r.o.err);
  r = io();
  assert.equal(await main(['subscriber', 'list', '-c', cfg], r.io), 0);
  assert.match(r.o.out, /alice@example.com/);
  assert.match(r.o.out, /bob@example.com/);
  assert.doesNotMatch(r.o.out + r.o.err, /hunter2/);
  const s = sqliteStorage(join(dir, 'db/j.db'));
  const alice = await s.subscribers.get('alice', 'example.com');
  await s.close();
  assert.equal(alice?.ha1.length, 32);
  r = io();
  assert.equal(await main(['subscriber', 'rm', 'alice@example.com', '-c', cfg], r.io), 0);
  r = io();
  assert.equal(await main(['subscriber', 'rm', 'alice@example.com', '-c', cfg], r.io), 1);
  r = io();
  assert.equal(await main(['subscriber', 'add', 'alice@example.com', '-c', cfg], r.io), 2);
  assert.match(r.o.err, /missing PASSWORD/);
  r = io();
  assert.equal(await main(['subscriber', 'frob', '-c', cfg], r.io), 2);
});
