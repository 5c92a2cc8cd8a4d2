/**
 * Dialogs, requests sent by the server, click-to-dial and call records, against a real server
 * with real SIPp parties: dlg_list / dlg_end_dlg (BYE to both sides), a profile limit refusing
 * the N+1th concurrent call, t_uac_dlg answering a 407, click-to-dial (REFER flow, the seed's
 * shell script over the FIFO text protocol, busy and REFER-refused variants), and call records
 * for answered, rejected, cancelled and timed-out calls (cdr_list, `junction cdr`).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { miOverHttp } from '../../src/mi/client.ts';
import {
  assertAllPassed,
  type JunctionTest,
  RELAY_CANCEL_AND_IN_DIALOG,
  UAS,
  withJunction,
} from './call_flow.ts';
import {
  ctdCaller,
  ctdCallerBusy,
  ctdCallerNoAnswer,
  uacByeFromServer,
  uacHold,
  uasChallenge,
} from './dialog_scenarios.ts';
import {
  describeSipp,
  ensureSipp,
  freePort,
  REPO,
  type RunningServer,
  removeTempDirs,
  type SippRun,
  sleep,
  tempDir,
  waitUdpBound,
  writeFile,
  writeScript,
} from './harness.ts';
import {
  sippMessages,
  uacCancel,
  uacExpectFailure,
  uasCancelled,
  uasReject,
  uasSilent,
} from './scenarios.ts';

const execFileP = promisify(execFile);

const SCRIPT = `
export async function ksr_request_route(KSR: Ksr): Promise<void> {
${RELAY_CANCEL_AND_IN_DIALOG}  if (KSR.is_INVITE()) {
    KSR.rr.record_route();
    KSR.dialog.dlg_manage();
    KSR.pv.sets('$dlg_var(cp_id)', '2');
    if (KSR.dialog.profile_size('calls') >= 2) {
      KSR.sl.sl_send_reply(503, 'Too many calls');
      return;
    }
    KSR.dialog.set_dlg_profile('calls');
    KSR.tm.t_on_failure('ksr_failure_missed');
  }
  if ((await KSR.tm.t_relay()) < 0) KSR.sl.sl_reply_error();
}

export function ksr_failure_missed(KSR: Ksr): void {
  KSR.acc.acc_db_request('Missed call', 'missed_calls');
}
`;

interface Mi {
  call(
    method: string,
    params?: unknown,
  ): Promise<{ result?: unknown; error?: { code: number; message: string } }>;
  ok<T>(method: string, params?: unknown): Promise<T>;
}

function mi(http: number): Mi {
  const url = `http://127.0.0.1:${http}/mi`;
  const call = async (method: string, params?: unknown) =>
    (await miOverHttp(url, method, params ?? {}, { timeoutMs: 20000 })) as {
      result?: unknown;
      error?: { code: number; message: string };
    };
  return {
    call,
    async ok<T>(method: string, params?: unknown): Promise<T> {
      const r = await call(method, params);
      assert.equal(r.error, undefined, `${method}: ${JSON.stringify(r.error)}`);
      return r.result as T;
    },
  };
}

/** Poll `f` every 50 ms until it returns a value, at most `ms`. */
async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 8000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

interface DlgRow {
  ID: number;
  state: number;
  callid: string;
  from_tag: string;
  to_tag: string;
  variables: Record<string, string>;
  profiles: Array<{ name: string; value: string }>;
}

interface Cdr {
  table: string;
  callid: string;
  status: number;
  reason: string;
  hangup: string;
  cp_id: string | null;
  answer_ts: string | null;
  duration: number;
}

async function startWithMi(
  t: JunctionTest,
  extraYaml = '',
  storage?: string,
): Promise<{ mi: Mi; dir: string; fifo: string; server: RunningServer }> {
  const http = await freePort();
  const dir = tempDir('junction-dlg-');
  const fifo = join(dir, 'fifo');
  const server = await t.junction({
    script: writeScript(SCRIPT),
    mi: `{ http: "127.0.0.1:${http}", fifo: "${fifo}", fifo_reply_dir: "${dir}" }`,
    extraYaml,
    ...(storage === undefined ? {} : { storage }),
  });
  return { mi: mi(http), dir, fifo, server };
}

