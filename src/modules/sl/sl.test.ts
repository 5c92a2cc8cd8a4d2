import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fakeContext, parse, request, response } from '../testing/fake_context.ts';
import { ksr } from '../testing/ksr.ts';
import { replyToTag } from './totag.ts';

describe('sl', () => {
  it('send_reply / sl_send_reply / sreply answer the request', () => {
    const ctx = fakeContext();
    const K = ksr(ctx);
    assert.equal(K.sl.send_reply(404, 'Not here'), 1);
    assert.equal(K.sl.sl_send_reply(486, 'Busy Here'), 1);
    assert.equal(K.sl.sreply(200, 'OK'), 1);
    assert.deepEqual(
      ctx.replies.map((r) => [r.code, r.reason]),
      [
        [404, 'Not here'],
        [486, 'Busy Here'],
        [200, 'OK'],
      ],
    );
  });

  it('uses the standard reason phrase when none is given, and refuses bad codes', () => {
    const ctx = fakeContext();
    const K = ksr(ctx);
    assert.equal(K.sl.send_reply(480, ''), 1);
    assert.equal(K.sl.send_reply(483, 'bad\r\nInjected: header'), 1);
    assert.equal(K.sl.send_reply(99, 'x'), -1);
    assert.equal(K.sl.send_reply(700, 'x'), -1);
    assert.equal(K.sl.send_reply(Number.NaN, 'x'), -1);
    assert.deepEqual(
      ctx.replies.map((r) => r.reason),
      ['Temporarily Unavailable', 'Too Many Hops'],
    );
  });

  it('sl_reply_error answers 500', () => {
    const ctx = fakeContext();
    assert.equal(ksr(ctx).sl.sl_reply_error(), 1);
    assert.equal(ctx.replies[0].code, 500);
  });

  it('cannot reply from a reply route', () => {
    const ctx = fakeContext(response(200, 'OK'), { request: request() });
    assert.equal(ksr(ctx).sl.send_reply(500, 'x'), -1);
    assert.equal(ctx.replies.length, 0);
  });

  it('get_reply_totag is stable for retransmissions and differs between requests', () => {
    const a = ksr(fakeContext()).sl.get_reply_totag();
    const again = ksr(fakeContext()).sl.get_reply_totag();
    const other = ksr(
      fakeContext(request({ via: 'SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKother' })),
    ).sl.get_reply_totag();
    assert.equal(typeof a, 'string');
    assert.equal(a, again);
    assert.notEqual(a, other);
    assert.equal(a, replyToTag(parse(request())));
    const inDialog = request({ to: '<sip:bob@example.com>;tag=existing' });
    assert.equal(ksr(fakeContext(inDialog)).sl.get_reply_totag(), 'existing');
  });
});
