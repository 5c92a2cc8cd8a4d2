import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fail, isParseError, type ParseError, SipErrors } from '../sip/errors.ts';
import { parseMessage } from '../sip/parse_message.ts';
import { buildErrorResponse } from './bad_request.ts';
import { parse } from './test_support.ts';

const LINES = [
  'INVITE sip:bob@b.example SIP/2.0',
  'Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKa1;rport',
  'Via: SIP/2.0/TCP 10.0.0.9:5060;branch=z9hG4bKa0',
  'Max-Forwards: 70',
  'From: "Alice" <sip:alice@a.example>;tag=f1',
  'To: <sip:bob@b.example>',
  'Call-ID: c1@10.0.0.1',
  'CSeq: 1 INVITE',
  'Contact: <sip:alice@10.0.0.1>',
];

function raw(lines: string[], eol = '\r\n'): Buffer {
  return Buffer.from(`${lines.join(eol)}${eol}Content-Length: 0${eol}${eol}`, 'latin1');
}

const err = fail(SipErrors.CSEQ, 'sequence number above 2**32-1');

describe('buildErrorResponse (RFC 3261 §8.2.1, §16.3)', () => {
  it('answers with the error status and phrase, copying Via, From, To, Call-ID and CSeq', () => {
    const out = buildErrorResponse(raw(LINES), err, 'tt1');
    assert.ok(out !== undefined);
    const res = parse(out);
    assert.equal(res.status, 400);
    assert.equal(res.reason, 'Invalid CSeq: sequence number above 2**32-1');
    assert.deepEqual(res.getHeaders('Via'), [
      'SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKa1;rport',
      'SIP/2.0/TCP 10.0.0.9:5060;branch=z9hG4bKa0',
    ]);
    assert.equal(res.getHeader('From'), '"Alice" <sip:alice@a.example>;tag=f1');
    assert.equal(res.getHeader('To'), '<sip:bob@b.example>;tag=tt1', 'a To tag is added');
    assert.equal(res.callId, 'c1@10.0.0.1');
    assert.equal(res.getHeader('CSeq'), '1 INVITE');
    assert.equal(res.getHeader('Contact'), undefined, 'nothing else is copied');
    assert.equal(res.getHeader('Max-Forwards'), undefined);
    assert.equal(res.contentLength, 0);
  });

  it('answers a real parser error with its status (505 for a bad version)', () => {
    const bytes = Buffer.from(raw(LINES).toString('latin1').replace('SIP/2.0\r\n', 'SIP/7.0\r\n'), 'latin1');
    const e = parseMessage(bytes);
    assert.ok(isParseError(e));
    const out = buildErrorResponse(bytes, e, 't');
    assert.ok(out !== undefined);
    assert.equal(parse(out).status, 505);
  });

  it('keeps a To tag that is there', () => {
    const lines = LINES.map((l) => (l.startsWith('To:') ? 'To: <sip:bob@b.example>;TAG=x9' : l));
    const res = parse(buildErrorResponse(raw(lines), err, 'tt1')!);
    assert.equal(res.getHeader('To'), '<sip:bob@b.example>;TAG=x9');
  });

  it('adds a To tag when the only "tag" is a URI parameter', () => {
    const lines = LINES.map((l) => (l.startsWith('To:') ? 'To: <sip:bob@b.example;tag=uri>' : l));
    const res = parse(buildErrorResponse(raw(lines), err, 'tt1')!);
    assert.equal(res.toTag, 'tt1');
  });

  it('copies compact header forms', () => {
    const lines = [
      'OPTIONS sip:bob@b.example SIP/2.0',
      'v: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKc',
      'f: <sip:alice@a.example>;tag=f',
      't: <sip:bob@b.example>',
      'i: cid',
      'CSeq: 2 OPTIONS',
    ];
    const res = parse(buildErrorResponse(raw(lines), err, 'x')!);
    assert.equal(res.topVia.branch, 'z9hG4bKc');
    assert.equal(res.fromTag, 'f');
    assert.equal(res.toTag, 'x');
    assert.equal(res.callId, 'cid');
  });

  it('echoes a duplicated single-value header once, every Via line', () => {
    const lines = [...LINES, 'To: <sip:other@b.example>', 'Call-ID: second'];
    const res = parse(buildErrorResponse(raw(lines), fail(SipErrors.DUPLICATE_HEADER), 't')!);
    assert.equal(res.getHeaders('To').length, 1);
    assert.equal(res.getHeaders('Call-ID').length, 1);
    assert.equal(res.callId, 'c1@10.0.0.1');
    assert.equal(res.getHeaders('Via').length, 2);
  });

  it('echoes a folded Via whole (its branch is on the continuation line)', () => {
    const lines = LINES.map((l) =>
      l.startsWith('Via: SIP/2.0/UDP') ? 'Via: SIP/2.0/UDP 10.0.0.1:5060\r\n   ;branch=z9hG4bKfold' : l,
    );
    const res = parse(buildErrorResponse(raw(lines), err, 't')!);
    assert.equal(res.topVia.branch, 'z9hG4bKfold');
    assert.equal(res.callId, 'c1@10.0.0.1');
  });

  it('accepts bare LF line ends and leading CRLFs', () => {
    const bytes = Buffer.concat([Buffer.from('\r\n\r\n'), raw(LINES, '\n')]);
    const out = buildErrorResponse(bytes, err, 't');
    assert.ok(out !== undefined);
    const res = parse(out);
    assert.equal(res.status, 400);
    assert.equal(res.getHeaders('Via').length, 2);
    assert.equal(res.toTag, 't');
  });

  it('copes with a header section that is not terminated', () => {
    const bytes = Buffer.from(LINES.join('\r\n'), 'latin1');
    const res = parse(buildErrorResponse(bytes, fail(SipErrors.HEADER_SECTION), 't')!);
    assert.equal(res.status, 400);
    assert.equal(res.getHeader('CSeq'), '1 INVITE');
  });

  it('sanitizes the reason phrase: no control characters, at most 120 characters', () => {
    // The message layer already escapes its details; the proxy does not rely on it.
    const nasty = { status: 400, phrase: 'bad\r\nInjected: yes\x00\x7f' } as ParseError;
    const res = parse(buildErrorResponse(raw(LINES), nasty, 't')!);
    assert.equal(res.reason, 'bad  Injected: yes  ');
    assert.equal(res.getHeader('Injected'), undefined);
    const long = fail(SipErrors.HEADER_VALUE, 'x'.repeat(500));
    const res2 = parse(buildErrorResponse(raw(LINES), long, 't')!);
    assert.equal(res2.reason.length, 120);
  });

  it('drops responses, ACKs and tiny inputs', () => {
    assert.equal(buildErrorResponse(Buffer.from('SIP/2.0 200 OK\r\nVia: x\r\n\r\n'), err, 't'), undefined);
    assert.equal(buildErrorResponse(Buffer.from('\r\nSIP/2.0 200 OK\r\n\r\n'), err, 't'), undefined);
    const ack = raw(LINES.map((l) => l.replace('INVITE sip:', 'ACK sip:').replace('1 INVITE', '1 ACK')));
    assert.equal(buildErrorResponse(ack, err, 't'), undefined, 'an ACK is never answered');
    assert.equal(buildErrorResponse(Buffer.from('AB'), err, 't'), undefined);
    assert.equal(buildErrorResponse(Buffer.alloc(0), err, 't'), undefined);
  });

  it('drops when a header the response must echo is missing', () => {
    for (const name of ['Via:', 'From:', 'To:', 'Call-ID:', 'CSeq:']) {
      const lines = LINES.filter((l) => !l.startsWith(name));
      assert.equal(buildErrorResponse(raw(lines), err, 't'), undefined, name);
    }
  });
});
