/**
 * A real phone (issue 5 §5): Debian's baresip registers to Junction with a password (digest,
 * subscriber added with `junction subscriber add`), then a SIPp caller calls it through Junction
 * and baresip answers (answermode=auto). baresip is started and stopped here, by PID.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runOnceAsUser, UAC_RR } from './call_flow.ts';
import {
  DEFAULT_SCRIPTS,
  describeSipp,
  ensureSipp,
  freePort,
  freePortSpan,
  REPO,
  removeTempDirs,
  Session,
  sleep,
  sqliteWithSubscriber,
  tempDir,
} from './harness.ts';

function ensureBaresip(): boolean {
  try {
    execFileSync('bash', [join(REPO, 'scripts/ensure-debian.sh'), 'baresip'], {
      stdio: 'ignore',
      timeout: 300_000,
    });
    execFileSync('baresip', ['-h'], { stdio: 'ignore' });
    return true;
  } catch (e) {
    // `baresip -h` exits non-zero after printing its usage: it exists when the error is not ENOENT.
    return (e as NodeJS.ErrnoException).code !== 'ENOENT' && (e as { status?: number }).status !== undefined;
  }
}

const MODULES = '/usr/lib/baresip/modules';

function startBaresip(
  dir: string,
  sipPort: number,
  proxy: number,
  user: string,
  password: string,
): { child: ChildProcess; out: () => string } {
  const conf = join(dir, 'baresip');
  mkdirSync(conf, { recursive: true });
  writeFileSync(
    join(conf, 'config'),
    [
      'poll_method epoll',
      `sip_listen 127.0.0.1:${sipPort}`,
      'sip_transports udp',
      `module_path ${MODULES}`,
      'module g711.so',
      'module ausine.so',
      'module aufile.so',
      'module_app account.so',
      'audio_source ausine,440',
      `audio_player aufile,${join(dir, 'out.wav')}`,
      `audio_alert aufile,${join(dir, 'alert.wav')}`,
      'ausrc_srate 48000',
      'ausrc_channels 2',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(conf, 'accounts'),
    `<sip:${user}@127.0.0.1:${proxy};transport=udp>;auth_pass=${password};answermode=auto;regint=600\n`,
  );
  const child = spawn('baresip', ['-f', conf], { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString('latin1');
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString('latin1');
  });
  return { child, out: () => out };
}

for (const d of DEFAULT_SCRIPTS) {
  describe(`a real phone (baresip) behind Junction, ${d.lang} default script`, () => {
    const available = ensureBaresip();
    before(() => ensureSipp());
    after(() => removeTempDirs());

    it('baresip registers with a password; a SIPp call through Junction is answered', {
      timeout: 90_000,
    }, async () => {
      assert.ok(available, 'baresip is not installed and scripts/ensure-debian.sh could not install it');
      const s = new Session(d);
      let phone: { child: ChildProcess; out: () => string } | undefined;
      try {
        const dir = tempDir('baresip-');
        const storage = sqliteWithSubscriber(dir, 'frank@127.0.0.1', 'p4ssw0rd');
        const proxy = await freePort();
        const j = await s.junction({ port: proxy, storage });
        phone = startBaresip(dir, await freePortSpan(2), proxy, 'frank', 'p4ssw0rd');
        const deadline = Date.now() + 20_000;
        while (!/200 OK \(\) \[1 binding\]/.test(phone.out())) {
          assert.ok(Date.now() < deadline, `baresip did not register:\n${phone.out()}\n${j.output()}`);
          assert.equal(phone.child.exitCode, null, `baresip exited:\n${phone.out()}`);
          await sleep(100);
        }
        const r = await runOnceAsUser(s, proxy, 'frank', UAC_RR());
        const why = `${describeSipp('caller', r)}\n--- baresip\n${phone.out()}`;
        assert.equal(r.code, 0, why);
        assert.equal(r.successful, 1, why);
        assert.match(phone.out(), /answering call/);
        assert.doesNotMatch(j.output(), /p4ssw0rd/);
      } finally {
        if (phone !== undefined && phone.child.exitCode === null) {
          const exited = new Promise((ok) => phone?.child.once('exit', ok));
          phone.child.kill('SIGTERM');
          const t = setTimeout(() => phone?.child.kill('SIGKILL'), 5000);
          await exited;
          clearTimeout(t);
        }
        await s.close();
      }
    });
  });
}
