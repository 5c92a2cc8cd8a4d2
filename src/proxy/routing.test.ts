import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EditList } from '../sip/edits.ts';
import { isParseError } from '../sip/errors.ts';
import type { SipMessage } from '../sip/message.ts';
import { LocalAddresses } from './myself.ts';
import { addRecordRoute, formatNameAddr, interfaceUri, looseRoute, rewriteRoutes } from './routing.ts';
import { headerList, LISTENERS, parse, req, TCP, UDP, UDP6 } from './test_support.ts';

const local = new LocalAddresses(LISTENERS, ['proxy.example.com'], []);

/** The message as it would be sent, re-parsed. */
function out(msg: SipMessage, list?: EditList): SipMessage {
  return parse(msg.serialize(list));
}

describe('interfaceUri', () => {
  it('writes host:port, the transport for all but UDP, IPv6 in brackets', () => {
    assert.equal(interfaceUri(UDP), 'sip:192.0.2.10:5060');
    assert.equal(interfaceUri(TCP), 'sip:192.0.2.10:5060;transport=tcp');
    assert.equal(interfaceUri(UDP6), 'sip:[2001:db8::10]:5060');
    assert.equal(
      interfaceUri({ ...UDP, advertisedHost: 'sip.example.com', advertisedPort: 5080 }),
      'sip:sip.example.com:5080',
    );
  });
});

describe('addRecordRoute', () => {
  it('one entry with ;lr and ;ftag when the request leaves where it came in', () => {
    const m = req();
    const list = new EditList();
    addRecordRoute(m, { params: '', preset: undefined }, UDP, UDP, list);
    assert.deepEqual(out(m, list).getHeaders('Record-Route'), ['<sip:192.0.2.10:5060;lr;ftag=f1>']);
    assert.equal(m.serialize().toString(), m.raw.toString(), 'the edit went to the branch list only');
  });

  it('appends the extra parameters (add_rr_param)', () => {
    const m = req();
    const list = new EditList();
    addRecordRoute(m, { params: ';nat=yes;did=7', preset: undefined }, UDP, UDP, list);
    assert.deepEqual(out(m, list).getHeaders('Record-Route'), [
      '<sip:192.0.2.10:5060;lr;ftag=f1;nat=yes;did=7>',
    ]);
  });

  it('double Record-Route with ;r2=on when the transport changes: outbound entry on top', () => {
    const m = req({ headers: ['Record-Route: <sip:upstream.example;lr>'] });
    const list = new EditList();
    addRecordRoute(m, { params: '', preset: undefined }, UDP, TCP, list);
    assert.deepEqual(headerList(out(m, list), 'Record-Route'), [
      '<sip:192.0.2.10:5060;transport=tcp;r2=on;lr;ftag=f1>',
      '<sip:192.0.2.10:5060;r2=on;lr;ftag=f1>',
      '<sip:upstream.example;lr>',
    ]);
  });

  it('a sips: request records its TLS / WSS interfaces as sips: (RFC 5630)', () => {
    const TLS = { ...TCP, id: 7, protocol: 'tls' as const, advertisedPort: 5061 };
    const WSS = { ...TCP, id: 8, protocol: 'wss' as const, advertisedPort: 8443 };
    assert.equal(interfaceUri(TLS, true), 'sips:192.0.2.10:5061');
    assert.equal(interfaceUri(WSS, true), 'sips:192.0.2.10:8443;transport=ws');
    assert.equal(interfaceUri(TLS, false), 'sip:192.0.2.10:5061;transport=tls');
    const m = req({ ruri: 'sips:bob@example.com' });
    const list = new EditList();
    addRecordRoute(m, { params: '', preset: undefined }, WSS, TLS, list);
    assert.deepEqual(headerList(out(m, list), 'Record-Route'), [
      '<sips:192.0.2.10:5061;r2=on;lr;ftag=f1>',
      '<sips:192.0.2.10:8443;transport=ws;r2=on;lr;ftag=f1>',
    ]);
  });

  it('double Record-Route when the address family changes', () => {
    const m = req();
    const list = new EditList();
    addRecordRoute(m, { params: '', preset: undefined }, UDP, UDP6, list);
    assert.deepEqual(out(m, list).getHeaders('Record-Route'), [
      '<sip:[2001:db8::10]:5060;r2=on;lr;ftag=f1>',
      '<sip:192.0.2.10:5060;r2=on;lr;ftag=f1>',
    ]);
  });

  it('record_route_preset: the given address, one entry', () => {
    const m = req();
    const list = new EditList();
    addRecordRoute(m, { params: ';x=1', preset: 'proxy.example.com:5070' }, UDP, TCP, list);
    assert.deepEqual(out(m, list).getHeaders('Record-Route'), [
      '<sip:proxy.example.com:5070;lr;ftag=f1;x=1>',
    ]);
    const s = req();
    const l2 = new EditList();
    addRecordRoute(s, { params: '', preset: 'sips:edge.example.com' }, UDP, UDP, l2);
    assert.deepEqual(out(s, l2).getHeaders('Record-Route'), ['<sips:edge.example.com;lr;ftag=f1>']);
  });

  it('no ftag without a From tag', () => {
    const m = parse(
      'OPTIONS sip:b@10.0.0.2 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKx\r\nFrom: <sip:a@a.example>\r\n' +
        'To: <sip:b@b.example>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n',
    );
    const list = new EditList();
    addRecordRoute(m, { params: '', preset: undefined }, UDP, UDP, list);
    assert.deepEqual(out(m, list).getHeaders('Record-Route'), ['<sip:192.0.2.10:5060;lr>']);
  });
});

