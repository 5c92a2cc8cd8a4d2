import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  buildAck,
  buildCancel,
  buildRequest,
  buildResponse,
  MAGIC_COOKIE,
  newBranch,
  newTag,
} from './build.ts';
import { isParseError } from './errors.ts';
import type { SipMessage } from './message.ts';
import { parseMessage } from './parse_message.ts';

function parse(buf: Buffer): SipMessage {
  const m = parseMessage(buf);
  if (isParseError(m)) throw new Error(m.toString());
  return m;
}

const INVITE = parse(
  Buffer.from(
    [
      'INVITE sip:bob@b.example SIP/2.0',
      'Via: SIP/2.0/UDP proxy.example:5060;branch=z9hG4bKp1',
      'Via: SIP/2.0/UDP 10.0.0.1:5070;branch=z9hG4bKu1;received=192.0.2.1',
      'Record-Route: <sip:proxy.example;lr>',
      'Route: <sip:next.example;lr>',
      'Max-Forwards: 69',
      'From: Alice <sip:alice@a.example>;tag=ft',
      'To: <sip:bob@b.example>',
      'Call-ID: call-1',
      'CSeq: 7 INVITE',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
  ),
);

describe('buildResponse (RFC 3261 §8.2.6)', () => {
  it('copies Via lines, From, Call-ID, CSeq and adds a To tag', () => {
    const r = parse(buildResponse(INVITE, 486, undefined, { toTag: 'tt' }));
    assert.equal(r.status, 486);
    assert.equal(r.reason, 'Busy Here');
    const vias = r.vias();
    assert.ok(!isParseError(vias));
    assert.deepEqual(
      vias.map((v) => v.branch),
      ['z9hG4bKp1', 'z9hG4bKu1'],
    );
    assert.equal(vias[1].received, '192.0.2.1');
    assert.equal(r.fromTag, 'ft');
    assert.equal(r.toTag, 'tt');
    assert.equal(r.callId, 'call-1');
    assert.equal(r.cseq, 7);
    assert.equal(r.method, 'INVITE');
    assert.equal(r.contentLength, 0);
    assert.equal(r.hasHeader('Record-Route'), false);
  });

  it('no To tag on 100 Trying; Record-Route copied when asked; extra headers and body', () => {
    const t = parse(buildResponse(INVITE, 100, undefined, { toTag: 'tt' }));
    assert.equal(t.toTag, undefined);
    const ok = parse(
      buildResponse(INVITE, 200, 'OK', {
        toTag: 'tt',
        copyRecordRoute: true,
        headers: [['Contact', '<sip:bob@10.0.0.9>']],
        body: 'v=0\r\n',
        contentType: 'application/sdp',
      }),
    );
    assert.equal(ok.getHeader('Record-Route'), '<sip:proxy.example;lr>');
    assert.equal(ok.getHeader('Contact'), '<sip:bob@10.0.0.9>');
    assert.equal(ok.getHeader('Content-Type'), 'application/sdp');
    assert.equal(ok.body.toString(), 'v=0\r\n');
  });
});

describe('buildResponse: UTF-8 text', () => {
  it('a non-ASCII reason phrase, header value and body are written as UTF-8', () => {
    const bytes = buildResponse(INVITE, 486, 'Très occupé', {
      toTag: 'tt',
      headers: [
        ['Warning', '399 proxy "Zoë ☎ ünïcødé"'],
        ['X-A', 'b'],
      ],
      body: 'ça va? 😀',
      contentType: 'text/plain',
    });
    const text = bytes.toString('utf8');
    assert.ok(text.startsWith('SIP/2.0 486 Très occupé\r\n'), text);
    assert.ok(text.includes('\r\nWarning: 399 proxy "Zoë ☎ ünïcødé"\r\nX-A: b\r\n'));
    const r = parse(bytes);
    assert.equal(r.body.toString('utf8'), 'ça va? 😀');
    assert.equal(r.contentLength, Buffer.byteLength('ça va? 😀'));
    assert.ok(Buffer.from(text, 'utf8').equals(bytes), 'valid UTF-8 throughout');
  });
});

describe('buildAck / buildCancel', () => {
  const resp = parse(buildResponse(INVITE, 404, undefined, { toTag: 'x9' }));

  it('ACK for a non-2xx (§17.1.1.3): same R-URI, top Via, Route; To from the response', () => {
    const ack = parse(buildAck(INVITE, resp));
    assert.equal(ack.method, 'ACK');
    assert.equal(ack.ruri, 'sip:bob@b.example');
    const vias = ack.vias();
    assert.ok(!isParseError(vias));
    assert.equal(vias.length, 1);
    assert.equal(vias[0].branch, 'z9hG4bKp1');
    assert.equal(ack.toTag, 'x9');
    assert.equal(ack.cseq, 7);
    assert.equal(ack.cseqMethod, 'ACK');
    assert.equal(ack.getHeader('Route'), '<sip:next.example;lr>');
  });

  it('CANCEL (§9.1): same branch and CSeq number, method CANCEL', () => {
    const c = parse(buildCancel(INVITE, { reason: 'SIP;cause=200;text="elsewhere"' }));
    assert.equal(c.method, 'CANCEL');
    assert.equal(c.topVia.branch, 'z9hG4bKp1');
    assert.equal(c.cseq, 7);
    assert.equal(c.toTag, undefined);
    assert.equal(c.getHeader('Reason'), 'SIP;cause=200;text="elsewhere"');
  });
});

describe('buildRequest and identifiers', () => {
  it('builds a request that parses and validates', () => {
    const r = parse(
      buildRequest({
        method: 'OPTIONS',
        uri: 'sip:gw.example',
        via: [`SIP/2.0/UDP 127.0.0.1:5060;branch=${newBranch()}`],
        from: `<sip:junction@127.0.0.1>;tag=${newTag()}`,
        to: '<sip:gw.example>',
        callId: 'opt-1',
        cseq: 1,
      }),
    );
    assert.equal(r.method, 'OPTIONS');
    assert.equal(r.maxForwards, 70);
    assert.equal(r.validate(), undefined);
  });

  it('branches carry the magic cookie and are unique', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 10000; i++) seen.add(newBranch());
    assert.equal(seen.size, 10000);
    for (const b of seen) assert.ok(b.startsWith(MAGIC_COOKIE));
  });
});

describe('responses keep the transport stamp', () => {
  it('received/rport added to the request Via appear in the response Via', () => {
    const req = parse(
      Buffer.from(
        'OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5070;rport;branch=z9hG4bKs\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n',
      ),
    );
    const [vs] = req.headerValueRange(0);
    const end = vs + 'SIP/2.0/UDP 10.0.0.1:5070;rport'.length;
    req.baseEdits().replace(vs + 'SIP/2.0/UDP 10.0.0.1:5070;'.length, end, 'rport=40000;received=192.0.2.7');
    req.appendHeader('X-Not-Copied', '1');
    const r = parse(buildResponse(req, 200));
    assert.equal(r.topVia.rport, 40000);
    assert.equal(r.topVia.received, '192.0.2.7');
    assert.equal(r.hasHeader('X-Not-Copied'), false);
  });
});
