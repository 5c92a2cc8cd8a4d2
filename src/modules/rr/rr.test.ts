import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isParseError } from '../../sip/errors.ts';
import { isSipUri, parseUri } from '../../sip/uri.ts';
import { fakeContext, request } from '../testing/fake_context.ts';
import { ksr } from '../testing/ksr.ts';
import { paramsInclude } from './route_params.ts';

/** An in-dialog BYE routed through us (our Record-Route had ftag and nat=yes). */
function bye(opts: { fromTag?: string; routes?: string[] } = {}): string {
  return request({
    method: 'BYE',
    ruri: 'sip:bob@192.0.2.20:5060',
    from: `Alice <sip:alice@atlanta.example.com>;tag=${opts.fromTag ?? '1928301774'}`,
    to: 'Bob <sip:bob@example.com>;tag=a6c85cf',
    headers: (opts.routes ?? ['<sip:127.0.0.1;lr;ftag=1928301774;nat=yes>', '<sip:192.0.2.50;lr>']).map(
      (r) => `Route: ${r}`,
    ),
  });
}

describe('rr: record_route', () => {
  it('asks the proxy to record-route, with parameters', () => {
    const ctx = fakeContext();
    const K = ksr(ctx);
    assert.equal(K.rr.record_route(), 1);
    assert.equal(K.rr.record_route_params(';nat=yes'), 1);
    assert.deepEqual(ctx.recordRoutes, [
      { params: undefined, preset: undefined },
      { params: ';nat=yes', preset: undefined },
    ]);
  });

  it('add_rr_param before record_route waits for it; after, it is added at once', () => {
    const ctx = fakeContext();
    const K = ksr(ctx);
    assert.equal(K.rr.add_rr_param('nat=yes'), 1);
    assert.equal(ctx.recordRoutes.length, 0, 'add_rr_param alone does not record-route');
    K.rr.record_route();
    assert.deepEqual(ctx.recordRoutes[0], { params: ';nat=yes', preset: undefined });
    K.rr.add_rr_param(';x=1');
    assert.deepEqual(ctx.recordRoutes[1], { params: ';x=1', preset: undefined });
    assert.equal(K.rr.add_rr_param(''), -1);
  });

  it('presets: one address through the proxy, two as explicit headers', () => {
    const ctx = fakeContext();
    const K = ksr(ctx);
    assert.equal(K.rr.record_route_preset_one('203.0.113.1:5080'), 1);
    assert.equal(K.rr.record_route_advertised_address('proxy.example.com'), 1);
    assert.deepEqual(
      ctx.recordRoutes.map((r) => r.preset),
      ['203.0.113.1:5080', 'proxy.example.com'],
    );
    const two = fakeContext();
    assert.equal(ksr(two).rr.record_route_preset('203.0.113.1:5080', 'sip:10.0.0.1:5060'), 1);
    const out = two.msg.toString();
    assert.ok(
      out.includes(
        'Record-Route: <sip:203.0.113.1:5080;r2=on;lr;ftag=1928301774>\r\nRecord-Route: <sip:10.0.0.1:5060;r2=on;lr;ftag=1928301774>\r\n',
      ),
    );
    assert.equal(two.recordRoutes.length, 0);
  });

  it('remove_record_route undoes it when the proxy can', () => {
    const ctx = fakeContext();
    const K = ksr(ctx);
    K.rr.record_route();
    assert.equal(K.rr.remove_record_route(), 1);
    assert.equal(ctx.recordRoutes.length, 0);
    const plain = fakeContext(request(), { extras: false });
    const P = ksr(plain);
    assert.equal(P.rr.remove_record_route(), 1, 'nothing to undo');
    P.rr.record_route();
    assert.equal(P.rr.remove_record_route(), -1, 'cannot undo without the context extension');
  });
});

