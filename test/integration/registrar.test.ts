/**
 * Registration through Junction with real SIPp (issue 5 §5): REGISTER sequences on the default
 * routing script (several contacts, refresh, unregister, `*`, too brief, out-of-order CSeq, query),
 * digest authentication against subscribers added with `junction subscriber add`, calls to a
 * registered user, a restart on SQLite, and two instances sharing Redis. Every test runs once with
 * the TypeScript default script and once with its Lua port (routes/default.lua).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  ensureRedisServer,
  type RedisServer,
  startRedisServer,
} from '../../src/storage/redis_test_server.ts';
import { assertAllPassed, runOnceAsUser, UAC_RR, UAS } from './call_flow.ts';
import {
  DEFAULT_SCRIPTS,
  ensureSipp,
  freePort,
  removeTempDirs,
  Session,
  type SippResult,
  sqliteWithSubscriber,
  tempDir,
  waitSippBound,
  writeFile,
} from './harness.ts';
import { type RegisterStep, registerSequence } from './register_scenarios.ts';
import { uacExpectFailure, uasCancelled, uasReject } from './scenarios.ts';

function assertPassed(name: string, r: SippResult, calls = 1): void {
  assertAllPassed(name, r, calls);
}

/** Run one REGISTER sequence against Junction at `proxy` as user `user`. */
async function register(s: Session, proxy: number, user: string, steps: RegisterStep[]): Promise<SippResult> {
  const dir = tempDir('reg-');
  return runOnceAsUser(s, proxy, user, writeFile(dir, 'register.xml', registerSequence('register', steps)));
}

/** A caller (uac-rr.xml) to `sip:<user>@127.0.0.1:<proxy>`: Junction looks the user up. */
async function call(s: Session, proxy: number, user: string, scenario = UAC_RR()): Promise<SippResult> {
  return runOnceAsUser(s, proxy, user, scenario);
}

/** A callee (uas.xml) expecting one call, and the REGISTER that binds `user` to it. */
async function registeredCallee(s: Session, proxy: number, user: string, registrar = proxy) {
  const uas = { scenario: UAS(), port: await freePort(), calls: 1, timeoutS: 30 };
  const callee = s.uas(uas);
  await waitSippBound(uas);
  const r = await register(s, registrar, user, [
    {
      cseq: 1,
      contacts: [`<sip:${user}@127.0.0.1:${uas.port}>`],
      expires: 600,
      expect: 200,
      match: [`127\\.0\\.0\\.1:${uas.port}>;expires=(600|599)`],
    },
  ]);
  assertPassed('register callee', r);
  void proxy;
  return callee;
}

