import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isExitSentinel, wasExited } from '../../script/exit.ts';
import { fakeContext, request, response } from '../testing/fake_context.ts';
import { ksr } from '../testing/ksr.ts';
import { modfNames } from './modf.ts';

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('x: exit and drop', () => {
  it('exit throws the engine sentinel and marks the context', () => {
    const ctx = fakeContext();
    const e = thrown(() => ksr(ctx).x.exit());
    assert.ok(isExitSentinel(e));
    assert.equal(wasExited(ctx), true);
    assert.equal(ctx.dropped, false);
  });

  it('drop also drops the branch or reply', () => {
    const ctx = fakeContext();
    assert.ok(isExitSentinel(thrown(() => ksr(ctx).x.drop())));
    assert.equal(ctx.dropped, true);
  });
});

describe('x: modf', () => {
  it('calls functions by their kamailio.cfg names with string parameters', async () => {
    const ctx = fakeContext();
    const K = ksr(ctx);
    assert.equal(K.x.modf('is_method', 'INVITE'), 1, 'booleans become 1 / -1');
    assert.equal(K.x.modf('is_method', 'BYE'), -1);
    assert.equal(K.x.modf('append_hf', 'X-Modf: 1\r\n'), 1);
    assert.equal(K.x.modf('append_hf', 'X-After: 1\r\n', 'Call-ID'), 1);
    assert.equal(K.x.modf('setflag', '3'), 1);
    assert.equal(K.isflagset(3), true);
    assert.equal(K.x.modf('mf_process_maxfwd_header', '10'), 1);
    assert.equal(K.x.modf('record_route'), 1);
    assert.equal(K.x.modf('t_on_failure', 'ksr_failure'), 1);
    assert.equal(await K.x.modf('t_relay'), 1, 'I/O stays a Promise');
    assert.equal(K.x.modf('sl_send_reply', '404', 'Not here'), 1);
    assert.deepEqual(
      ctx.replies.map((r) => [r.code, r.reason]),
      [[404, 'Not here']],
    );
    const out = ctx.msg.toString();
    assert.ok(out.includes('X-Modf: 1\r\n') && out.includes('X-After: 1\r\n'));
    assert.equal(ctx.handlers.get('failure'), 'ksr_failure');
    assert.equal(ctx.relays.length, 1);
  });

  it('returns -1 for an unknown name, and respects route kinds', () => {
    const ctx = fakeContext(response(200, 'OK'), { request: request() });
    const K = ksr(ctx);
    assert.equal(K.x.modf('no_such_function'), -1);
    assert.equal(K.x.modf('sl_send_reply', '500', 'x'), -1);
    assert.equal(ctx.replies.length, 0);
    assert.equal(ctx.logs.length, 2);
  });

  it('knows the common cfg names', () => {
    const names = modfNames();
    for (const n of [
      'sl_send_reply',
      't_relay',
      'record_route',
      'loose_route',
      'append_hf',
      'remove_hf',
      'is_present_hf',
    ]) {
      assert.ok(names.includes(n), n);
    }
  });
});
