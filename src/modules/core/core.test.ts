import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fakeContext, request, response } from '../testing/fake_context.ts';
import { ksr } from '../testing/ksr.ts';
import {
  advertisedOf,
  VAR_ADD_LOCAL_RPORT,
  VAR_ADVERTISED_ADDRESS,
  VAR_ADVERTISED_PORT,
} from './reserved_vars.ts';

describe('core: methods', () => {
  it('tests the request method', () => {
    const K = ksr(fakeContext(request({ method: 'INVITE' })));
    assert.equal(K.is_INVITE(), true);
    assert.equal(K.is_BYE(), false);
    assert.equal(K.is_method('INVITE'), true);
    assert.equal(K.is_method('invite'), true, 'Kamailio compares method names case-insensitively');
    assert.equal(K.is_method('BYE|INVITE'), true);
    assert.equal(K.is_method('BYE|CANCEL'), false);
    assert.equal(K.is_method(''), false);
  });

  it('is_method_in uses Kamailio letters, including E (PRACK) and F (REFER)', () => {
    assert.equal(ksr(fakeContext(request({ method: 'INVITE' }))).is_method_in('IABC'), true);
    assert.equal(ksr(fakeContext(request({ method: 'REGISTER' }))).is_method_in('IABC'), false);
    assert.equal(ksr(fakeContext(request({ method: 'REGISTER' }))).is_method_in('r'), true);
    assert.equal(ksr(fakeContext(request({ method: 'PRACK' }))).is_method_in('E'), true);
    assert.equal(ksr(fakeContext(request({ method: 'REFER' }))).is_method_in('F'), true);
    assert.equal(ksr(fakeContext(request({ method: 'INFO' }))).is_method_in('IABCRMOSPNUKGTVDEF'), false);
    assert.equal(ksr(fakeContext(request({ method: 'INFO' }))).is_INFO(), true);
  });

  it('uses the CSeq method for a reply', () => {
    const K = ksr(fakeContext(response(180, 'Ringing', [], 'INVITE'), { request: request() }));
    assert.equal(K.is_INVITE(), true);
    assert.equal(K.is_method_in('I'), true);
  });
});

describe('core: flags', () => {
  it('sets, tests and resets message flags 0..31', () => {
    const ctx = fakeContext();
    const K = ksr(ctx);
    assert.equal(K.setflag(31), true);
    assert.equal(K.setflag(0), true);
    assert.equal(K.isflagset(31), true);
    assert.equal(K.isflagset(1), false);
    assert.equal(ctx.flags, 0x80000001);
    assert.equal(K.resetflag(31), true);
    assert.equal(K.isflagset(31), false);
    assert.equal(K.setflag(32), false);
    assert.equal(K.setflag(-1), false);
    assert.equal(K.isflagset(32), false);
  });

  it('keeps branch flags per branch index (0 = R-URI branch, n = appended branch n)', () => {
    const ctx = fakeContext();
    const K = ksr(ctx);
    assert.equal(K.setbflag(3), true);
    assert.equal(K.isbflagset(3), true);
    assert.equal(K.isbiflagset(3, 0), true);
    assert.equal(K.setbiflag(2, 1), false, 'no branch 1 yet');
    K.corex.append_branch('sip:carol@example.com');
    assert.equal(K.setbiflag(2, 1), true);
    assert.equal(K.isbiflagset(2, 1), true);
    assert.equal(ctx.branches[0].flags, (1 << 3) | (1 << 2), 'the new branch copied bflags, then got flag 2');
    assert.equal(K.resetbiflag(2, 1), true);
    assert.equal(K.isbiflagset(2, 1), false);
  });

  it('script flags are process-wide', () => {
    const a = ksr(fakeContext());
    const b = ksr(fakeContext());
    assert.equal(a.setsflag(7), true);
    assert.equal(b.issflagset(7), true);
    assert.equal(b.resetsflag(7), true);
    assert.equal(a.issflagset(7), false);
  });
});