for (const d of DEFAULT_SCRIPTS) {
  describe(`registrar through Junction (SIPp), ${d.lang} default script`, () => {
    before(() => ensureSipp());
    after(() => removeTempDirs());

    it('REGISTER sequence: two contacts, refresh, too brief, out of order, unregister one, query, Contact: *', {
      timeout: 60_000,
    }, async () => {
      const s = new Session(d);
      let errors: object[] = [];
      try {
        const proxy = await freePort();
        const j = await s.junction({ port: proxy });
        const r = await register(s, proxy, 'alice', [
          {
            cseq: 10,
            contacts: ['<sip:alice@[local_ip]:[local_port]>', '<sip:alice-2@[local_ip]:[local_port]>;q=0.5'],
            expires: 3600,
            expect: 200,
            match: ['<sip:alice@[^>]*>;expires=(3600|3599)', '<sip:alice-2@[^>]*>;expires=(3600|3599);q=0.5'],
          },
          {
            cseq: 11,
            contacts: ['<sip:alice@[local_ip]:[local_port]>;expires=600'],
            expect: 200,
            match: ['<sip:alice@[^>]*>;expires=(600|599)', '<sip:alice-2@[^>]*>;expires=(3600|3599|3598)'],
          },
          {
            cseq: 12,
            contacts: ['<sip:alice-3@[local_ip]:[local_port]>'],
            expires: 10,
            expect: 423,
            match: ['Min-Expires: 60'],
          },
          {
            cseq: 5,
            contacts: ['<sip:alice@[local_ip]:[local_port]>'],
            expires: 900,
            expect: 500,
            match: ['Out of order'],
          },
          {
            cseq: 13,
            contacts: ['<sip:alice-2@[local_ip]:[local_port]>'],
            expires: 0,
            expect: 200,
            notMatch: ['alice-2@'],
            match: ['<sip:alice@'],
          },
          { cseq: 14, expect: 200, match: ['<sip:alice@[^>]*>;expires=(600|599|598)'] },
          { cseq: 15, contacts: ['*'], expires: 30, expect: 400 },
          { cseq: 16, contacts: ['*'], expires: 0, expect: 200, notMatch: ['Contact:'] },
        ]);
        assertPassed('register sequence', r);
        // alice is gone: a call to her gets 404.
        const dir = tempDir('uac-');
        const f = await call(s, proxy, 'alice', writeFile(dir, 'uac404.xml', uacExpectFailure(404)));
        assertPassed('call to an unregistered user', f);
        errors = j.errors();
      } finally {
        await s.close();
      }
      assert.deepEqual(errors, []);
    });

    it('a call to a registered user reaches its contact', { timeout: 60_000 }, async () => {
      const s = new Session(d);
      try {
        const proxy = await freePort();
        await s.junction({ port: proxy });
        const callee = await registeredCallee(s, proxy, 'bob');
        const c = await call(s, proxy, 'bob');
        assertPassed('caller', c);
        assertPassed('callee', await callee.done);
      } finally {
        await s.close();
      }
    });

    it('forking by q: equal q rings in parallel (the loser is cancelled); lower q is tried after a failure (serial)', {
      timeout: 60_000,
    }, async () => {
      const s = new Session(d);
      try {
        const proxy = await freePort();
        await s.junction({ port: proxy });
        const dir = tempDir('fork-');
        // Parallel: both q=1.0; one answers, the other rings and must receive the CANCEL.
        const answer = { scenario: UAS(), port: await freePort(), calls: 1, timeoutS: 30 };
        const ring = {
          scenario: writeFile(dir, 'ring.xml', uasCancelled()),
          port: await freePort(),
          calls: 1,
          timeoutS: 30,
        };
        // Serial: q=1.0 busy, then q=0.5 answers.
        const busy = {
          scenario: writeFile(dir, 'busy.xml', uasReject(486, 'Busy Here')),
          port: await freePort(),
          calls: 1,
          timeoutS: 30,
        };
        const second = { scenario: UAS(), port: await freePort(), calls: 1, timeoutS: 30 };
        const runs = [answer, ring, busy, second].map((p) => s.uas(p));
        for (const p of [answer, ring, busy, second]) await waitSippBound(p);
        const reg1 = await register(s, proxy, 'par', [
          {
            cseq: 1,
            contacts: [`<sip:par@127.0.0.1:${answer.port}>;q=1.0`, `<sip:par@127.0.0.1:${ring.port}>;q=1.0`],
            expires: 600,
            expect: 200,
          },
        ]);
        assertPassed('register par', reg1);
        const reg2 = await register(s, proxy, 'ser', [
          {
            cseq: 1,
            contacts: [`<sip:ser@127.0.0.1:${busy.port}>;q=1.0`, `<sip:ser@127.0.0.1:${second.port}>;q=0.5`],
            expires: 600,
            expect: 200,
          },
        ]);
        assertPassed('register ser', reg2);
        assertPassed('parallel caller', await call(s, proxy, 'par'));
        assertPassed('serial caller', await call(s, proxy, 'ser'));
        const [ra, rr, rb, rs] = await Promise.all(runs.map((r) => r.done));
        assertPassed('parallel: answering callee', ra);
        assertPassed('parallel: cancelled callee', rr);
        assertPassed('serial: busy callee', rb);
        assertPassed('serial: second callee', rs);
      } finally {
        await s.close();
      }
    });

    it('digest: a REGISTER is challenged (401, qop=auth) once subscribers exist; good credentials 200, bad ones 401 again', {
      timeout: 60_000,
    }, async () => {
      const s = new Session(d);
      try {
        const storage = sqliteWithSubscriber(tempDir('auth-'), 'carol@127.0.0.1', 's3cret');
        const proxy = await freePort();
        const j = await s.junction({ port: proxy, storage });
        const contact = ['<sip:carol@[local_ip]:[local_port]>'];
        const r = await register(s, proxy, 'carol', [
          {
            cseq: 1,
            contacts: contact,
            expires: 600,
            expect: 401,
            match: ['WWW-Authenticate: Digest realm="127.0.0.1", nonce="[^"]+", qop="auth", algorithm=MD5'],
          },
          {
            cseq: 2,
            contacts: contact,
            expires: 600,
            expect: 200,
            auth: { username: 'carol', password: 's3cret' },
            match: ['<sip:carol@[^>]*>;expires=(600|599)'],
          },
        ]);
        assertPassed('register with digest', r);
        const bad = await register(s, proxy, 'carol', [
          { cseq: 1, contacts: contact, expires: 600, expect: 401 },
          {
            cseq: 2,
            contacts: contact,
            expires: 600,
            expect: 401,
            auth: { username: 'carol', password: 'wrong' },
          },
        ]);
        assertPassed('register with a wrong password', bad);
        assert.doesNotMatch(j.output(), /s3cret/);
      } finally {
        await s.close();
      }
    });

    it('restart: registrations on SQLite survive, the call still reaches the phone', {
      timeout: 90_000,
    }, async () => {
      const s = new Session(d);
      const s2 = new Session(d);
      try {
        const dir = tempDir('restart-');
        const storage = `sqlite:${join(dir, 'junction.db')}`;
        const proxy = await freePort();
        const j1 = await s.junction({ port: proxy, storage });
        const callee = await registeredCallee(s, proxy, 'dave');
        assert.equal(await j1.stop(), 0);
        await s2.junction({ port: proxy, storage });
        const c = await call(s2, proxy, 'dave');
        assertPassed('caller after restart', c);
        assertPassed('callee', await callee.done);
      } finally {
        await s2.close();
        await s.close();
      }
    });

    describe('two instances sharing Redis', () => {
      let redis: RedisServer | undefined;
      const available = ensureRedisServer();
      before(async () => {
        if (available) redis = await startRedisServer();
      });
      after(async () => {
        await redis?.stop();
      });

      it('register through one instance, call through the other', {
        timeout: 60_000,
      }, async () => {
        assert.ok(
          available,
          'redis-server is not installed and scripts/ensure-debian.sh could not install it',
        );
        const s = new Session(d);
        try {
          const a = await freePort();
          const b = await freePort();
          await s.junction({ port: a, storage: redis!.url });
          await s.junction({ port: b, storage: redis!.url });
          const callee = await registeredCallee(s, b, 'erin', a);
          const c = await call(s, b, 'erin');
          assertPassed('caller via the second instance', c);
          assertPassed('callee', await callee.done);
        } finally {
          await s.close();
        }
      });
    });
  });
}