describe('rr: loose routing', () => {
  it('consumes our Route entry and routes to the next one', () => {
    const ctx = fakeContext(bye());
    const K = ksr(ctx);
    assert.equal(K.rr.loose_route(), 1);
    assert.ok(!ctx.msg.toString().includes('<sip:127.0.0.1;'), 'our entry is gone');
    assert.ok((ctx.dstUri ?? ctx.msg.ruri).startsWith('sip:192.0.2.50'), 'the next hop is the next Route');
  });

  it('keeps the R-URI and sets $du when the next hop is a loose router', () => {
    const ctx = fakeContext(bye());
    ksr(ctx).rr.loose_route();
    assert.equal(ctx.dstUri, 'sip:192.0.2.50;lr');
    assert.equal(ctx.msg.ruri, 'sip:bob@192.0.2.20:5060');
  });

  it('returns -1 without Route headers', () => {
    assert.equal(ksr(fakeContext(request({ method: 'BYE', to: '<sip:b@x>;tag=1' }))).rr.loose_route(), -1);
  });

  it('loose_route_preloaded refuses in-dialog requests', () => {
    assert.equal(ksr(fakeContext(bye())).rr.loose_route_preloaded(), -1);
    const preloaded = request({ headers: ['Route: <sip:127.0.0.1;lr>', 'Route: <sip:192.0.2.50;lr>'] });
    assert.equal(ksr(fakeContext(preloaded)).rr.loose_route_preloaded(), 1);
  });

  it('check_route_param and next_hop_route read our Route entry', () => {
    const K = ksr(fakeContext(bye()));
    assert.equal(K.rr.check_route_param('nat=yes'), 1);
    assert.equal(K.rr.check_route_param('nat=no'), -1);
    assert.equal(K.rr.next_hop_route(), 1);
    K.rr.loose_route();
    assert.equal(K.rr.check_route_param('nat=yes'), 1, 'still readable after loose_route');
    const last = ksr(fakeContext(bye({ routes: ['<sip:127.0.0.1;lr;ftag=1928301774>'] })));
    assert.equal(last.rr.next_hop_route(), -1);
    assert.equal(ksr(fakeContext()).rr.check_route_param('x'), -1, 'no Route to us');
  });

  it('check_route_param searches the parameters in place, as the parsed parameter list reads', () => {
    const uris = [
      'sip:127.0.0.1;lr;ftag=abc;nat=yes',
      'sip:127.0.0.1:5060;lr=on;nat=yes?X=nat%3Dyes',
      'sip:u;nat=yes@127.0.0.1;lr',
      'sip:[::1]:5070;transport=udp;lr;nat=yes',
      'sip:127.0.0.1',
      'sips:proxy.example.com;r2=on;lr',
    ];
    const texts = ['nat=yes', 'lr', ';lr;', 'ftag=abc;nat', 'X=nat', 'nat', 'transport=udp;lr', 'r2=on;lr'];
    for (const u of uris) {
      const parsed = parseUri(u);
      assert.ok(!isParseError(parsed) && isSipUri(parsed), u);
      const written = parsed.params.toString();
      for (const t of texts) assert.equal(paramsInclude(u, t), written.includes(t), `${u} / ${t}`);
    }
  });

  it('is_direction compares ftag with the From tag', () => {
    const caller = ksr(fakeContext(bye()));
    assert.equal(caller.rr.is_direction('downstream'), 1);
    assert.equal(caller.rr.is_direction('upstream'), -1);
    const callee = ksr(fakeContext(bye({ fromTag: 'a6c85cf' })));
    assert.equal(callee.rr.is_direction('upstream'), 1);
    assert.equal(callee.rr.is_direction('downstream'), -1);
    const noFtag = ksr(fakeContext(bye({ fromTag: 'zzz', routes: ['<sip:127.0.0.1;lr>'] })));
    assert.equal(noFtag.rr.is_direction('downstream'), 1, 'no ftag counts as downstream');
    assert.equal(caller.rr.is_direction('sideways' as 'upstream'), -1);
  });

  it('loose_route only runs in the request route', () => {
    const ctx = fakeContext(bye(), { kind: 'failure' });
    assert.equal(ksr(ctx).rr.loose_route(), -1);
    assert.equal(ctx.dstUri, undefined);
  });
});
