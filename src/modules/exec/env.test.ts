import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fakeContext, parse, request } from '../testing/fake_context.ts';
import { ksr } from '../testing/ksr.ts';
import { envHeaderName, kamailioTid, sipVariables } from './env.ts';

const fixture = (name: string): Buffer => readFileSync(new URL(`fixtures/${name}`, import.meta.url));

/** `NAME=value` lines (as `env | sort` prints them) → object. */
function envFile(name: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of fixture(name).toString('utf8').split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

/**
 * fixtures/kamailio-env-*.txt are what Kamailio 5.6.3 (Debian) gave its exec_msg child for the
 * fixtures/*.sip requests (fixtures/kamailio-env.cfg sets $ru to sip:carol@example.net:5070 first,
 * then runs `env | grep ^SIP_ | sort`), received from 127.0.0.1. Ours must be the same, variable by
 * variable — plus SIP_ORURI, the documented name Kamailio does not actually export.
 */
describe('the environment is Kamailio’s, variable by variable', () => {
  for (const [sip, env] of [
    ['invite.sip', 'kamailio-env-invite.txt'],
    ['message.sip', 'kamailio-env-message.txt'],
  ] as const) {
    it(`${sip}: every SIP_* variable as Kamailio 5.6.3 set it (SIP_TID included)`, () => {
      const ctx = fakeContext(parse(fixture(sip)), { source: { address: '127.0.0.1' } });
      ksr(ctx).pv.sets('$ru', 'sip:carol@example.net:5070');
      const ours = sipVariables(ctx, true);
      const kamailio = envFile(env);
      assert.equal(ours.SIP_ORURI, kamailio.SIP_ORUI);
      const { SIP_ORURI: _documented, ...rest } = ours;
      assert.deepEqual(rest, kamailio);
    });
  }

  it('SIP_TID is the same for a retransmission, the CANCEL and the ACK of an INVITE, and differs per transaction', () => {
    const invite = request({ method: 'INVITE' });
    const cancel = request({ method: 'CANCEL' });
    const ack = request({ method: 'ACK', to: 'Bob <sip:bob@example.com>;tag=xyz' });
    const tid = kamailioTid(parse(invite));
    assert.match(tid, /^[0-9a-f]{32}$/);
    assert.equal(kamailioTid(parse(invite)), tid);
    assert.equal(kamailioTid(parse(cancel)), tid);
    assert.equal(kamailioTid(parse(ack)), tid);
    assert.notEqual(kamailioTid(parse(request({ method: 'INVITE', cseq: 2 }))), tid);
    assert.notEqual(
      kamailioTid(parse(request({ via: 'SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKother' }))),
      tid,
    );
    // Outside INVITE/ACK/CANCEL the To tag counts.
    const bye = (tag: string) =>
      kamailioTid(parse(request({ method: 'BYE', to: `<sip:bob@example.com>;tag=${tag}` })));
    assert.notEqual(bye('a'), bye('b'));
  });

  it('header names: upper-cased, punctuation to _, compact forms canonical, repeats joined with ","', () => {
    assert.equal(envHeaderName('Max-Forwards'), 'MAX_FORWARDS');
    assert.equal(envHeaderName("x.a!b%c*d_e+f'g~h"), 'X_A_B_C_D_E_F_G_H');
    const ctx = fakeContext(
      request({
        headers: [
          'm: <sip:a@192.0.2.1>',
          'Contact: <sip:b@192.0.2.2>',
          'k: path',
          'o: presence',
          'c: text/plain',
        ],
      }),
    );
    const v = sipVariables(ctx, true);
    assert.equal(v.SIP_HF_CONTACT, '<sip:a@192.0.2.1>,<sip:b@192.0.2.2>');
    assert.equal(v.SIP_HF_SUPPORTED, 'path');
    assert.equal(v.SIP_HF_EVENT, 'presence');
    assert.equal(v.SIP_HF_CONTENT_TYPE, 'text/plain');
    assert.equal(v.SIP_HF_CALLID, 'a84b4c76e66710@pc33.atlanta.example.com');
    assert.equal(v.SIP_DID, '');
    assert.equal(v.SIP_SRCIP, '192.0.2.10');
  });

  it('bash_safety off keeps a function-definition value as it is', () => {
    const ctx = fakeContext(request({ headers: ['X-Bash: () { :; }; echo pwned'] }));
    assert.equal(sipVariables(ctx, false).SIP_HF_X_BASH, '() { :; }; echo pwned');
    assert.equal(sipVariables(ctx, true).SIP_HF_X_BASH, ' { :; }; echo pwned');
  });
});