describe('formatNameAddr and rewriteRoutes', () => {
  it('formats display name, URI and header parameters', () => {
    const m = req({ routes: ['"P 2" <sip:p2.example;lr>;x=y', '<sip:p3.example;lr>'] });
    const routes = m.routes();
    assert.ok(!isParseError(routes));
    assert.equal(formatNameAddr(routes[0]), '"P 2" <sip:p2.example;lr>;x=y');
    assert.equal(formatNameAddr(routes[1]), '<sip:p3.example;lr>');
  });

  it('replaces every Route line with one line, or removes them all', () => {
    const m = req({ routes: ['<sip:a.example;lr>', '<sip:b.example;lr>, <sip:c.example;lr>'] });
    rewriteRoutes(m, ['<sip:x.example;lr>', '<sip:y.example;lr>']);
    assert.deepEqual(out(m).getHeaders('Route'), ['<sip:x.example;lr>, <sip:y.example;lr>']);
    const n = req({ routes: ['<sip:a.example;lr>'] });
    rewriteRoutes(n, []);
    assert.equal(out(n).getHeader('Route'), undefined);
    const none = req();
    rewriteRoutes(none, ['<sip:x;lr>']);
    assert.equal(out(none).getHeader('Route'), undefined, 'nothing to rewrite');
  });
});