describe('core: Request-URI and $du', () => {
  it('seturi / setuser / sethost rewrite the Request-URI', () => {
    const ctx = fakeContext(request({ ruri: 'sip:bob@example.com;transport=tcp' }));
    const K = ksr(ctx);
    assert.equal(K.setuser('carol'), true);
    assert.equal(ctx.msg.ruri, 'sip:carol@example.com;transport=tcp');
    assert.equal(K.sethost('192.0.2.7'), true);
    assert.equal(ctx.msg.ruri, 'sip:carol@192.0.2.7;transport=tcp');
    assert.equal(K.sethost('2001:db8::7'), true);
    assert.equal(ctx.msg.ruri, 'sip:carol@[2001:db8::7];transport=tcp');
    assert.equal(K.setuser(''), true);
    assert.equal(ctx.msg.ruri, 'sip:[2001:db8::7];transport=tcp');
    assert.equal(K.seturi('sip:dave@example.net'), true);
    assert.ok(ctx.msg.toString().startsWith('INVITE sip:dave@example.net SIP/2.0\r\n'));
  });

  it('refuses URIs and hosts that do not parse', () => {
    const ctx = fakeContext();
    const K = ksr(ctx);
    assert.equal(K.seturi('sip:bad uri@x'), false);
    assert.equal(K.sethost('bad host'), false);
    assert.equal(ctx.msg.ruri, 'sip:bob@example.com');
  });

  it('sets, tests and resets the destination URI', () => {
    const ctx = fakeContext();
    const K = ksr(ctx);
    assert.equal(K.isdsturiset(), false);
    assert.equal(K.setdsturi('sip:10.0.0.1:5080;transport=tcp'), true);
    assert.equal(ctx.dstUri, 'sip:10.0.0.1:5080;transport=tcp');
    assert.equal(K.isdsturiset(), true);
    assert.equal(K.setdsturi('not a uri'), false);
    assert.equal(K.resetdsturi(), true);
    assert.equal(ctx.dstUri, undefined);
  });

  it('cannot change the R-URI in a reply route', () => {
    const ctx = fakeContext(response(200, 'OK'), { request: request() });
    const K = ksr(ctx);
    assert.equal(K.seturi('sip:x@example.com'), -1);
    assert.match(ctx.logs[0].text, /cannot be used/);
  });
});

describe('core: is_myself', () => {
  it('recognises the listener address and aliases', () => {
    const ctx = fakeContext(request({ ruri: 'sip:127.0.0.1', to: '<sip:bob@proxy.example.com>' }), {
      aliases: ['proxy.example.com'],
      source: { address: '127.0.0.1', port: 40000 },
    });
    const K = ksr(ctx);
    assert.equal(K.is_myself('sip:127.0.0.1:5060'), true);
    assert.equal(K.is_myself('sip:192.0.2.99'), false);
    assert.equal(K.is_myself(''), false);
    assert.equal(K.is_myself_ruri(), true);
    assert.equal(K.is_myself_turi(), true);
    assert.equal(K.is_myself_furi(), false);
    assert.equal(K.is_myself_srcip(), true);
    assert.equal(K.is_myself_suri(), false, 'port 40000 is not a listener');
    assert.equal(K.is_myself_duri(), false);
    assert.equal(K.is_myself_nhuri(), true, 'no $du: the R-URI is the next hop');
  });
});

describe('core: forwarding and sending', () => {
  it('forward and forward_uri forward statelessly (Promises)', async () => {
    const ctx = fakeContext();
    const K = ksr(ctx);
    K.setdsturi('sip:10.0.0.2');
    assert.equal(await K.forward(), 1);
    assert.equal(await K.forward_uri('sip:10.0.0.3:5070'), 1);
    assert.deepEqual(ctx.forwards, [
      { uri: undefined, dstUri: 'sip:10.0.0.2' },
      { uri: 'sip:10.0.0.3:5070', dstUri: 'sip:10.0.0.2' },
    ]);
  });

  it('stores advertised address/port and rport settings for the proxy', () => {
    const ctx = fakeContext();
    const K = ksr(ctx);
    assert.equal(K.set_advertised_address('203.0.113.5'), 1);
    assert.equal(K.set_advertised_port('5080'), 1);
    assert.deepEqual(advertisedOf(ctx), { address: '203.0.113.5', port: '5080' });
    assert.equal(ctx.vars.get(VAR_ADVERTISED_ADDRESS), '203.0.113.5');
    assert.equal(ctx.vars.get(VAR_ADVERTISED_PORT), '5080');
    assert.equal(K.set_advertised_port('123456789'), -1);
    assert.equal(K.force_rport(), true);
    assert.equal(ctx.forceRport, true);
    assert.equal(K.add_local_rport(), true);
    assert.equal(ctx.vars.get(VAR_ADD_LOCAL_RPORT), 1);
    K.set_drop();
    assert.equal(ctx.dropped, true);
  });

  it('is_proto and transport tests use the receiving transport', () => {
    const K = ksr(fakeContext(request(), { source: { protocol: 'tcp' } }));
    assert.equal(K.is_TCP(), true);
    assert.equal(K.is_UDP(), false);
    assert.equal(K.is_proto('ut'), true);
    assert.equal(K.is_proto('e'), false);
    assert.equal(K.is_IPv4(), true);
    assert.equal(K.is_src_port(5060), true);
    assert.equal(K.is_dst_port(5060), true);
  });
});

describe('core: logging', () => {
  it('logs at the named level, picking it from the first letter', () => {
    const ctx = fakeContext();
    const K = ksr(ctx);
    K.info('hello\n');
    K.log('warn', 'careful');
    K.log('ERR', 'broken');
    K.log('whatever-else-w', 'w');
    K.log('x', 'debug');
    K.crit('c');
    assert.deepEqual(
      ctx.logs.map((l) => l.level),
      ['info', 'warn', 'err', 'warn', 'dbg', 'crit'],
    );
    assert.equal(ctx.logs[0].text, 'hello\n');
  });
});
