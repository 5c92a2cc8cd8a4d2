import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fakeContext, request, response } from '../testing/fake_context.ts';
import { ksr } from '../testing/ksr.ts';
import { pvSpec, supportedPvNames } from './pseudo_variables.ts';
import { sharedVars } from './pv_store.ts';

const INVITE = request({
  ruri: 'sip:bob@example.com:5070;transport=TCP',
  headers: [
    'User-Agent: softphone/1.0',
    'Contact: <sip:alice@192.0.2.10:5060>',
    'Content-Type: application/sdp',
    'X-Multi: a',
    'X-Multi: b, c',
    'Proxy-Authorization: Digest username="alice@atlanta.example.com", realm="atlanta.example.com", nonce="n1", uri="sip:bob@example.com", response="0123456789abcdef0123456789abcdef"',
  ],
  body: 'v=0\r\n',
});

describe('pv: message pseudo-variables', () => {
  const ctx = fakeContext(INVITE, { source: { address: '192.0.2.10', port: 5062 } });
  const K = ksr(ctx);

  it('reads the Request-URI and its parts', () => {
    assert.equal(K.pv.get('$ru'), 'sip:bob@example.com:5070;transport=TCP');
    assert.equal(K.pv.get('$rU'), 'bob');
    assert.equal(K.pv.get('$rd'), 'example.com');
    assert.equal(K.pv.get('$rp'), 5070);
    assert.equal(K.pv.get('$rP'), 'tcp');
    assert.equal(K.pv.get('$rz'), 'sip');
    assert.equal(K.pv.get('$ou'), 'sip:bob@example.com:5070;transport=TCP');
    assert.equal(K.pv.get('$(ru)'), K.pv.get('$ru'), 'the $(name) form');
  });

  it('reads From, To and other headers', () => {
    assert.equal(K.pv.get('$fu'), 'sip:alice@atlanta.example.com');
    assert.equal(K.pv.get('$fU'), 'alice');
    assert.equal(K.pv.get('$fd'), 'atlanta.example.com');
    assert.equal(K.pv.get('$fn'), 'Alice');
    assert.equal(K.pv.get('$ft'), '1928301774');
    assert.equal(K.pv.get('$tu'), 'sip:bob@example.com');
    assert.equal(K.pv.get('$tt'), null);
    assert.equal(K.pv.get('$ci'), 'a84b4c76e66710@pc33.atlanta.example.com');
    assert.equal(K.pv.get('$cs'), 314159);
    assert.equal(K.pv.get('$rm'), 'INVITE');
    assert.equal(K.pv.get('$ua'), 'softphone/1.0');
    assert.equal(K.pv.get('$ct'), '<sip:alice@192.0.2.10:5060>');
    assert.equal(K.pv.get('$cT'), 'application/sdp');
    assert.equal(K.pv.get('$cl'), 5);
    assert.equal(K.pv.get('$rb'), 'v=0\r\n');
    assert.equal(K.pv.get('$bs'), 5);
    assert.equal(K.pv.get('$rs'), null);
    assert.equal(K.pv.get('$mt'), 1);
    assert.equal(typeof K.pv.get('$ml'), 'number');
    assert.ok(String(K.pv.get('$mb')).startsWith('INVITE sip:bob@example.com'));
  });

  it('reads $hdr with indexes and $hdrc', () => {
    assert.equal(K.pv.get('$hdr(X-Multi)'), 'a');
    assert.equal(K.pv.get('$hdr(x-multi)'), 'a', 'names in any case');
    assert.equal(K.pv.get('$(hdr(X-Multi)[1])'), 'b, c');
    assert.equal(K.pv.get('$(hdr(X-Multi)[-1])'), 'b, c');
    assert.equal(K.pv.get('$(hdr(X-Multi)[*])'), 'a,b, c');
    assert.equal(K.pv.get('$(hdr(X-Multi)[2])'), null);
    assert.equal(K.pv.get('$hdr(f)'), 'Alice <sip:alice@atlanta.example.com>;tag=1928301774', 'compact form');
    assert.equal(K.pv.get('$hdr(X-None)'), null);
    assert.equal(K.pv.get('$hdrc(X-Multi)'), 2);
    assert.equal(K.pv.get('$hdrc(X-None)'), 0);
  });

  it('reads the transport context', () => {
    assert.equal(K.pv.get('$si'), '192.0.2.10');
    assert.equal(K.pv.get('$sp'), 5062);
    assert.equal(K.pv.get('$su'), 'sip:192.0.2.10:5062');
    assert.equal(K.pv.get('$sut'), 'sip:192.0.2.10:5062;transport=udp');
    assert.equal(K.pv.get('$Ri'), '127.0.0.1');
    assert.equal(K.pv.get('$Rp'), 5060);
    assert.equal(K.pv.get('$pr'), 'udp');
    assert.equal(K.pv.get('$proto'), 'udp');
    assert.equal(K.pv.get('$conid'), null);
  });

  it('reads digest credentials', () => {
    assert.equal(K.pv.get('$au'), 'alice');
    assert.equal(K.pv.get('$ad'), 'atlanta.example.com');
    assert.equal(K.pv.get('$aU'), 'alice@atlanta.example.com');
    assert.equal(K.pv.get('$ar'), 'atlanta.example.com');
    assert.equal(K.pv.get('$adu'), 'sip:bob@example.com');
  });

  it('answers the scheme default port when the R-URI has none', () => {
    assert.equal(ksr(fakeContext(request({ ruri: 'sips:bob@example.com' }))).pv.get('$rp'), 5061);
    assert.equal(ksr(fakeContext(request())).pv.get('$rp'), 5060);
    assert.equal(ksr(fakeContext(request({ ruri: 'sip:example.com' }))).pv.is_null('$rU'), true);
    assert.equal(ksr(fakeContext(request({ ruri: 'tel:+15551234' }))).pv.get('$rU'), '+15551234');
  });
});

