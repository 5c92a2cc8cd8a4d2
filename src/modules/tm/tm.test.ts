import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fakeContext, request, response } from '../testing/fake_context.ts';
import { ksr } from '../testing/ksr.ts';

describe('tm: relay', () => {
  it('t_relay relays to $du / the R-URI and the appended branches (a Promise)', async () => {
    const ctx = fakeContext();
    const K = ksr(ctx);
    K.setdsturi('sip:10.0.0.1');
    K.corex.append_branch('sip:carol@example.com');
    const r = K.tm.t_relay();
    assert.ok(r instanceof Promise);
    assert.equal(await r, 1);
    assert.deepEqual(ctx.relays, [
      { ruri: 'sip:bob@example.com', dstUri: 'sip:10.0.0.1', branches: [{ uri: 'sip:carol@example.com' }] },
    ]);
  });

  it('passes the relay result through', async () => {
    const K = ksr(fakeContext(request(), { relayResult: -1 }));
    assert.equal(await K.tm.t_relay(), -1);
  });

  it('t_relay_to_proto_addr / t_relay_to_proxy relay to an explicit address', async () => {
    const ctx = fakeContext();
    const K = ksr(ctx);
    assert.equal(await K.tm.t_relay_to_proto_addr('tcp', '10.0.0.5', 5080), 1);
    assert.equal(ctx.relays[0].dstUri, 'sip:10.0.0.5:5080;transport=tcp');
    assert.equal(await K.tm.t_relay_to_proxy('udp:[2001:db8::5]:5060'), 1);
    assert.equal(ctx.relays[1].dstUri, 'sip:[2001:db8::5]:5060');
    assert.equal(await K.tm.t_relay_to_proto_addr('sctp', '10.0.0.5', 5080), -1);
    assert.equal(await K.tm.t_relay_to_proxy('nonsense'), -1);
    assert.equal(ctx.relays.length, 2);
  });

  it('t_reply / t_send_reply answer the request', () => {
    const ctx = fakeContext();
    const K = ksr(ctx);
    assert.equal(K.tm.t_reply(404, 'Not Found'), 1);
    assert.equal(K.tm.t_send_reply(500, 'Oops'), 1);
    assert.deepEqual(
      ctx.replies.map((r) => r.code),
      [404, 500],
    );
  });
});

describe('tm: handlers', () => {
  it('t_on_* store a function or a name; t_is_set reads them', () => {
    const ctx = fakeContext();
    const K = ksr(ctx);
    const onBranch = (): void => undefined;
    assert.equal(K.tm.t_is_set('failure_route'), -1);
    assert.equal(K.tm.t_on_failure('ksr_failure_manage'), 1);
    assert.equal(K.tm.t_on_branch(onBranch), 1);
    assert.equal(K.tm.t_on_reply('ksr_onreply'), 1);
    assert.equal(K.tm.t_on_branch_failure('ksr_bf'), 1);
    assert.equal(ctx.handlers.get('failure'), 'ksr_failure_manage');
    assert.equal(ctx.handlers.get('branch'), onBranch);
    assert.equal(ctx.handlers.get('onreply'), 'ksr_onreply');
    assert.equal(K.tm.t_is_set('failure_route'), 1);
    assert.equal(K.tm.t_is_set('branch_route'), 1);
    assert.equal(K.tm.t_is_set('onreply_route'), 1);
    assert.equal(K.tm.t_on_failure(''), 1, 'an empty name resets');
    assert.equal(K.tm.t_is_set('failure_route'), -1);
    assert.equal(K.tm.t_is_set('nonsense' as 'failure_route'), -1);
    assert.equal(K.tm.t_on_failure(42 as unknown as string), -1);
  });

  it('t_is_set works without the context extension, from what t_on_* recorded', () => {
    const ctx = fakeContext(request(), { extras: false });
    const K = ksr(ctx);
    assert.equal(K.tm.t_is_set('failure_route'), -1);
    K.tm.t_on_failure('f');
    assert.equal(K.tm.t_is_set('failure_route'), 1);
  });
});

describe('tm: transaction tests', () => {
  it('t_check_trans: 1 with a transaction, -1 without and for CANCEL', () => {
    assert.equal(ksr(fakeContext()).tm.t_check_trans(), 1);
    assert.equal(ksr(fakeContext(request(), { hasTransaction: false })).tm.t_check_trans(), -1);
    assert.equal(ksr(fakeContext(request({ method: 'CANCEL' }))).tm.t_check_trans(), -1);
    assert.equal(ksr(fakeContext()).tm.t_newtran(), 1);
    assert.equal(ksr(fakeContext(request({ method: 'ACK' }), { hasTransaction: false })).tm.t_newtran(), -1);
  });

  it('t_is_canceled', () => {
    assert.equal(ksr(fakeContext(request(), { canceled: true })).tm.t_is_canceled(), 1);
    assert.equal(ksr(fakeContext()).tm.t_is_canceled(), -1);
  });

  it('t_set_fr / t_set_fr_inv set per-transaction timers', () => {
    const ctx = fakeContext();
    const K = ksr(ctx);
    assert.equal(K.tm.t_set_fr(60000, 4000), 1);
    assert.deepEqual(ctx.timers, { frInvMs: 60000, frMs: 4000 });
    assert.equal(K.tm.t_set_fr_inv(30000), 1);
    assert.deepEqual(ctx.timers, { frInvMs: 30000, frMs: 0 });
    assert.equal(K.tm.t_set_fr(-1, 0), -1);
  });

  it('t_check_status matches the reply status in failure and onreply routes', () => {
    const failure = ksr(fakeContext(request(), { kind: 'failure', replyCode: 486 }));
    assert.equal(failure.tm.t_check_status('486|408'), 1);
    assert.equal(failure.tm.t_check_status('5[0-9][0-9]'), -1);
    assert.equal(failure.tm.t_check_status('('), -1, 'invalid expression');
    assert.equal(failure.tm.t_get_status_code(), 486);
    const onreply = ksr(fakeContext(response(183, 'Session Progress'), { request: request() }));
    assert.equal(onreply.tm.t_check_status('18[0-9]'), 1);
    assert.equal(ksr(fakeContext()).tm.t_check_status('.*'), -1, 'no reply in a request route');
    assert.equal(ksr(fakeContext()).tm.t_get_status_code(), -1);
  });

  it('t_branch_timeout / t_any_timeout: the failed branch got the local 408', () => {
    assert.equal(ksr(fakeContext(request(), { kind: 'failure', replyCode: 408 })).tm.t_branch_timeout(), 1);
    assert.equal(ksr(fakeContext(request(), { kind: 'failure', replyCode: 486 })).tm.t_branch_timeout(), -1);
    assert.equal(ksr(fakeContext(request(), { kind: 'failure', replyCode: 408 })).tm.t_any_timeout(), 1);
    assert.equal(ksr(fakeContext()).tm.t_branch_timeout(), -1, 'not a failure route');
  });

  it('t_relay is refused in a branch route', async () => {
    const ctx = fakeContext(request(), { kind: 'branch' });
    assert.equal(await ksr(ctx).tm.t_relay(), -1);
    assert.equal(ctx.relays.length, 0);
  });
});