/** A scenario file: `xml` written into `dir`, or `xml` itself when it is already a path. */
/** A SIPp UAS running `scenario` once on a free port (bound): its run, and its URI as `user`. */
async function partyAt(
  t: JunctionTest,
  user: string,
  scenario: string,
): Promise<{ run: SippRun; uri: string }> {
  const port = await freePort();
  const run = t.s.uas({ scenario, port, calls: 1, timeoutS: 20 });
  await waitUdpBound(port);
  return { run, uri: `sip:${user}@127.0.0.1:${port}` };
}

function sippScenario(dir: string, name: string, xml: string): string {
  return xml.startsWith('<') ? writeFile(dir, name, xml) : xml;
}

before(() => ensureSipp());
after(() => removeTempDirs());

describe('dialog tracking', () => {
  it(
    'dlg_list shows the answered call (state 4, tags, vars, profile); dlg_end_dlg sends BYE to both sides',
    withJunction(async (t) => {
      const { mi: m, dir } = await startWithMi(t);
      const callee = await freePort();
      const uas = t.s.uas({ scenario: UAS(), port: callee, calls: 1, timeoutS: 20 });
      await waitUdpBound(callee);
      const uac = t.s.uac({
        scenario: sippScenario(dir, 'uac.xml', uacByeFromServer()),
        port: await freePort(),
        calls: 1,
        timeoutS: 20,
        callee,
        proxy: t.proxy,
        rate: 1,
      });
      const row = await until('an answered dialog', async () => {
        const r = await m.ok<{ count: number; Dialogs: DlgRow[] }>('dlg_list');
        return r.Dialogs.find((d) => d.state === 4);
      });
      assert.match(row.from_tag, /SIPpTag00/);
      assert.match(row.to_tag, /SIPpTag01/);
      assert.deepEqual(row.variables, { cp_id: '2' });
      assert.deepEqual(row.profiles, [{ name: 'calls', value: '' }]);
      // The routing script is reloaded: the dialog stays (it lives in the server, not the script).
      await m.ok('reload_routes');
      const byCallId = await m.ok<{ Dialogs: DlgRow[] }>('dlg.list', { callid: row.callid });
      assert.equal(byCallId.Dialogs.length, 1);
      assert.equal(byCallId.Dialogs[0]!.ID, row.ID);
      const stats = await m.ok<Record<string, number>>('get_statistics', { statistics: ['dialog:'] });
      assert.equal(stats['dialog:active_dialogs'], 1);

      const ended = await m.ok<{ BYE: Array<{ side: string; status: string }> }>('dlg_end_dlg', {
        dialog_id: String(row.ID),
      });
      assert.deepEqual(ended.BYE.map((b) => `${b.side} ${b.status}`).sort(), [
        'callee 200 OK',
        'caller 200 OK',
      ]);
      const [rc, re] = await Promise.all([uac.done, uas.done]);
      assertAllPassed('caller', rc, 1);
      assertAllPassed('callee', re, 1);
      const after = await m.ok<{ count: number }>('dlg_list');
      assert.equal(after.count, 0);
      const cdr = await m.ok<{ Records: Cdr[] }>('cdr_list', { callid: row.callid });
      assert.equal(cdr.Records.length, 1);
      const r = cdr.Records[0]!;
      assert.equal(r.status, 200);
      assert.equal(r.hangup, 'mi');
      assert.equal(r.cp_id, '2');
      assert.notEqual(r.answer_ts, null);
    }),
  );

  it(
    'a profile limit of 2 concurrent calls refuses the third with 503 while two are up',
    withJunction(async (t) => {
      const { mi: m, dir } = await startWithMi(t, 'modules: { dialog: { profiles_no_value: calls } }');
      const callee = await freePort();
      const uas = t.s.uas({ scenario: UAS(), port: callee, calls: 2, timeoutS: 30 });
      await waitUdpBound(callee);
      const two = t.s.uac({
        scenario: sippScenario(dir, 'hold.xml', uacHold(4000)),
        port: await freePort(),
        calls: 2,
        timeoutS: 30,
        callee,
        proxy: t.proxy,
        rate: 20,
      });
      await until('two calls in the profile', async () => {
        const r = await m.ok<{ count: number }>('profile_get_size', { profile: 'calls' });
        return r.count === 2 ? r : undefined;
      });
      const third = t.s.uac({
        scenario: sippScenario(dir, 'busy.xml', uacExpectFailure(503)),
        port: await freePort(),
        calls: 1,
        timeoutS: 20,
        callee,
        proxy: t.proxy,
        rate: 1,
      });
      const r3 = await third.done;
      assertAllPassed('third caller (503)', r3, 1);
      const [r2, re] = await Promise.all([two.done, uas.done]);
      assertAllPassed('two callers', r2, 2);
      assertAllPassed('callee', re, 2);
      const size = await m.ok<{ count: number }>('profile_get_size', { profile: 'calls' });
      assert.equal(size.count, 0);
      const cdr = await m.ok<{ Records: Cdr[] }>('cdr_list', { table: 'acc' });
      assert.deepEqual(cdr.Records.map((c) => `${c.status} ${c.hangup}`).sort(), [
        '200 caller',
        '200 caller',
        '503 none',
      ]);
    }),
  );

  it(
    'records answered, rejected, cancelled and timed-out calls, missed calls too; `junction cdr` reads them',
    withJunction(async (t) => {
      const db = join(tempDir('junction-cdr-'), 'junction.db');
      const {
        mi: m,
        dir,
        server,
      } = await startWithMi(
        t,
        'modules: { tm: { t1: 50, fr_inv_timer: 1500 }, acc: { json_file: cdr.jsonl } }',
        `sqlite:${db}`,
      );
      const one = async (caller: string, callee: string, name: string): Promise<void> => {
        const port = await freePort();
        const uas = t.s.uas({
          scenario: sippScenario(dir, `${name}-uas.xml`, callee),
          port,
          calls: 1,
          timeoutS: 20,
        });
        await waitUdpBound(port);
        const uac = t.s.uac({
          scenario: sippScenario(dir, `${name}-uac.xml`, caller),
          port: await freePort(),
          calls: 1,
          timeoutS: 20,
          callee: port,
          proxy: t.proxy,
          rate: 1,
          args: ['-s', name],
        });
        const rc = await uac.done;
        assertAllPassed(`${name} caller`, rc, 1);
        if (name !== 'timeout') assertAllPassed(`${name} callee`, await uas.done, 1);
      };
      await one(uacHold(200), UAS(), 'answered');
      await one(uacExpectFailure(486), uasReject(486, 'Busy Here'), 'rejected');
      await one(uacCancel(200), uasCancelled(), 'cancelled');
      await one(uacExpectFailure(408), uasSilent('INVITE', 5000), 'timeout');
      const cdr = await m.ok<{ Records: Array<Cdr & { ruri: string }> }>('cdr_list', {
        table: 'acc',
        since: '1h',
      });
      const byUser = new Map(cdr.Records.map((r) => [r.ruri.replace(/^sip:([^@]*)@.*$/, '$1'), r]));
      assert.deepEqual(
        ['answered', 'rejected', 'cancelled', 'timeout'].map((u) => {
          const r = byUser.get(u);
          return r === undefined
            ? `${u} missing`
            : `${u} ${r.status} ${r.hangup} ${r.answer_ts === null ? 'unanswered' : 'answered'}`;
        }),
        [
          'answered 200 caller answered',
          'rejected 486 none unanswered',
          'cancelled 487 none unanswered',
          'timeout 408 none unanswered',
        ],
      );
      // The failure route's acc_db_request: one missed-call record per failed call.
      const missed = await m.ok<{ Records: Cdr[] }>('cdr_list', { table: 'missed_calls' });
      assert.deepEqual(missed.Records.map((r) => `${r.status} ${r.reason}`).sort(), [
        '408 Missed call',
        '486 Missed call',
        '487 Missed call',
      ]);
      // The CLI reads the same database (no server needed).
      const cfg = writeFile(dir, 'cli.yaml', `storage: sqlite:${db}\n`);
      const out = await execFileP(join(REPO, 'bin/junction'), ['cdr', '--since', '1h', '--json', '-c', cfg], {
        timeout: 15000,
      });
      const lines = out.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Cdr);
      assert.equal(lines.filter((l) => l.table === 'acc').length, 4);
      const text = await execFileP(join(REPO, 'bin/junction'), ['cdr', '--since', '1h', '-c', cfg], {
        timeout: 15000,
      });
      assert.match(text.stdout, /486 Busy Here/);
      // And every record went to the JSON lines file too (relative to the config's folder).
      const jsonl = readFileSync(join(server.dir, 'cdr.jsonl'), 'utf8').trim().split('\n');
      assert.equal(jsonl.length, 7);
      assert.deepEqual(
        jsonl.map((l) => (JSON.parse(l) as Cdr).status).sort(),
        [200, 408, 408, 486, 486, 487, 487],
      );
    }),
  );
});