describe('looseRoute (RFC 3261 §16.4, §16.12)', () => {
  it('-1 without Route headers, or when they do not parse; the message is untouched', () => {
    const m = req({ method: 'BYE', toTag: 't' });
    assert.deepEqual(looseRoute(m, local), { code: -1, dstUri: undefined, ruri: undefined });
    const bad = req({ routes: ['<sip:a.example;lr'] });
    assert.equal(looseRoute(bad, local).code, -1);
    assert.equal(bad.serialize().toString(), bad.raw.toString());
  });

  it('pops our Route and sends to the next loose router: $du set, R-URI kept', () => {
    const m = req({
      method: 'BYE',
      toTag: 't',
      routes: ['<sip:192.0.2.10:5060;lr;ftag=f1>', '<sip:p2.example;lr>'],
    });
    const r = looseRoute(m, local);
    assert.deepEqual(r, { code: 1, dstUri: 'sip:p2.example;lr', ruri: undefined });
    const o = out(m);
    assert.equal(o.ruri, 'sip:bob@10.0.0.2');
    assert.deepEqual(o.getHeaders('Route'), ['<sip:p2.example;lr>']);
  });

  it('pops our entry from a comma list', () => {
    const m = req({ routes: ['<sip:192.0.2.10;lr>, <sip:p2.example;lr>, <sip:p3.example;lr>'] });
    assert.equal(looseRoute(m, local).dstUri, 'sip:p2.example;lr');
    assert.deepEqual(headerList(out(m), 'Route'), ['<sip:p2.example;lr>', '<sip:p3.example;lr>']);
  });

  it('recognizes aliases as ours', () => {
    const m = req({ routes: ['<sip:proxy.example.com;lr>', '<sip:p2.example;lr>'] });
    assert.equal(looseRoute(m, local).dstUri, 'sip:p2.example;lr');
  });

  it('our Route was the last: removed, the request goes to the R-URI', () => {
    const m = req({ routes: ['<sip:192.0.2.10:5060;lr;ftag=f1>'] });
    assert.deepEqual(looseRoute(m, local), { code: 1, dstUri: undefined, ruri: undefined });
    assert.equal(out(m).getHeader('Route'), undefined);
  });

  it('pops both entries of a double Record-Route pair', () => {
    const m = req({
      routes: [
        '<sip:192.0.2.10:5060;transport=tcp;r2=on;lr;ftag=f1>',
        '<sip:192.0.2.10:5060;r2=on;lr;ftag=f1>',
        '<sip:p2.example;lr>',
      ],
    });
    assert.deepEqual(looseRoute(m, local), { code: 1, dstUri: 'sip:p2.example;lr', ruri: undefined });
    assert.deepEqual(headerList(out(m), 'Route'), ['<sip:p2.example;lr>']);
  });

  it('pops one pair only: a further entry of ours is a spiral, the next hop', () => {
    const m = req({
      routes: [
        '<sip:192.0.2.10:5060;transport=tcp;r2=on;lr;ftag=f1>',
        '<sip:192.0.2.10:5060;r2=on;lr;ftag=f1>',
        '<sip:192.0.2.10:5060;lr;ftag=f1;svc=vm>',
        '<sip:p2.example;lr>',
      ],
    });
    assert.equal(looseRoute(m, local).dstUri, 'sip:192.0.2.10:5060;lr;ftag=f1;svc=vm');
    assert.deepEqual(headerList(out(m), 'Route'), [
      '<sip:192.0.2.10:5060;lr;ftag=f1;svc=vm>',
      '<sip:p2.example;lr>',
    ]);
  });

  it('a single entry of ours without r2 pops one only', () => {
    const m = req({ routes: ['<sip:192.0.2.10;lr>', '<sip:192.0.2.10;lr;x=2>', '<sip:p2.example;lr>'] });
    assert.equal(looseRoute(m, local).dstUri, 'sip:192.0.2.10;lr;x=2');
  });

  it('a preloaded Route to someone else: $du set, Route set left alone', () => {
    const m = req({ routes: ['<sip:outbound.example;lr>', '<sip:p3.example;lr>'] });
    assert.deepEqual(looseRoute(m, local), { code: 1, dstUri: 'sip:outbound.example;lr', ruri: undefined });
    assert.equal(m.serialize().toString(), m.raw.toString());
  });

  it('strict router before us: R-URI is our URI with ;lr, the last Route becomes the R-URI', () => {
    const m = req({
      method: 'BYE',
      toTag: 't',
      ruri: 'sip:192.0.2.10:5060;lr;ftag=f1',
      routes: ['<sip:p2.example;lr>', '<sip:bob@10.0.0.2:5070>'],
    });
    const r = looseRoute(m, local);
    assert.deepEqual(r, { code: 1, dstUri: 'sip:p2.example;lr', ruri: 'sip:bob@10.0.0.2:5070' });
    const o = out(m);
    assert.equal(o.ruri, 'sip:bob@10.0.0.2:5070');
    assert.deepEqual(o.getHeaders('Route'), ['<sip:p2.example;lr>']);
    assert.equal(m.ruri, 'sip:bob@10.0.0.2:5070', '$ru reads the new R-URI');
  });

  it('strict router before us, only the remote target left: Route removed', () => {
    const m = req({ ruri: 'sip:192.0.2.10;lr', routes: ['<sip:bob@10.0.0.2>'] });
    assert.deepEqual(looseRoute(m, local), { code: 1, dstUri: undefined, ruri: 'sip:bob@10.0.0.2' });
    const o = out(m);
    assert.equal(o.ruri, 'sip:bob@10.0.0.2');
    assert.equal(o.getHeader('Route'), undefined);
  });

  it('strict router before us and our own Route on top: both consumed', () => {
    const m = req({
      ruri: 'sip:192.0.2.10;lr',
      routes: ['<sip:192.0.2.10;lr>', '<sip:p2.example;lr>', '<sip:bob@10.0.0.2>'],
    });
    assert.deepEqual(looseRoute(m, local), {
      code: 1,
      dstUri: 'sip:p2.example;lr',
      ruri: 'sip:bob@10.0.0.2',
    });
    assert.deepEqual(headerList(out(m), 'Route'), ['<sip:p2.example;lr>']);
  });

  it('an R-URI of ours without ;lr is not a strict router artefact', () => {
    const m = req({ ruri: 'sip:192.0.2.10', routes: ['<sip:p2.example;lr>', '<sip:bob@10.0.0.2>'] });
    assert.deepEqual(looseRoute(m, local), { code: 1, dstUri: 'sip:p2.example;lr', ruri: undefined });
  });

  it('next hop is a strict router (no ;lr): it becomes the R-URI, the R-URI goes last in Route', () => {
    const m = req({
      method: 'BYE',
      toTag: 't',
      routes: ['<sip:192.0.2.10:5060;lr;ftag=f1>', '<sip:strict.example>', '<sip:p3.example;lr>'],
    });
    assert.deepEqual(looseRoute(m, local), { code: 1, dstUri: undefined, ruri: 'sip:strict.example' });
    const o = out(m);
    assert.equal(o.ruri, 'sip:strict.example');
    assert.deepEqual(headerList(o, 'Route'), ['<sip:p3.example;lr>', '<sip:bob@10.0.0.2>']);
  });

  it('a strict next hop after a double Record-Route pair: one Route line, no duplicate', () => {
    const m = req({
      routes: [
        '<sip:192.0.2.10:5060;transport=tcp;r2=on;lr>',
        '<sip:192.0.2.10:5060;r2=on;lr>',
        '<sip:strict.example>',
      ],
    });
    assert.deepEqual(looseRoute(m, local), { code: 1, dstUri: undefined, ruri: 'sip:strict.example' });
    const o = out(m);
    assert.equal(o.ruri, 'sip:strict.example');
    assert.deepEqual(o.getHeaders('Route'), ['<sip:bob@10.0.0.2>']);
  });

  it('strict routers on both sides', () => {
    const m = req({
      ruri: 'sip:192.0.2.10;lr',
      routes: ['<sip:strict.example>', '<sip:p3.example;lr>', '<sip:bob@10.0.0.2>'],
    });
    assert.deepEqual(looseRoute(m, local), { code: 1, dstUri: undefined, ruri: 'sip:strict.example' });
    const o = out(m);
    assert.equal(o.ruri, 'sip:strict.example');
    assert.deepEqual(headerList(o, 'Route'), ['<sip:p3.example;lr>', '<sip:bob@10.0.0.2>']);
  });
});
