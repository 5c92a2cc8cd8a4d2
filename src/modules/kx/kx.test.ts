import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fakeContext, request, response } from '../testing/fake_context.ts';
import { ksr } from '../testing/ksr.ts';

describe('kx', () => {
  const ctx = fakeContext(
    request({
      ruri: 'sip:example.com',
      headers: ['User-Agent: ua/1', 'Contact: <sip:alice@192.0.2.10>'],
      body: 'hi',
    }),
    { source: { address: '192.0.2.10', port: 5070 } },
  );
  const K = ksr(ctx);

  it('reads the Request-URI, From and To', () => {
    assert.equal(K.kx.get_ruri(), 'sip:example.com');
    assert.equal(K.kx.get_ruser(), null);
    assert.equal(K.kx.gete_ruser(), '');
    assert.equal(K.kx.getw_ruser(), '<null>');
    assert.equal(K.kx.get_rhost(), 'example.com');
    assert.equal(K.kx.get_rport(), 5060);
    assert.equal(K.kx.get_furi(), 'sip:alice@atlanta.example.com');
    assert.equal(K.kx.get_fuser(), 'alice');
    assert.equal(K.kx.get_fhost(), 'atlanta.example.com');
    assert.equal(K.kx.get_turi(), 'sip:bob@example.com');
    assert.equal(K.kx.get_tuser(), 'bob');
    assert.equal(K.kx.get_cturi(), 'sip:alice@192.0.2.10');
  });

  it('reads the message and its transport', () => {
    assert.equal(K.kx.get_method(), 'INVITE');
    assert.equal(K.kx.get_callid(), 'a84b4c76e66710@pc33.atlanta.example.com');
    assert.equal(K.kx.get_ua(), 'ua/1');
    assert.equal(K.kx.get_body(), 'hi');
    assert.equal(K.kx.get_bodylen(), 2);
    assert.equal(K.kx.get_msgtype(), 1);
    assert.equal(K.kx.get_status(), -1);
    assert.equal(K.kx.gets_status(), '');
    assert.equal(K.kx.get_srcip(), '192.0.2.10');
    assert.equal(K.kx.get_srcport(), 5070);
    assert.equal(K.kx.get_srcuri(), 'sip:192.0.2.10:5070');
    assert.equal(K.kx.get_rcvip(), '127.0.0.1');
    assert.equal(K.kx.get_rcvport(), 5060);
    assert.equal(K.kx.get_proto(), 'udp');
    assert.equal(K.kx.get_protoid(), 1);
    assert.equal(K.kx.get_conid(), -1);
    assert.equal(K.kx.get_duri(), null);
    assert.equal(K.kx.get_nhuri(), 'sip:example.com');
    assert.ok(typeof K.kx.get_timestamp() === 'number');
    assert.equal(K.kx.get_msglen(), ctx.msg.end - ctx.msg.start);
  });

  it('reads a reply status', () => {
    const R = ksr(fakeContext(response(404, 'Not Found'), { request: request() }));
    assert.equal(R.kx.get_status(), 404);
    assert.equal(R.kx.gets_status(), '404');
    assert.equal(R.kx.get_msgtype(), 2);
    assert.equal(R.kx.get_ruri(), null);
  });

  it('defines and environment', () => {
    assert.equal(K.kx.get_def('WITH_NAT'), null);
    assert.equal(K.kx.ifdef('WITH_NAT'), false);
    assert.equal(K.kx.ifndef('WITH_NAT'), true);
    process.env.JUNCTION_KX_TEST = '42';
    assert.equal(K.kx.get_env('JUNCTION_KX_TEST'), '42');
    assert.equal(K.kx.get_envn('JUNCTION_KX_TEST'), 42);
    delete process.env.JUNCTION_KX_TEST;
    assert.equal(K.kx.get_env('JUNCTION_KX_TEST'), null);
    assert.equal(K.kx.get_envn('JUNCTION_KX_TEST'), 0);
  });
});
