import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RouteKind } from '../../proxy/context.ts';
import { fakeContext, request, response } from '../testing/fake_context.ts';
import { ksr } from '../testing/ksr.ts';

describe('tmx', () => {
  it('t_precheck_trans is always -1 (retransmissions are absorbed before routing)', () => {
    assert.equal(ksr(fakeContext()).tmx.t_precheck_trans(), -1);
  });

  it('t_flush_flags is a no-op success', () => {
    assert.equal(ksr(fakeContext()).tmx.t_flush_flags(), 1);
  });

  it('t_is_*_route follow the route kind', () => {
    const at = (kind: RouteKind) =>
      ksr(
        kind === 'reply' || kind === 'onreply'
          ? fakeContext(response(200, 'OK'), { request: request(), kind })
          : fakeContext(request(), { kind }),
      ).tmx;
    assert.equal(at('request').t_is_request_route(), 1);
    assert.equal(at('failure').t_is_request_route(), -1);
    assert.equal(at('failure').t_is_failure_route(), 1);
    assert.equal(at('branch').t_is_branch_route(), 1);
    assert.equal(at('onreply').t_is_reply_route(), 1);
    assert.equal(at('reply').t_is_reply_route(), 1);
    assert.equal(at('request').t_is_reply_route(), -1);
  });
});
