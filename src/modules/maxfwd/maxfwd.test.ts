import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fakeContext, request } from '../testing/fake_context.ts';
import { ksr } from '../testing/ksr.ts';

function withMaxForwards(n: number | undefined): string {
  if (n === undefined) return request({ noMaxForwards: true });
  return request({ noMaxForwards: true, headers: [`Max-Forwards: ${n}`] });
}

function sentMaxForwards(text: string): string | undefined {
  const line = text.split('\r\n').find((l) => l.startsWith('Max-Forwards:'));
  return line?.slice('Max-Forwards:'.length).trim();
}

describe('maxfwd', () => {
  it('adds Max-Forwards when absent and returns 2', () => {
    const ctx = fakeContext(withMaxForwards(undefined));
    assert.equal(ksr(ctx).maxfwd.process_maxfwd(10), 2);
    assert.equal(sentMaxForwards(ctx.msg.toString()), '10');
    assert.equal(ctx.msg.maxForwardsProcessed, true, 'the proxy will not decrement again');
  });

  it('decrements and returns 1', () => {
    const ctx = fakeContext(withMaxForwards(70));
    assert.equal(ksr(ctx).maxfwd.process_maxfwd(10), 1);
    assert.equal(sentMaxForwards(ctx.msg.toString()), '69');
  });

  it('returns -1 at 0 (the script answers 483)', () => {
    const ctx = fakeContext(withMaxForwards(0));
    assert.equal(ksr(ctx).maxfwd.process_maxfwd(10), -1);
    assert.equal(ctx.msg.hasEdits, false);
  });

  it('caps the decremented value at max_limit (70)', () => {
    const ctx = fakeContext(withMaxForwards(255));
    assert.equal(ksr(ctx).maxfwd.process_maxfwd(10), 1);
    assert.equal(sentMaxForwards(ctx.msg.toString()), '70');
  });

  it('is idempotent when called twice', () => {
    const ctx = fakeContext(withMaxForwards(5));
    const K = ksr(ctx);
    K.maxfwd.process_maxfwd(10);
    K.maxfwd.process_maxfwd(10);
    assert.equal(sentMaxForwards(ctx.msg.toString()), '4');
  });

  it('refuses a bad limit with -2', () => {
    assert.equal(ksr(fakeContext()).maxfwd.process_maxfwd(256), -2);
    assert.equal(ksr(fakeContext()).maxfwd.process_maxfwd(-1), -2);
  });

  it('is_maxfwd_lt sees the processed value', () => {
    const ctx = fakeContext(withMaxForwards(2));
    const K = ksr(ctx);
    assert.equal(K.maxfwd.is_maxfwd_lt(2), -1);
    K.maxfwd.process_maxfwd(10);
    assert.equal(K.maxfwd.is_maxfwd_lt(2), 1, 'after the decrement it is 1');
    assert.equal(ksr(fakeContext(withMaxForwards(undefined))).maxfwd.is_maxfwd_lt(5), -2);
    assert.equal(K.maxfwd.is_maxfwd_lt(300), -3);
  });
});