describe('pv: reply routes', () => {
  it('reads the reply, and the request through $T_req', () => {
    const ctx = fakeContext(response(486, 'Busy Here'), {
      request: request(),
      branchIndex: 1,
      kind: 'onreply',
    });
    const K = ksr(ctx);
    assert.equal(K.pv.get('$rs'), 486);
    assert.equal(K.pv.get('$rr'), 'Busy Here');
    assert.equal(K.pv.get('$rm'), 'INVITE');
    assert.equal(K.pv.get('$ru'), null);
    assert.equal(K.pv.get('$T_req($ru)'), 'sip:bob@example.com');
    assert.equal(K.pv.get('$T_req($hdr(From))'), 'Alice <sip:alice@atlanta.example.com>;tag=1928301774');
    assert.equal(K.pv.get('$T_reply_code'), 486);
    assert.equal(K.pv.get('$T_branch_idx'), 1);
    assert.equal(K.pv.get('$tt'), 'a6c85cf');
    assert.equal(K.pv.sets('$ru', 'sip:x@example.com'), false, '$ru cannot be set on a reply');
  });
});

describe('pv: setters', () => {
  it('sets the R-URI and its parts', () => {
    const ctx = fakeContext();
    const K = ksr(ctx);
    assert.equal(K.pv.sets('$rU', 'carol'), true);
    assert.equal(K.pv.sets('$rd', 'example.org'), true);
    assert.equal(K.pv.seti('$rp', 5080), true);
    assert.equal(ctx.msg.ruri, 'sip:carol@example.org:5080');
    assert.equal(K.pv.unset('$rp'), true);
    assert.equal(ctx.msg.ruri, 'sip:carol@example.org');
    assert.equal(K.pv.sets('$ru', 'sip:dave@example.net'), true);
    assert.equal(K.pv.get('$ru'), 'sip:dave@example.net');
    assert.equal(K.pv.sets('$ru', 'not a uri'), false);
    assert.equal(K.pv.sets('$rp', 'abc'), false);
  });

  it('sets and unsets $du', () => {
    const ctx = fakeContext();
    const K = ksr(ctx);
    assert.equal(K.pv.sets('$du', 'sip:10.0.0.1:5080'), true);
    assert.equal(ctx.dstUri, 'sip:10.0.0.1:5080');
    assert.equal(K.pv.get('$dd'), '10.0.0.1');
    assert.equal(K.pv.get('$dp'), 5080);
    assert.equal(K.pv.unset('$du'), true);
    assert.equal(ctx.dstUri, undefined);
    assert.equal(K.pv.get('$du'), null);
  });

  it('refuses read-only and unknown names', () => {
    const ctx = fakeContext();
    const K = ksr(ctx);
    assert.equal(K.pv.sets('$ci', 'x'), false);
    assert.equal(K.pv.sets('$nope', 'x'), false);
    assert.equal(ctx.logs.length, 2);
  });

  it('sets the flag words', () => {
    const ctx = fakeContext();
    const K = ksr(ctx);
    assert.equal(K.pv.seti('$mf', 5), true);
    assert.equal(ctx.flags, 5);
    assert.equal(K.isflagset(2), true);
    assert.equal(K.pv.seti('$bf', 2), true);
    assert.equal(ctx.bflags, 2);
  });
});

