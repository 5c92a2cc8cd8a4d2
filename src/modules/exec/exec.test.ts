import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import { fakeContext, request } from '../testing/fake_context.ts';
import { ksr } from '../testing/ksr.ts';
import { closeExec, configureExec } from './exec.ts';
import { execStats } from './stats.ts';

const dir = mkdtempSync(join(tmpdir(), 'junction-exec-'));
after(() => {
  closeExec();
  rmSync(dir, { recursive: true, force: true });
});

for (const spawner of [0, 1] as const) {
  describe(`KSR.exec (${spawner === 1 ? 'pre-forked spawner' : 'node spawn'})`, () => {
    afterEach(() => configureExec({ spawner }));
    configureExec({ spawner });

    it('exec_msg: the request on stdin, SIP_* in the environment; 1 on exit 0, -1 otherwise', async () => {
      const ctx = fakeContext(request({ ruri: 'sip:jiri@iptel.org' }));
      const K = ksr(ctx);
      const out = join(dir, `msg-${spawner}`);
      assert.equal(await K.exec.exec_msg(`cat > ${out}; echo "$SIP_OUSER $SIP_HF_CSEQ" >> ${out}`), 1);
      assert.equal(readFileSync(out, 'latin1'), `${ctx.msg.raw.toString('latin1')}jiri 314159 INVITE\n`);
      assert.equal(await K.exec.exec_msg('exit 3'), -1);
      assert.equal(await K.exec.exec_msg(''), -1);
    });

    it('exec_dset: runs cmd with the quoted R-URI; line 1 is the new R-URI, further lines branches', async () => {
      const ctx = fakeContext(request({ ruri: "sip:o'brien@example.com" }));
      const K = ksr(ctx);
      const script = join(dir, 'dset.sh');
      writeFileSync(
        script,
        'echo "  sip:a@192.0.2.1  "; echo; echo "sip:b@192.0.2.2"; echo "$1" > "$0.arg"\n',
      );
      assert.equal(await K.exec.exec_dset(`sh ${script}`), 1);
      assert.equal(readFileSync(`${script}.arg`, 'utf8'), "sip:o'brien@example.com\n");
      assert.equal(ctx.msg.ruri, 'sip:a@192.0.2.1');
      assert.deepEqual(ctx.branches, [{ uri: 'sip:b@192.0.2.2' }]);
      // No URI, a failing program, a line that is not a URI: -1 and nothing changes.
      assert.equal(await K.exec.exec_dset('true'), -1);
      assert.equal(await K.exec.exec_dset('echo sip:c@192.0.2.3; exit 1'), -1);
      assert.equal(await K.exec.exec_dset('echo "not a uri"'), -1);
      assert.equal(ctx.msg.ruri, 'sip:a@192.0.2.1');
      assert.equal(ctx.branches.length, 1);
    });

    it('exec_avp: lines to the named AVPs, or to $avp(1), $avp(2) … (and Kamailio’s $avp(i:1))', async () => {
      const ctx = fakeContext();
      const K = ksr(ctx);
      assert.equal(await K.exec.exec_avp('printf "one\\n\\n two \\nthree\\n"', '$avp(a), $avp(s:b)'), 1);
      assert.equal(K.pv.get('$avp(a)'), 'one');
      assert.equal(K.pv.get('$avp(b)'), 'two');
      assert.equal(await K.exec.exec_avp('printf "x\\ny\\n"'), 1);
      assert.deepEqual([K.pv.get('$avp(1)'), K.pv.get('$avp(2)'), K.pv.get('$avp(i:2)')], ['x', 'y', 'y']);
      assert.equal(await K.exec.exec_avp('echo z; exit 2', '$avp(c)'), -1);
      assert.equal(K.pv.get('$avp(c)'), null);
      assert.equal(await K.exec.exec_avp('echo z', '$var(x)'), -1);
    });

    it('exec_cmd runs without SIP_* variables; run(argv) needs no shell', async () => {
      const ctx = fakeContext();
      const K = ksr(ctx);
      const out = join(dir, `cmd-${spawner}`);
      assert.equal(await K.exec.exec_cmd(`echo "[$SIP_HF_CALLID]" > ${out}`), 1);
      assert.equal(readFileSync(out, 'utf8'), '[]\n');
      const marker = join(dir, `pwned-${spawner}`);
      const r = await K.exec.run(['printf', '%s|%s|%s', `$(touch ${marker})`, 'b'], {
        env: { EXTRA: 'e' },
        stdin: 'ignored',
      });
      assert.deepEqual(r, {
        rc: 1,
        code: 0,
        signal: null,
        stdout: `$(touch ${marker})|b|`,
        timedOut: false,
        refused: false,
      });
      assert.equal(existsSync(marker), false);
      const env = await K.exec.run(['sh', '-c', 'printf %s "$EXTRA/$SIP_HF_CALLID"'], {
        env: { EXTRA: 'e' },
      });
      assert.equal(env.stdout, 'e/a84b4c76e66710@pc33.atlanta.example.com');
      const stdin = await K.exec.run(['head', '-1'], { stdin: true });
      assert.equal(stdin.stdout, 'INVITE sip:bob@example.com SIP/2.0\r\n');
      assert.equal((await K.exec.run(['/nonexistent/program'])).rc, -1);
      assert.equal((await K.exec.run(['true'], null)).rc, 1);
      assert.equal((await K.exec.run([] as string[])).rc, -1);
    });

    it('time_to_kill kills the process group: -1 at the deadline, counted', async () => {
      configureExec({ spawner, time_to_kill: 1 });
      const K = ksr(fakeContext());
      const kills = execStats.kills;
      const t0 = performance.now();
      assert.equal(await K.exec.exec_msg('sleep 30 & sleep 30; wait'), -1);
      const ms = performance.now() - t0;
      assert.ok(ms >= 990 && ms < 1400, `returned after ${ms} ms`);
      assert.equal(execStats.kills, kills + 1);
      const r = await K.exec.run(['sleep', '30'], { timeout: 0.2 });
      assert.equal(r.timedOut, true);
    });

    it('max_children: beyond it a call gets -1 at once, counted', async () => {
      configureExec({ spawner, max_children: 2, time_to_kill: 1 });
      const K = ksr(fakeContext());
      const refusals = execStats.refusals;
      const hung = [K.exec.exec_cmd('sleep 5'), K.exec.exec_cmd('sleep 5')];
      const t0 = performance.now();
      assert.equal(await K.exec.exec_cmd('true'), -1);
      assert.ok(performance.now() - t0 < 50);
      assert.equal(execStats.refusals, refusals + 1);
      assert.deepEqual(await Promise.all(hung), [-1, -1]);
    });
  });
}

describe('exec statistics', () => {
  it('are declared for get_statistics / Prometheus: counters, the running gauge, the duration histogram', async () => {
    const { moduleStatistics, Statistics } = await import('../../mi/statistics.ts');
    const stats = new Statistics();
    for (const d of moduleStatistics()) if (d.group === 'exec') stats.define(d);
    configureExec({ spawner: 1 });
    const before = stats.get(['exec:']);
    assert.equal(await ksr(fakeContext()).exec.exec_cmd('exit 1'), -1);
    const after = stats.get(['exec:']);
    assert.equal(after['exec:executions'], (before['exec:executions'] ?? 0) + 1);
    assert.equal(after['exec:failures'], (before['exec:failures'] ?? 0) + 1);
    assert.equal(after['exec:duration_ms_count'], (before['exec:duration_ms_count'] ?? 0) + 1);
    assert.equal(after['exec:running'], 0);
    assert.ok('exec:kills' in after && 'exec:refusals' in after && 'exec:duration_ms_le_inf' in after);
    assert.match(stats.prometheus(), /# TYPE junction_exec_running gauge/);
  });
});
