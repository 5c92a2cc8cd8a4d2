import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { fakeContext, request, response } from '../testing/fake_context.ts';
import { ksr } from '../testing/ksr.ts';
import { sanityConfig } from './index.ts';

/** Run sanity_check on a request; the result and the replies sent. */
function check(text: string, msgChecks?: number, uriChecks?: number) {
  const ctx = fakeContext(text);
  const rc = ksr(ctx).sanity.sanity_check(msgChecks, uriChecks);
  return {
    rc,
    replies: ctx.replies.map((r) => ({ code: r.code, reason: r.reason, headers: r.headers })),
    ctx,
  };
}

describe('sanity_check', () => {
  afterEach(() => {
    sanityConfig.proxyRequire = [];
    sanityConfig.noreply = 0;
  });

  it('passes a well-formed request (kamailio-basic-kemi masks and the defaults)', () => {
    assert.equal(check(request(), 17895, 7).rc, 1);
    assert.equal(check(request()).rc, 1);
    assert.equal(ksr(fakeContext()).sanity.sanity_check_defaults(), 1);
  });

  it('416 for an R-URI scheme Kamailio does not route', () => {
    const r = check(request({ ruri: 'http://example.com/x' }), 2, 7);
    assert.equal(r.rc, -1);
    assert.deepEqual(r.replies, [
      { code: 416, reason: 'Unsupported URI Scheme in Request URI', headers: [] },
    ]);
    assert.equal(check(request({ ruri: 'tel:+15551234' }), 2, 7).rc, 1);
  });

  it('400 for an R-URI that does not parse', () => {
    const r = check(request({ ruri: 'sip:bob@[::1' }), 2, 7);
    assert.deepEqual(r.replies[0], { code: 400, reason: 'Bad Request URI', headers: [] });
  });

  it('400 for a bad Expires value', () => {
    const r = check(request({ headers: ['Expires: abc'] }), 256, 7);
    assert.equal(r.rc, -1);
    assert.equal(r.replies[0].reason, 'Expires value is illegal');
    assert.equal(check(request({ headers: ['Expires: 3600'] }), 256, 7).rc, 1);
  });

  it('420 with Unsupported for Proxy-Require extensions we do not support', () => {
    const r = check(request({ headers: ['Proxy-Require: foo, bar'] }), 512, 7);
    assert.equal(r.rc, -1);
    assert.deepEqual(r.replies[0], {
      code: 420,
      reason: 'Bad Extension',
      headers: ['Unsupported: foo, bar\r\n'],
    });
    sanityConfig.proxyRequire = ['FOO', 'bar'];
    assert.equal(check(request({ headers: ['Proxy-Require: foo, bar'] }), 512, 7).rc, 1);
  });

  it('400 for From / To / Contact that do not parse (uri_checks)', () => {
    assert.equal(
      check(request({ from: '<sip:al ice@x>;tag=1' }), 1024, 7).replies[0].reason,
      'Bad From header',
    );
    assert.equal(check(request({ to: 'Bob <sip:bob@@x>' }), 1024, 7).replies[0].reason, 'Bad To URI');
    const contact = request({ headers: ['Contact: <sip:a@b'] });
    assert.equal(check(contact, 1024, 7).rc, 1, 'Contact is not checked unless uri_checks has 8');
    assert.equal(check(contact, 1024, 15).replies[0].reason, 'Bad Contact Header');
  });

  it('checks digest credentials (2048 refuses other schemes, 8192 lets them pass)', () => {
    const partial = request({ headers: ['Authorization: Digest username="a", realm="r"'] });
    assert.equal(check(partial, 2048, 7).replies[0].reason, 'Bad Credentials');
    const basic = request({ headers: ['Authorization: Basic YWxhZGRpbjpvcGVuc2VzYW1l'] });
    assert.equal(check(basic, 2048, 7).rc, -1);
    assert.equal(check(basic, 8192, 7).rc, 1);
    const full = request({
      headers: [
        'Authorization: Digest username="a", realm="r", nonce="n", uri="sip:b@x", response="0123456789abcdef0123456789abcdef"',
      ],
    });
    assert.equal(check(full, 2048 | 8192, 7).rc, 1);
  });

  it('400 for duplicate From/To tags', () => {
    const r = check(request({ from: 'Alice <sip:alice@x>;tag=1;tag=2' }), 4096, 7);
    assert.equal(r.replies[0].reason, 'Duplicate tag in From header');
  });

  it('never replies to an ACK (or a reply), but still fails it', () => {
    const r = check(request({ method: 'ACK', headers: ['Expires: abc'] }), 256, 7);
    assert.equal(r.rc, -1);
    assert.equal(r.replies.length, 0);
    const reply = fakeContext(response(200, 'OK', ['Expires: x']), { request: request() });
    assert.equal(ksr(reply).sanity.sanity_check(256, 7), -1);
    assert.equal(reply.replies.length, 0);
  });

  it('refuses masks out of range without replying', () => {
    const r = check(request(), 0, 7);
    assert.equal(r.rc, -1);
    assert.equal(r.replies.length, 0);
    assert.equal(check(request(), 1 << 17, 7).rc, -1);
    assert.equal(check(request(), 1, 16).rc, -1);
  });

  it('noreply mode: the reply waits for sanity_reply()', () => {
    sanityConfig.noreply = 1;
    const ctx = fakeContext(request({ headers: ['Expires: abc'] }));
    const K = ksr(ctx);
    assert.equal(K.sanity.sanity_check(256, 7), -1);
    assert.equal(ctx.replies.length, 0);
    assert.equal(K.sanity.sanity_reply(), 1);
    assert.equal(ctx.replies[0].code, 400);
    assert.equal(K.sanity.sanity_reply(), -1, 'nothing left to send');
  });
});