describe('requests from the server', () => {
  it(
    't_uac_dlg answers a 407 challenge with the configured credentials',
    withJunction(async (t) => {
      const { mi: m, dir } = await startWithMi(
        t,
        'modules: { uac: { credentials: [{ realm: sipp.test, username: alice, password: s3cret }] } }',
      );
      const port = await freePort();
      const uas = t.s.uas({
        scenario: sippScenario(dir, 'challenge.xml', uasChallenge('sipp.test')),
        port,
        calls: 1,
        timeoutS: 20,
        trace: true,
      });
      await waitUdpBound(port);
      const r = await m.ok<{ Status: string }>('t_uac_dlg', {
        method: 'MESSAGE',
        ruri: `sip:bob@127.0.0.1:${port}`,
        headers: 'From: <sip:alice@sipp.test>\nTo: <sip:bob@sipp.test>\nContent-Type: text/plain',
        body: 'hello',
      });
      assert.equal(r.Status, '200 Authenticated');
      const res = await uas.done;
      assert.ok(res.code === 0 && res.successful === 1, describeSipp('uas', res));
      // The retried MESSAGE's digest, checked here with RFC 2617's formula (qop=auth).
      const retried = sippMessages(res.messages).filter(
        (x) => x.received && x.text.startsWith('MESSAGE '),
      )[1];
      assert.ok(retried !== undefined, res.messages);
      const line = /\r\nProxy-Authorization: Digest (.*)/i.exec(retried.text)?.[1] ?? '';
      const param = (n: string): string => new RegExp(`(?:^|, *)${n}="?([^",]*)"?`).exec(line)?.[1] ?? '';
      const md5 = (x: string): string => createHash('md5').update(x).digest('hex');
      const ha1 = md5('alice:sipp.test:s3cret');
      const ha2 = md5(`MESSAGE:${param('uri')}`);
      assert.equal(param('username'), 'alice');
      assert.equal(param('uri'), `sip:bob@127.0.0.1:${port}`);
      assert.equal(
        param('response'),
        md5(`${ha1}:${param('nonce')}:${param('nc')}:${param('cnonce')}:${param('qop')}:${ha2}`),
      );
      assert.match(retried.text, /\r\nCSeq: 2 MESSAGE\r\n/);
      const stats = await m.ok<Record<string, number>>('get_statistics', { statistics: ['uac:'] });
      assert.equal(stats['uac:auth_retries'], 1);
    }),
  );
});

