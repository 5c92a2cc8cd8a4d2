/**
 * The exec examples run as written (examples/exec/): the SER missed-calls service with a fake
 * `mail` on PATH (offline callee, busy callee through the failure route, answered call, INVITE
 * retransmissions mailing once), and call forwarding through exec_dset.
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assertAllPassed, runOnceAsUser, UAC_RR, UAS, withJunction } from './call_flow.ts';
import {
  ensureSipp,
  freePort,
  REPO,
  removeTempDirs,
  type Session,
  sleep,
  tempDir,
  waitSippBound,
  writeFile,
} from './harness.ts';
import { message, register, sipSocket } from './raw_sip.ts';
import { uacExpectFailure, uasReject } from './scenarios.ts';

/** A folder with a fake `mail` that logs `to|subject|stdin` and takes `delayS` seconds. */
function fakeMail(delayS: number): { bin: string; log: string } {
  const bin = tempDir('fake-mail-');
  const log = join(bin, 'mail.log');
  const mail = writeFile(
    bin,
    'mail',
    `#!/bin/sh\n# mail -s SUBJECT TO\nbody=$(cat)\nsleep ${delayS}\nprintf '%s|%s|%s\\n' "$3" "$2" "$body" >> ${log}\n`,
  );
  chmodSync(mail, 0o755);
  return { bin, log };
}

function mails(log: string): string[] {
  return existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [];
}

/** Register `user` at Junction with a contact on `contactPort`. */
async function registerUser(proxy: number, user: string, contactPort: number): Promise<void> {
  const sock = await sipSocket();
  try {
    sock.send(proxy, register(sock.port, proxy, user, `sip:${user}@127.0.0.1:${contactPort}`, `reg-${user}`));
    assert.equal((await sock.final(`reg-${user}`, 10_000)).status, 200);
  } finally {
    sock.close();
  }
}

/** A SIPp callee on a free port, bound before it is returned. */
async function callee(s: Session, scenario: string): Promise<number> {
  const p = { scenario, port: await freePort(), calls: 1, timeoutS: 30 };
  s.uas(p);
  await waitSippBound(p);
  return p.port;
}

describe('examples/exec', { concurrency: 2 }, () => {
  before(() => ensureSipp());
  after(() => removeTempDirs());

  it(
    'missed_calls.ts: offline and busy callees get one mail each, an answered call none',
    { timeout: 90_000 },
    withJunction(async ({ s, junction, proxy }) => {
      // The mail takes 1.2 s: the caller retransmits its INVITE meanwhile (T1 = 500 ms).
      const mail = fakeMail(1.2);
      const path = process.env.PATH;
      process.env.PATH = `${mail.bin}:${path}`;
      try {
        await junction({ script: join(REPO, 'examples/exec/missed_calls.ts') });
      } finally {
        process.env.PATH = path;
      }
      // Offline: nobody registered as carol. The INVITE is sent three times (retransmissions:
      // same branch) while the mail runs; the transaction absorbs them: one mail, one 404.
      const sock = await sipSocket();
      try {
        const invite = message(sock.port, proxy, 'carol', 'offline-1', '"sipp" <sip:sipp@127.0.0.1>')
          .replace('MESSAGE sip:', 'INVITE sip:')
          .replace('CSeq: 1 MESSAGE', 'CSeq: 1 INVITE');
        for (let i = 0; i < 3; i++) {
          sock.send(proxy, invite);
          await sleep(300);
        }
        assert.equal((await sock.final('offline-1', 10_000)).status, 404);
      } finally {
        sock.close();
      }
      // Busy: bob is registered at a callee that answers 486; the failure route mails.
      await registerUser(
        proxy,
        'bob',
        await callee(s, writeFile(tempDir(), 'b.xml', uasReject(486, 'Busy Here'))),
      );
      assertAllPassed(
        'caller (busy)',
        await runOnceAsUser(s, proxy, 'bob', writeFile(tempDir(), 'u.xml', uacExpectFailure(486))),
        1,
      );
      // Answered: alice is registered at a callee that answers 200.
      await registerUser(proxy, 'alice', await callee(s, UAS()));
      assertAllPassed('caller (answered)', await runOnceAsUser(s, proxy, 'alice', UAC_RR()), 1);
      const sent = mails(mail.log);
      assert.equal(sent.length, 2, sent.join('\n'));
      // The mail body is the INVITE's From line (as grep prints it: with the message's CR).
      assert.equal(
        sent[0],
        'carol|Missed call from sipp|From: "sipp" <sip:sipp@127.0.0.1>;tag=t-offline-1\r',
      );
      assert.match(sent[1] ?? '', /^bob\|Missed call from sipp\|From: sipp/);
    }),
  );

  it(
    'call_forwarding.ts: exec_dset sends the call to the forwarding target; no entry → 404',
    { timeout: 90_000 },
    withJunction(async ({ s, junction, proxy }) => {
      const target = await callee(s, UAS());
      const table = writeFile(tempDir(), 'forwards.txt', `dave sip:dave-mobile@127.0.0.1:${target}\n`);
      const saved = process.env.FORWARDS;
      process.env.FORWARDS = table;
      try {
        await junction({ script: join(REPO, 'examples/exec/call_forwarding.ts') });
      } finally {
        if (saved === undefined) delete process.env.FORWARDS;
        else process.env.FORWARDS = saved;
      }
      assertAllPassed('caller (forwarded)', await runOnceAsUser(s, proxy, 'dave', UAC_RR()), 1);
      assertAllPassed(
        'caller (no forwarding)',
        await runOnceAsUser(s, proxy, 'erin', writeFile(tempDir(), 'e.xml', uacExpectFailure(404))),
        1,
      );
    }),
  );
});