describe('pv: $var, $vn, $avp, $shv', () => {
  it('$var is never $null (0 when unset), per message', () => {
    const ctx = fakeContext();
    const K = ksr(ctx);
    assert.equal(K.pv.get('$var(x)'), 0);
    assert.equal(K.pv.is_null('$var(x)'), false);
    assert.equal(K.pv.sets('$var(x)', 'abc'), true);
    assert.equal(K.pv.get('$var(x)'), 'abc');
    assert.equal(K.pv.seti('$var(n)', 42), true);
    assert.equal(K.pv.get('$var(n)'), 42);
    assert.equal(K.pv.unset('$var(x)'), true);
    assert.equal(K.pv.get('$var(x)'), 0);
    assert.equal(ksr(fakeContext()).pv.get('$var(n)'), 0, 'another message does not see it');
  });

  it('$vn can hold $null and shares $var storage', () => {
    const K = ksr(fakeContext());
    assert.equal(K.pv.get('$vn(y)'), null);
    K.pv.sets('$var(y)', 'v');
    assert.equal(K.pv.get('$vn(y)'), 'v');
    K.pv.unset('$vn(y)');
    assert.equal(K.pv.is_null('$vn(y)'), true);
  });

  it('refuses $var names starting with "." (reserved for the core)', () => {
    const ctx = fakeContext();
    const K = ksr(ctx);
    assert.equal(K.pv.sets('$var(.advertised_address)', 'x'), false);
    assert.equal(ctx.vars.size, 0);
  });

  it('$avp is a stack: last added first, [n], [*], unset removes the top', () => {
    const ctx = fakeContext();
    const K = ksr(ctx);
    assert.equal(K.pv.is_null('$avp(x)'), true);
    K.pv.sets('$avp(x)', 'one');
    K.pv.seti('$avp(s:x)', 2);
    assert.equal(K.pv.get('$avp(x)'), 2);
    assert.equal(K.pv.get('$(avp(x)[1])'), 'one');
    assert.equal(K.pv.get('$(avp(x)[-1])'), 'one');
    assert.equal(K.pv.get('$(avp(x)[*])'), '2,one');
    assert.deepEqual(ctx.avps.get('x'), [2, 'one']);
    assert.equal(K.pv.sets('$(avp(x)[1])', 'uno'), true);
    assert.equal(K.pv.sets('$(avp(x)[5])', 'no'), false);
    K.pv.unset('$avp(x)');
    assert.deepEqual(ctx.avps.get('x'), ['uno']);
    K.pv.sets('$avp(x)', 'again');
    K.pv.unset('$(avp(x)[*])');
    assert.equal(ctx.avps.has('x'), false);
    K.pv.seti('$avp(i:5)', 7);
    assert.equal(K.pv.get('$avp(i:5)'), 7);
    assert.deepEqual(ctx.avps.get('i:5'), [7]);
  });

  it('$shv is shared by every message', () => {
    ksr(fakeContext()).pv.sets('$shv(counter)', 'shared');
    assert.equal(ksr(fakeContext()).pv.get('$shv(counter)'), 'shared');
    assert.equal(sharedVars.get('counter'), 'shared');
    ksr(fakeContext()).pv.unset('$shv(counter)');
    assert.equal(sharedVars.has('counter'), false);
  });
});

describe('pv: get variants and names', () => {
  it('gete / getw / getvn / getvs / geti', () => {
    const K = ksr(fakeContext());
    assert.equal(K.pv.gete('$tt'), '');
    assert.equal(K.pv.getw('$tt'), '<null>');
    assert.equal(K.pv.getvn('$tt', 9), 9);
    assert.equal(K.pv.getvs('$tt', 'none'), 'none');
    assert.equal(K.pv.getvs('$rm', 'none'), 'INVITE');
    K.pv.sets('$var(n)', '-12abc');
    assert.equal(K.pv.geti('$var(n)'), -12);
    assert.equal(K.pv.geti('$cs'), 314159);
    assert.equal(K.pv.geti('$tt'), 0);
  });

  it('invalid names read as $null and are logged', () => {
    const ctx = fakeContext();
    const K = ksr(ctx);
    for (const name of [
      'ru',
      '$',
      '$nope',
      '$(ru{s.len})',
      '$hdr(',
      '$hdr(bad name)',
      '$ru[0]',
      '$(var(x)[0])',
    ]) {
      assert.equal(K.pv.get(name), null, name);
      assert.equal(K.pv.is_null(name), true, name);
    }
    assert.equal(K.pv.get('$constructor'), null, 'no Object.prototype lookups');
    assert.ok(ctx.logs.every((l) => l.level === 'err'));
  });

  it('parses a name once and caches the spec', () => {
    assert.equal(pvSpec('$hdr(X-Cache)'), pvSpec('$hdr(X-Cache)'));
    assert.equal(pvSpec('$nope'), undefined);
    const names = supportedPvNames();
    assert.ok(names.simple.includes('ru') && names.classes.includes('avp'));
  });

  it('time variables are stable for one message', () => {
    const K = ksr(fakeContext());
    const ts = K.pv.get('$Ts');
    assert.equal(typeof ts, 'number');
    assert.equal(K.pv.get('$Ts'), ts);
    assert.equal(K.pv.get('$TV(s)'), ts);
    const year = K.pv.get('$time(year)');
    assert.ok(typeof year === 'number' && year >= 2024);
    const mon = K.pv.get('$utime(mon)');
    assert.ok(typeof mon === 'number' && mon >= 1 && mon <= 12);
    assert.match(String(K.pv.get('$Tf')), /^[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}$/);
    assert.match(String(K.pv.get('$TV(Sn)')), /^\d+\.\d{6}$/);
    assert.equal(K.pv.get('$time(nope)'), null);
  });

  it('$env reads the environment', () => {
    process.env.JUNCTION_PV_TEST = 'yes';
    assert.equal(ksr(fakeContext()).pv.get('$env(JUNCTION_PV_TEST)'), 'yes');
    delete process.env.JUNCTION_PV_TEST;
  });
});
