import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fakeContext, request } from '../testing/fake_context.ts';
import { ksr } from '../testing/ksr.ts';

describe('corex', () => {
  it('append_branch() keeps the current R-URI and $du as a branch', () => {
    const ctx = fakeContext();
    const K = ksr(ctx);
    K.setdsturi('sip:10.0.0.1');
    assert.equal(K.corex.append_branch(), 1);
    assert.deepEqual(ctx.branches, [{ uri: 'sip:bob@example.com', dstUri: 'sip:10.0.0.1' }]);
  });

  it('append_branch(uri, q) adds a destination with its q value and branch flags', () => {
    const ctx = fakeContext();
    const K = ksr(ctx);
    K.setbflag(4);
    assert.equal(K.corex.append_branch('sip:carol@example.com', '0.5'), 1);
    assert.equal(K.corex.append_branch_uri('sip:dave@example.com'), 1);
    assert.equal(K.corex.append_branch_uri_q('sip:eve@example.com', '700'), 1);
    assert.deepEqual(ctx.branches, [
      { uri: 'sip:carol@example.com', q: 0.5, flags: 16 },
      { uri: 'sip:dave@example.com', flags: 16 },
      { uri: 'sip:eve@example.com', q: 0.7, flags: 16 },
    ]);
  });

  it('refuses a bad URI or q', () => {
    const ctx = fakeContext();
    const K = ksr(ctx);
    assert.equal(K.corex.append_branch('not a uri'), -1);
    assert.equal(K.corex.append_branch('sip:a@b', 'x'), -1);
    assert.equal(ctx.branches.length, 0);
  });

  it('has_user_agent / has_ruri_user', () => {
    assert.equal(ksr(fakeContext()).corex.has_user_agent(), -1);
    assert.equal(ksr(fakeContext(request({ headers: ['User-Agent: x'] }))).corex.has_user_agent(), 1);
    assert.equal(ksr(fakeContext()).corex.has_ruri_user(), 1);
    assert.equal(ksr(fakeContext(request({ ruri: 'sip:example.com' }))).corex.has_ruri_user(), -1);
  });
});
