import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EditList } from './edits.ts';
import { isParseError, SipErrors } from './errors.ts';
import { H } from './header_names.ts';
import type { SipMessage } from './message.ts';
import { parseMessage } from './parse_message.ts';
import type { Via } from './types.ts';
import { parseViaList } from './via.ts';

function sip(lines: string[], body = ''): Buffer {
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body}`);
}

const INVITE = sip(
  [
    'INVITE sip:bob@biloxi.example.com SIP/2.0',
    'Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds, SIP/2.0/UDP 10.0.0.1:5070;branch=z9hG4bKa',
    'Via: SIP/2.0/TCP 10.0.0.2;branch=z9hG4bKb',
    'Max-Forwards: 70',
    'Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>',
    'Route: <sip:p3.example.com;lr>',
    'To: Bob <sip:bob@biloxi.example.com>',
    'From: "Alice A." <sip:alice@atlanta.example.com>;tag=1928301774',
    'Call-ID: a84b4c76e66710@pc33.atlanta.example.com',
    'CSeq: 314159 INVITE',
    'Contact: <sip:alice@pc33.atlanta.example.com>',
    'X-Folded: first',
    '  second',
    'Content-Type: application/sdp',
    'Content-Length: 4',
  ],
  'v=0\n',
);

function parse(buf: Buffer): SipMessage {
  const m = parseMessage(buf);
  if (isParseError(m)) throw new Error(m.toString());
  return m;
}

describe('parseMessage: eager fields', () => {
  it('decodes what transaction matching needs', () => {
    const m = parse(INVITE);
    assert.equal(m.isRequest, true);
    assert.equal(m.method, 'INVITE');
    assert.equal(m.ruri, 'sip:bob@biloxi.example.com');
    assert.equal(m.topVia.branch, 'z9hG4bK776asdhds');
    assert.equal(m.topVia.host, 'pc33.atlanta.example.com');
    assert.equal(m.callId, 'a84b4c76e66710@pc33.atlanta.example.com');
    assert.equal(m.cseq, 314159);
    assert.equal(m.cseqMethod, 'INVITE');
    assert.equal(m.fromTag, '1928301774');
    assert.equal(m.toTag, undefined);
    assert.equal(m.maxForwards, 70);
    assert.equal(m.contentLength, 4);
    assert.equal(m.body.toString(), 'v=0\n');
  });

  it('reads responses: status, reason, CSeq method as method', () => {
    const m = parse(
      sip([
        'SIP/2.0 180 Ringing',
        'Via: SIP/2.0/UDP a.example;branch=z9hG4bK1',
        'To: <sip:b@b.example>;tag=x',
        'From: <sip:a@a.example>;tag=y',
        'Call-ID: c',
        'CSeq: 2 INVITE',
        'Content-Length: 0',
      ]),
    );
    assert.equal(m.isRequest, false);
    assert.equal(m.status, 180);
    assert.equal(m.reason, 'Ringing');
    assert.equal(m.method, 'INVITE');
    assert.equal(m.toTag, 'x');
  });

  it('unfolds folded values and keeps the raw bytes', () => {
    const m = parse(INVITE);
    assert.equal(m.getHeader('x-folded'), 'first second');
    assert.ok(m.serialize().equals(INVITE));
  });

  it('compact names find their full headers and vice versa', () => {
    const m = parse(
      sip([
        'OPTIONS sip:a@b SIP/2.0',
        'v: SIP/2.0/UDP h;branch=z9hG4bK9',
        'f: <sip:x@y>;tag=1',
        't: <sip:a@b>',
        'i: id1',
        'CSeq: 1 OPTIONS',
        'l: 0',
      ]),
    );
    assert.equal(m.getHeader('Call-ID'), 'id1');
    assert.equal(m.getHeader('i'), 'id1');
    assert.equal(m.headerCanonicalName(0), 'Via');
    assert.equal(m.headerName(0), 'v');
    assert.equal(m.contentLength, 0);
  });

  it('refuses with a coded reason instead of throwing', () => {
    const cases: Array<[string, string]> = [
      ['', SipErrors.EMPTY.code],
      ['INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n', SipErrors.HEADER_SECTION.code],
      ['INVITE sip:a@b SIP/3.0\r\n\r\n', SipErrors.VERSION.code],
      ['SIP/2.0 2000 OK\r\n\r\n', SipErrors.STATUS_CODE.code],
      ['INVITE sip:a@b SIP/2.0\r\nNoColon\r\n\r\n', SipErrors.HEADER_LINE.code],
    ];
    for (const [text, code] of cases) {
      const r = parseMessage(Buffer.from(text));
      assert.ok(isParseError(r), text);
      assert.equal(r.code, code, text);
      assert.ok(r.phrase.length > 0);
    }
  });

  it('stream mode requires Content-Length when there is a body', () => {
    const raw = Buffer.from(
      'MESSAGE sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c\r\nCSeq: 1 MESSAGE\r\n\r\nhi',
    );
    const r = parseMessage(raw, { datagram: false });
    assert.ok(isParseError(r));
    assert.equal(r.code, SipErrors.CONTENT_LENGTH.code);
    assert.ok(!isParseError(parseMessage(raw, { datagram: true })));
  });

  it('vias() parses each Via line alone as the joined comma list would', () => {
    const view = (v: Via) => ({ ...v, params: v.params.toString() });
    const cases: string[][] = [
      [
        'Via: SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/TCP b:5070;rport',
        'Via: SIP/2.0/TLS [::1];received=10.0.0.1',
      ],
      ['Via: SIP/2.0/UDP a;branch=z9hG4bK1;x="é"', 'Via: SIP/2.0/UDP c;branch=z9hG4bK2'],
      ['Via: SIP/2.0/UDP a;branch=z9hG4bK1,', ' SIP/2.0/UDP folded;branch=z9hG4bK3', 'Via: SIP/2.0/UDP d'],
      ['Via: SIP/2.0/UDP a;branch=z9hG4bK1', 'Via: SIP/2.0/UDP d;branch=z9hG4bK2,'],
      ['Via: SIP/2.0/UDP a;branch=z9hG4bK1', 'Via: SIP/2.0/UDP d;;branch=z9hG4bK2'],
      ['Via: SIP/2.0/UDP a;branch=z9hG4bK1', 'Via: '],
    ];
    for (const vias of cases) {
      const m = parse(
        sip([
          'OPTIONS sip:x@y SIP/2.0',
          ...vias,
          'From: <sip:a@b>;tag=1',
          'To: <sip:x@y>',
          'Call-ID: c',
          'CSeq: 1 OPTIONS',
          'Content-Length: 0',
        ]),
      );
      const joined: string[] = [];
      for (const i of m.headerIndexes('Via')) joined.push(m.headerValue(i));
      const want = parseViaList(joined.join(', '));
      const got = m.vias();
      if (isParseError(want)) {
        assert.ok(isParseError(got), vias.join(' | '));
        assert.equal(got.detail, want.detail);
      } else {
        assert.ok(!isParseError(got), vias.join(' | '));
        assert.deepEqual(got.map(view), want.map(view), vias.join(' | '));
        // The parser's top Via is reused when its line is ASCII (Latin-1 and UTF-8 texts agree).
        if (Buffer.byteLength(vias[0]) === vias[0].length) assert.strictEqual(got[0], m.topVia);
      }
    }
  });

  it('routes, record-routes and contacts are decoded once, again after releaseDecoded', () => {
    const m = parse(INVITE);
    const routes = m.routes();
    const rr = m.recordRoutes();
    const contacts = m.contacts();
    assert.strictEqual(m.routes(), routes);
    assert.strictEqual(m.recordRoutes(), rr);
    assert.strictEqual(m.contacts(), contacts);
    assert.deepEqual(rr, []);
    assert.ok(contacts !== undefined && !isParseError(contacts));
    assert.equal(contacts.contacts[0].uriText, 'sip:alice@pc33.atlanta.example.com');
    m.releaseDecoded();
    const again = m.routes();
    assert.notStrictEqual(again, routes);
    assert.deepEqual(again, routes);
    assert.notStrictEqual(m.contacts(), contacts);
    assert.deepEqual(m.contacts(), contacts);
    const none = parse(
      sip([
        'OPTIONS sip:x@y SIP/2.0',
        'Via: SIP/2.0/UDP a;branch=z9hG4bK1',
        'From: <sip:a@b>;tag=1',
        'To: <sip:x@y>',
        'Call-ID: c',
        'CSeq: 1 OPTIONS',
      ]),
    );
    assert.equal(none.contacts(), undefined);
    assert.equal(none.contacts(), undefined);
  });

  it('typed accessors decode lazily and memoize', () => {
    const m = parse(INVITE);
    const vias = m.vias();
    assert.ok(!isParseError(vias));
    assert.equal(vias.length, 3);
    assert.equal(vias[2].transport, 'TCP');
    assert.strictEqual(m.vias(), vias);
    const routes = m.routes();
    assert.ok(!isParseError(routes));
    assert.deepEqual(
      routes.map((r) => r.uriText),
      ['sip:p1.example.com;lr', 'sip:p2.example.com;lr', 'sip:p3.example.com;lr'],
    );
    const from = m.from();
    assert.ok(!isParseError(from));
    assert.equal(from.displayName, 'Alice A.');
    const c = m.contacts();
    assert.ok(c !== undefined && !isParseError(c) && !c.star);
    assert.equal(c.contacts.length, 1);
    assert.equal(m.validate(), undefined);
  });
});

describe('SipMessage edits', () => {
  it('forwarding edits splice onto the received bytes', () => {
    const m = parse(INVITE);
    m.setRuri('sip:bob@192.0.2.4:5062');
    m.setMaxForwards(69);
    m.removeFirstRoute();
    m.prependHeader('Record-Route', '<sip:10.9.9.9;lr>');
    m.prependHeader('Via', 'SIP/2.0/UDP 10.9.9.9;branch=z9hG4bKnew');
    const out = m.serialize();
    const r = parse(out);
    assert.equal(r.ruri, 'sip:bob@192.0.2.4:5062');
    assert.equal(r.maxForwards, 69);
    assert.equal(r.topVia.branch, 'z9hG4bKnew');
    assert.equal(r.headerCanonicalName(0), 'Via');
    assert.equal(r.headerCanonicalName(1), 'Record-Route');
    const routes = r.routes();
    assert.ok(!isParseError(routes));
    assert.deepEqual(
      routes.map((x) => x.uriText),
      ['sip:p2.example.com;lr', 'sip:p3.example.com;lr'],
    );
    // Untouched headers are byte-identical.
    const text = out.toString();
    assert.ok(text.includes('From: "Alice A." <sip:alice@atlanta.example.com>;tag=1928301774\r\n'));
    assert.ok(text.includes('X-Folded: first\r\n  second\r\n'));
    assert.equal(r.body.toString(), 'v=0\n');
    // Reads see the new Request-URI, headers as received.
    assert.equal(m.ruri, 'sip:bob@192.0.2.4:5062');
    assert.equal(m.originalRuri, 'sip:bob@biloxi.example.com');
  });

  it('removes the top Via value of a comma list, then a whole line', () => {
    const m = parse(INVITE);
    m.removeTopVia();
    let r = parse(m.serialize());
    assert.equal(r.topVia.host, '10.0.0.1');
    assert.equal(r.topVia.port, 5070);
    r.removeTopVia();
    r = parse(r.serialize());
    assert.equal(r.topVia.transport, 'TCP');
    r.removeTopVia();
    const last = parseMessage(r.serialize());
    assert.ok(isParseError(last));
    assert.equal(last.code, SipErrors.MISSING_HEADER.code);
  });

  it('hasViaAfterTop: a second value in the comma list or another Via line, nothing parsed', () => {
    const m = parse(INVITE);
    assert.equal(m.hasViaAfterTop(), true);
    const one = (via: string) =>
      parse(Buffer.from(INVITE.toString('latin1').replace(/Via: [^\n]*\n(Via: [^\n]*\n)/, via)));
    assert.equal(one('Via: SIP/2.0/UDP p;branch=z9hG4bKa\r\n').hasViaAfterTop(), false);
    assert.equal(
      one('Via: SIP/2.0/UDP p;branch=z9hG4bKa;x="a,b"\r\n').hasViaAfterTop(),
      false,
      'a quoted comma',
    );
    assert.equal(one('Via: SIP/2.0/UDP p;branch=z9hG4bKa,SIP/2.0/UDP q\r\n').hasViaAfterTop(), true);
    assert.equal(
      one('Via: SIP/2.0/UDP p;branch=z9hG4bKa\r\nX-A: x\r\nv: SIP/2.0/UDP q\r\n').hasViaAfterTop(),
      true,
    );
  });

  it('adds, replaces and removes headers; the body keeps Content-Length right', () => {
    const m = parse(INVITE);
    m.appendHeader('X-Added', 'yes');
    m.removeHeaders('Contact');
    m.replaceHeaderValue(m.findHeader(H.CALL_ID), 'new-call-id');
    m.setBody('v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\n', 'application/sdp');
    const r = parse(m.serialize());
    assert.equal(r.getHeader('X-Added'), 'yes');
    assert.equal(r.hasHeader('Contact'), false);
    assert.equal(r.callId, 'new-call-id');
    assert.equal(r.contentLength, r.bodyLength);
    assert.equal(r.body.toString(), 'v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\n');
  });

  it('per-branch edit lists override the message edits without changing them', () => {
    const m = parse(INVITE);
    m.setRuri('sip:base@x');
    const b1 = new EditList();
    m.setRuri('sip:one@x', b1);
    m.prependHeader('Via', 'SIP/2.0/UDP 1.1.1.1;branch=z9hG4bK1', b1);
    const b2 = new EditList();
    m.prependHeader('Via', 'SIP/2.0/UDP 2.2.2.2;branch=z9hG4bK2', b2);
    assert.equal(parse(m.serialize(b1)).ruri, 'sip:one@x');
    assert.equal(parse(m.serialize(b1)).topVia.host, '1.1.1.1');
    assert.equal(parse(m.serialize(b2)).ruri, 'sip:base@x');
    assert.equal(parse(m.serialize(b2)).topVia.host, '2.2.2.2');
    assert.equal(parse(m.serialize()).ruri, 'sip:base@x');
  });

  it('adds Max-Forwards and Content-Length when absent', () => {
    const m = parse(
      Buffer.from(
        'REGISTER sip:r.example SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@r.example>;tag=1\r\nTo: <sip:a@r.example>\r\nCall-ID: c\r\nCSeq: 1 REGISTER\r\n\r\n',
      ),
    );
    m.setMaxForwards(70);
    m.setMaxForwards(69);
    m.ensureContentLength();
    const r = parse(m.serialize());
    assert.equal(r.maxForwards, 69);
    assert.equal(r.contentLength, 0);
    assert.equal(r.getHeaders('Max-Forwards').length, 1);
  });

  it('sets a response status line', () => {
    const m = parse(
      sip([
        'SIP/2.0 503 Service Unavailable',
        'Via: SIP/2.0/UDP a.example;branch=z9hG4bK1',
        'To: <sip:b@b.example>;tag=x',
        'From: <sip:a@a.example>;tag=y',
        'Call-ID: c',
        'CSeq: 2 INVITE',
        'Content-Length: 0',
      ]),
    );
    m.setStatus(500, 'Server Internal Error');
    const r = parse(m.serialize());
    assert.equal(r.status, 500);
    assert.equal(r.reason, 'Server Internal Error');
  });
});
