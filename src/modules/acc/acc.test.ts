import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { MiError } from '../../mi/command.ts';
import { openDatabase } from '../../storage/sqlite.ts';
import { Dialogs, setDialogs } from '../dialog/service.ts';
import { fakeContext, request } from '../testing/fake_context.ts';
import { ksr } from '../testing/ksr.ts';
import { cdrList } from './index.ts';
import { type CallRecord, parseSince } from './record.ts';
import { AccService, setAccService } from './service.ts';
import { MemoryCdrStore, SqliteCdrStore } from './store.ts';

function rec(over: Partial<CallRecord>): CallRecord {
  return {
    id: 0,
    table: 'acc',
    callid: 'c',
    from_uri: 'sip:a@x',
    from_tag: 'f',
    to_uri: 'sip:b@x',
    to_tag: '',
    ruri: 'sip:b@x',
    source: 'udp:127.0.0.1:5060',
    cp_id: null,
    tp_id: null,
    hook: null,
    start_ts: 1000,
    answer_ts: null,
    end_ts: 2000,
    duration: 0,
    status: 486,
    reason: 'Busy Here',
    hangup: 'none',
    comment: '',
    ...over,
  };
}

afterEach(() => {
  setAccService(undefined);
  setDialogs(undefined);
});

describe('call records', () => {
  it('parseSince: ISO, epoch seconds and ages', () => {
    const now = 10_000_000;
    assert.equal(parseSince('15m', now), now - 15 * 60000);
    assert.equal(parseSince('2h', now), now - 2 * 3600000);
    assert.equal(parseSince('1763892000', now), 1763892000000);
    assert.equal(parseSince('2026-11-23T10:00:00Z', now), Date.parse('2026-11-23T10:00:00Z'));
    assert.equal(parseSince('yesterday-ish', now), undefined);
  });

  it('the SQLite store batches writes and answers queries newest first, by time, Call-ID and table', async () => {
    const db = openDatabase(':memory:');
    const errors: unknown[] = [];
    const store = new SqliteCdrStore(db, (e) => errors.push(e));
    store.add(rec({ callid: 'a', start_ts: 1000, cp_id: '2' }));
    store.add(rec({ callid: 'b', start_ts: 2000, status: 200, answer_ts: 2100 }));
    store.add(rec({ callid: 'c', start_ts: 3000, table: 'missed_calls' }));
    const all = await store.query({});
    assert.deepEqual(
      all.map((r) => r.callid),
      ['c', 'b', 'a'],
    );
    assert.equal(all[2]!.cp_id, '2');
    assert.equal(all[1]!.answer_ts, 2100);
    assert.deepEqual(
      (await store.query({ since: 1500, table: 'acc' })).map((r) => r.callid),
      ['b'],
    );
    assert.deepEqual(
      (await store.query({ callid: 'a' })).map((r) => r.status),
      [486],
    );
    assert.equal((await store.query({ limit: 1 })).length, 1);
    assert.deepEqual(errors, []);
    await store.close();
  });

  it('the memory store keeps the newest records only', async () => {
    const store = new MemoryCdrStore(2);
    for (const c of ['a', 'b', 'c']) store.add(rec({ callid: c }));
    assert.deepEqual(
      (await store.query({})).map((r) => r.callid),
      ['c', 'b'],
    );
  });

  it('acc_db_request records the failed request with its dialog variables; cdr_list returns it', async () => {
    const svc = new AccService(new MemoryCdrStore());
    setAccService(svc);
    setDialogs(new Dialogs());
    const ctx = fakeContext(request(), { kind: 'failure', replyCode: 486 });
    const K = ksr(ctx) as unknown as {
      acc: { acc_db_request(c: string, t: string): number };
      pv: { sets(n: string, v: string): void };
    };
    // $dlg_var cannot create a dialog outside the request route: no cp_id here.
    K.pv.sets('$dlg_var(cp_id)', '2');
    assert.equal(K.acc.acc_db_request('Missed call', 'missed_calls'), 1);
    assert.equal(K.acc.acc_db_request('x', 'bad table;'), -1);
    const r = (await cdrList.handler({ table: 'missed_calls' }, { transport: 'cli' })) as {
      Records: Array<Record<string, unknown>>;
    };
    assert.equal(r.Records.length, 1);
    assert.equal(r.Records[0]!.status, 486);
    assert.equal(r.Records[0]!.reason, 'Missed call');
    assert.equal(svc.stats.missed_calls, 1);
    await assert.rejects(
      Promise.resolve().then(() => cdrList.handler({ since: 'soon' }, { transport: 'cli' })),
      (e: MiError) => e.code === 400,
    );
  });
});
