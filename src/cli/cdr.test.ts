import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SqliteCdrStore } from '../modules/acc/store.ts';
import { openDatabase } from '../storage/sqlite.ts';
import { cdrCli } from './cdr.ts';
import type { Io } from './main.ts';

const tmp = mkdtempSync(join(tmpdir(), 'junction-cdr-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function io(): Io & { stdout: string; stderr: string } {
  const o = {
    stdout: '',
    stderr: '',
    out(t: string) {
      o.stdout += t;
    },
    err(t: string) {
      o.stderr += t;
    },
  };
  return o;
}

describe('junction cdr', () => {
  it('reads the records of the configured SQLite database, filtered and as JSON lines', async () => {
    const db = join(tmp, 'j.db');
    const store = new SqliteCdrStore(openDatabase(db), (e) => {
      throw e;
    });
    const now = Date.now();
    const base = {
      id: 0,
      from_uri: 'sip:a@x',
      from_tag: 'f',
      to_uri: 'sip:b@x',
      to_tag: 't',
      ruri: 'sip:b@x',
      source: 'udp:127.0.0.1:5060',
      cp_id: '2',
      tp_id: '10',
      hook: 'ok',
      answer_ts: null,
      end_ts: now,
      duration: 0,
      hangup: 'none',
      comment: '',
    };
    store.add({
      ...base,
      table: 'acc',
      callid: 'old',
      start_ts: now - 7200_000,
      status: 486,
      reason: 'Busy Here',
    });
    store.add({
      ...base,
      table: 'acc',
      callid: 'new',
      start_ts: now - 60_000,
      status: 487,
      reason: 'Request Terminated',
    });
    await store.close();
    const cfg = join(tmp, 'c.yaml');
    writeFileSync(cfg, `storage: sqlite:${db}\n`);
    const a = io();
    assert.equal(await cdrCli(['--since', '1h', '-c', cfg], a), 0, a.stderr);
    assert.match(a.stdout, /487 Request Terminated/);
    assert.doesNotMatch(a.stdout, /Busy Here/);
    assert.match(a.stdout, /^1 record$/m);
    const j = io();
    assert.equal(await cdrCli(['--json', '--callid', 'old', '-c', cfg], j), 0, j.stderr);
    const rec = JSON.parse(j.stdout.trim()) as Record<string, unknown>;
    assert.equal(rec.status, 486);
    assert.equal(rec.tp_id, '10');
    assert.equal(typeof rec.start_ts, 'string');
  });

  it('bad options are usage errors; memory storage points at cdr_list', async () => {
    const a = io();
    assert.equal(await cdrCli(['--since', 'later'], a), 2);
    assert.match(a.stderr, /bad --since/);
    const cfg = join(tmp, 'm.yaml');
    writeFileSync(cfg, 'storage: memory\n');
    const b = io();
    assert.equal(await cdrCli(['-c', cfg], b), 1);
    assert.match(b.stderr, /cdr_list/);
  });
});
