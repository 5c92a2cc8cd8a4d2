import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fakeContext, request, response } from '../testing/fake_context.ts';
import { ksr } from '../testing/ksr.ts';
import { isAlphanumex, isE164, isNumeric, isTelNumber } from './strings.ts';
import { tel2sipUri } from './uri_params.ts';

describe('siputils: message tests', () => {
  it('has_totag / is_request / is_reply', () => {
    const initial = ksr(fakeContext());
    assert.equal(initial.siputils.has_totag(), -1);
    assert.equal(initial.siputils.is_request(), 1);
    assert.equal(initial.siputils.is_reply(), -1);
    assert.equal(ksr(fakeContext(request({ to: '<sip:b@x>;tag=1' }))).siputils.has_totag(), 1);
    const reply = ksr(fakeContext(response(200, 'OK'), { request: request() }));
    assert.equal(reply.siputils.is_reply(), 1);
    assert.equal(reply.siputils.is_first_hop(), 1, 'two Vias: the reply goes back to the UA that sent to us');
  });

  it('is_first_hop: a request with one Via came straight from its UA', () => {
    assert.equal(ksr(fakeContext()).siputils.is_first_hop(), 1);
    const twoVias = request({
      via: 'SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKa, SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKb',
    });
    assert.equal(ksr(fakeContext(twoVias)).siputils.is_first_hop(), -1);
  });

  it('is_user compares the digest username', () => {
    const withCreds = request({
      headers: [
        'Proxy-Authorization: Digest username="alice", realm="r", nonce="n", uri="sip:b@x", response="00"',
      ],
    });
    assert.equal(ksr(fakeContext(withCreds)).siputils.is_user('alice'), 1);
    assert.equal(ksr(fakeContext(withCreds)).siputils.is_user('bob'), -1);
    assert.equal(ksr(fakeContext()).siputils.is_user('alice'), -1);
  });

  it('is_supported reads Supported', () => {
    const K = ksr(fakeContext(request({ headers: ['Supported: 100rel, Timer'] })));
    assert.equal(K.siputils.is_supported('timer'), 1);
    assert.equal(K.siputils.is_supported('path'), -1);
  });
});

describe('siputils: URIs', () => {
  it('uri_param tests R-URI parameters, with or without a value', () => {
    const K = ksr(fakeContext(request({ ruri: 'sip:bob@example.com;transport=tcp;lr' })));
    assert.equal(K.siputils.uri_param('transport'), 1);
    assert.equal(K.siputils.uri_param('transport', 'tcp'), 1);
    assert.equal(K.siputils.uri_param('transport', 'udp'), -1);
    assert.equal(K.siputils.uri_param_value('lr', ''), 1);
    assert.equal(K.siputils.uri_param('maddr'), -1);
  });

  it('add_uri_param / uri_param_rm edit the R-URI', () => {
    const ctx = fakeContext(request({ ruri: 'sip:bob@example.com;transport=tcp' }));
    const K = ksr(ctx);
    assert.equal(K.siputils.add_uri_param('nat=yes'), 1);
    assert.equal(ctx.msg.ruri, 'sip:bob@example.com;transport=tcp;nat=yes');
    assert.equal(K.siputils.uri_param_rm('TRANSPORT'), 1);
    assert.equal(ctx.msg.ruri, 'sip:bob@example.com;nat=yes');
    assert.equal(K.siputils.add_uri_param('bad param'), -1);
    assert.equal(K.siputils.add_uri_param(''), -1);
  });

  it('is_uri_user_e164 / is_e164 and the string tests', () => {
    const K = ksr(fakeContext());
    assert.equal(K.siputils.is_uri_user_e164('sip:+4915112345678@example.com'), 1);
    assert.equal(K.siputils.is_uri_user_e164('sip:4915112345678@example.com'), -1);
    assert.equal(K.siputils.is_uri_user_e164('tel:+4915112345678'), 1);
    assert.equal(isE164('+1'), false);
    assert.equal(isE164('+12'), true);
    assert.equal(isE164('+1234567890123456'), false);
    assert.equal(isNumeric('0123'), true);
    assert.equal(isNumeric(''), false);
    assert.equal(isTelNumber('+49'), true);
    assert.equal(isTelNumber('+'), false);
    assert.equal(isAlphanumex('ab-1_2', '-_'), true);
    assert.equal(K.siputils.is_alphanum('ab1'), 1);
    assert.equal(K.siputils.is_alphanum('a b'), -1);
    assert.equal(K.siputils.is_uri('sip:alice@example.com'), 1);
    assert.equal(K.siputils.is_uri('nope'), -1);
  });

  it('cmp_uri (RFC 3261 §19.1.4) and cmp_aor', () => {
    const K = ksr(fakeContext());
    assert.equal(
      K.siputils.cmp_uri('sip:alice@EXAMPLE.com;transport=tcp', 'sip:alice@example.com;transport=TCP'),
      1,
    );
    assert.equal(K.siputils.cmp_uri('sip:alice@example.com', 'sip:alice@example.com:5060'), -1);
    assert.equal(K.siputils.cmp_aor('sip:alice@example.com;x=1', 'sip:alice@Example.com'), 1);
    assert.equal(K.siputils.cmp_aor('sip:alice@example.com', 'sip:bob@example.com'), -1);
  });

  it('tel2sip converts tel: URIs into a PV', () => {
    assert.equal(
      tel2sipUri('tel:+358-555-1234567;postd=pp22', 'sip:foo.bar'),
      'sip:+3585551234567;postd=pp22@foo.bar;user=phone',
    );
    assert.equal(tel2sipUri('sip:alice@example.com', 'foo.bar'), 'sip:alice@example.com');
    const K = ksr(fakeContext());
    assert.equal(K.siputils.tel2sip('tel:+1-555-0100', 'example.com', '$var(out)'), 1);
    assert.equal(K.pv.get('$var(out)'), 'sip:+15550100@example.com;user=phone');
    assert.equal(K.siputils.tel2sip('tel:+1', 'example.com', '$ci'), -1, 'read-only target');
  });
});

describe('siputils: options_reply', () => {
  it('answers OPTIONS to the server itself with 200 and capabilities', () => {
    const ctx = fakeContext(request({ method: 'OPTIONS', ruri: 'sip:127.0.0.1' }));
    assert.equal(ksr(ctx).siputils.options_reply(), 1);
    assert.equal(ctx.replies[0].code, 200);
    assert.ok(ctx.replies[0].headers.some((h) => h.startsWith('Allow: INVITE, ACK')));
    assert.ok(ctx.replies[0].headers.includes('Accept: */*\r\n'));
  });

  it('returns -1 for OPTIONS to a user and for other methods', () => {
    assert.equal(ksr(fakeContext(request({ method: 'OPTIONS' }))).siputils.options_reply(), -1);
    assert.equal(ksr(fakeContext(request({ ruri: 'sip:127.0.0.1' }))).siputils.options_reply(), -1);
  });
});