describe('click-to-dial', () => {
  it(
    'ctd: INVITE on hold → 200 → ACK → REFER → 202 → BYE; the caller then calls the callee through Junction',
    withJunction(async (t) => {
      const { mi: m, dir } = await startWithMi(t);
      const callee = await partyAt(t, 'callee', UAS());
      const caller = await partyAt(t, 'caller', sippScenario(dir, 'ctd-caller.xml', ctdCaller()));
      const r = await m.ok<{ steps: Array<{ step: string; status: string }> }>('ctd', {
        caller: caller.uri,
        callee: callee.uri,
      });
      assert.deepEqual(
        r.steps.map((s) => `${s.step}: ${s.status}`),
        ['invite: 200 OK', 'ack: sent', 'refer: 202 Accepted', 'bye: 200 OK'],
      );
      assertAllPassed('caller', await caller.run.done, 1);
      assertAllPassed('callee', await callee.run.done, 1);
    }),
  );

  it(
    "the seed's ctd.sh over the FIFO text protocol",
    withJunction(async (t) => {
      const { dir, fifo } = await startWithMi(t);
      const callee = await partyAt(t, 'callee', UAS());
      const caller = await partyAt(t, 'caller', sippScenario(dir, 'ctd-caller.xml', ctdCaller()));
      const out = await execFileP('sh', [join(REPO, 'examples/ctd.sh'), caller.uri, callee.uri], {
        timeout: 20000,
        env: { ...process.env, JUNCTION_FIFO: fifo, JUNCTION_FIFO_REPLY_DIR: dir },
      });
      assert.equal(out.stdout, 'invitation succeeded\nrefer succeeded\nbye succeeded\n');
      assertAllPassed('caller', await caller.run.done, 1);
      assertAllPassed('callee', await callee.run.done, 1);
    }),
  );

  it(
    'a busy caller: the invite step fails with 486',
    withJunction(async (t) => {
      const { mi: m, dir } = await startWithMi(t);
      const caller = await partyAt(t, 'caller', sippScenario(dir, 'busy.xml', ctdCallerBusy()));
      const r = await m.call('ctd', {
        caller: caller.uri,
        callee: 'sip:callee@127.0.0.1:9',
      });
      assert.equal(r.error?.code, 486);
      assert.match(r.error?.message ?? '', /ctd invite failed: 486 Busy Here/);
      assertAllPassed('caller', await caller.run.done, 1);
    }),
  );

  it(
    'a refused REFER: the refer step fails with 603 and the wrapper call is ended with BYE',
    withJunction(async (t) => {
      const { mi: m, dir } = await startWithMi(t);
      const caller = await partyAt(t, 'caller', sippScenario(dir, 'refuse.xml', ctdCaller('603 Declined')));
      const r = await m.call('ctd', {
        caller: caller.uri,
        callee: 'sip:callee@127.0.0.1:9',
      });
      assert.equal(r.error?.code, 603);
      assert.match(r.error?.message ?? '', /ctd refer failed: 603 Declined \(bye: 200 OK\)/);
      assertAllPassed('caller', await caller.run.done, 1);
    }),
  );

  it(
    'a caller that only rings: the INVITE is CANCELled after the timeout and the invite step fails',
    withJunction(async (t) => {
      const { mi: m, dir } = await startWithMi(t);
      const caller = await partyAt(t, 'caller', sippScenario(dir, 'ring.xml', ctdCallerNoAnswer()));
      const r = await m.call('ctd', {
        caller: caller.uri,
        callee: 'sip:callee@127.0.0.1:9',
        timeout: 1,
      });
      assert.equal(r.error?.code, 487);
      assert.match(
        r.error?.message ?? '',
        /^ctd invite failed: no answer within 1000 ms \(rang\) \(cancel: sent/,
      );
      assertAllPassed('caller', await caller.run.done, 1);
    }),
  );
});
