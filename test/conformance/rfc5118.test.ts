/**
 * RFC 5118 IPv6 torture tests: the wire-form `.dat` files of ../shared/corpus/rfc5118/ with the
 * outcome the RFC expects and the exact addresses and ports the README names; then the bit-exact
 * archive files (bare LF line ends, the RFC's own wrong Content-Lengths) with a decided outcome each.
 *
 * | file | outcome |
 * | --- | --- |
 * | ipv6-good port-ambiguous port-unambiguous via-received-param-no-delim ipv6-in-sdp mult-ip-in-header mult-ip-in-sdp ipv4-mapped-ipv6 ipv6-correct-abnf-2-colons | accept |
 * | via-received-param-with-delim | accept (RFC 5118 §4.5: robust parsers take `received=[v6]`) |
 * | ipv6-bad | validate SIP_REQUEST_URI 400 (IPv6 without brackets) |
 * | ipv6-bug-abnf-3-colons | validate SIP_REQUEST_URI 400 (policy: `:::` refused, never guessed) |
 * | archive/* | as the .dat, except: no empty line (the two abnf files) → parse SIP_HEADER_SECTION;
 * |           | Content-Length larger than the LF body (ipv6-in-sdp, mult-ip-in-sdp) → parse SIP_BODY_TRUNCATED |
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isParseError } from '../../src/sip/errors.ts';
import type { SipMessage } from '../../src/sip/message.ts';
import { corpusFile, corpusFiles } from '../corpus.ts';
import {
  accept,
  assertForwardable,
  assertRejected,
  assertRoundTrip,
  contactsOf,
  mustAccept,
  mustParse,
  type Outcome,
  ok,
  type Rejection,
  reject,
  runCorpus,
  sipOf,
  sipUri,
} from './support.ts';

const OUTCOMES: Record<string, Outcome> = {
  'ipv6-good.dat': accept((m) => {
    const ru = sipUri(m.requestUri());
    assert.equal(ru.host, '[2001:db8::10]');
    assert.equal(ru.port, undefined);
    assert.equal(ru.user, undefined);
    assert.equal(m.topVia.host, '[2001:db8::9:1]');
    assert.equal(m.topVia.port, undefined);
    const [c] = contactsOf(m);
    assert.equal(c.displayName, 'Caller');
    assert.equal(sipOf(c).host, '[2001:db8::1]');
    assert.equal(sipOf(c).user, 'caller');
  }),
  'ipv6-bad.dat': reject('validate', 'SIP_REQUEST_URI', 400, 'must be enclosed in [ ]', (buf) => {
    // The transaction-matching fields are still there for the 400 (the parse itself succeeds).
    const m = mustParse(buf);
    assert.equal(m.ruri, 'sip:2001:db8::10');
    assert.equal(m.topVia.host, '[2001:db8::9:1]');
  }),
  // `[2001:db8::10:5070]` is an address with no port: the port belongs outside the `]`.
  'port-ambiguous.dat': accept((m) => {
    const ru = sipUri(m.requestUri());
    assert.equal(ru.host, '[2001:db8::10:5070]');
    assert.equal(ru.port, undefined);
  }),
  'port-unambiguous.dat': accept((m) => {
    const ru = sipUri(m.requestUri());
    assert.equal(ru.host, '[2001:db8::10]');
    assert.equal(ru.port, 5070);
  }),
  'via-received-param-with-delim.dat': accept((m) => {
    assert.equal(m.topVia.host, '[2001:db8::9:1]');
    assert.equal(m.topVia.received, '[2001:db8::9:255]');
    assert.equal(m.topVia.branch, 'z9hG4bKas3-111');
    assert.equal(m.toTag, 'bd76ya');
  }),
  'via-received-param-no-delim.dat': accept((m) => {
    assert.equal(m.topVia.received, '2001:db8::9:255');
    assert.equal(m.topVia.branch, 'z9hG4bKas3');
    assert.equal(sipUri(m.requestUri()).host, '[2001:db8::10]');
  }),
  'ipv6-in-sdp.dat': accept((m) => {
    assert.equal(sipUri(m.requestUri()).host, '[2001:db8::10]');
    assert.equal(sipOf(ok(m.to())).host, '[2001:db8::10]');
    assert.equal(m.topVia.host, '[2001:db8::20]');
    // SDP carries IPv6 addresses without brackets; the body is opaque to the SIP layer.
    const sdp = m.body.toString('latin1');
    assert.ok(sdp.includes('o=assistant 971731711378798081 0 IN IP6 2001:db8::20\r\n'));
    assert.ok(sdp.includes('c=IN IP6 2001:db8::20\r\n'));
    assert.equal(m.contentLength, 251);
    assert.equal(m.bodyLength, 251);
  }),
  'mult-ip-in-header.dat': accept((m) => {
    const vias = ok(m.vias());
    assert.deepEqual(
      vias.map((v) => [v.transport, v.host, v.port, v.branch, v.received]),
      [
        ['UDP', '[2001:db8::9:1]', 6050, 'z9hG4bKas3-111', undefined],
        ['UDP', '192.0.2.1', undefined, 'z9hG4bKjhja8781hjuaij65144', undefined],
        ['TCP', '[2001:db8::9:255]', undefined, 'z9hG4bK451jj', '192.0.2.200'],
      ],
    );
    assert.equal(m.method, 'BYE');
  }),
  'mult-ip-in-sdp.dat': accept((m) => {
    const sdp = m.body.toString('latin1');
    assert.ok(sdp.includes('c=IN IP4 192.0.2.1\r\n'));
    assert.ok(sdp.includes('c=IN IP6 2001:db8::1\r\n'));
    assert.equal(m.bodyLength, 189);
    assert.equal(sipOf(contactsOf(m)[0]).host, '[2001:db8::9:1]');
  }),
  'ipv4-mapped-ipv6.dat': accept((m) => {
    const vias = ok(m.vias());
    assert.deepEqual(
      vias.map((v) => [v.host, v.port]),
      [
        ['[::ffff:192.0.2.10]', 19823],
        ['[::ffff:192.0.2.2]', undefined],
      ],
    );
    const [c] = contactsOf(m);
    assert.equal(c.displayName, 'T. desk phone');
    assert.equal(sipOf(c).host, '[::ffff:192.0.2.2]');
    assert.ok(m.body.toString('latin1').includes('c=IN IP6 ::ffff:192.0.2.2\r\n'));
    assert.equal(m.bodyLength, 245);
  }),
  // RFC 5118 §4.10: the RFC 3261 ABNF bug. We refuse rather than guess which colon was meant.
  'ipv6-bug-abnf-3-colons.dat': reject('validate', 'SIP_REQUEST_URI', 400, '":::"', (buf) => {
    // The To header has the same defect: the sanity check would report it next.
    const m = mustParse(buf);
    const to = m.to();
    assert.ok(isParseError(to));
    assert.equal(to.code, 'SIP_TO');
    assert.ok(to.detail.includes('":::"'));
  }),
  'ipv6-correct-abnf-2-colons.dat': accept((m) => {
    assert.equal(sipUri(m.requestUri()).host, '[2001:db8::192.0.2.1]');
    assert.equal(sipOf(ok(m.to())).host, '[2001:db8::192.0.2.1]');
    assert.equal(sipUri(m.requestUri()).user, 'user');
  }),
};

runCorpus('rfc5118', '.dat', OUTCOMES);

// ------------------------------------------------------------------------------------------ archive

/** Archive files that fail where the .dat (their repaired wire form) does not. */
const ARCHIVE_REJECTIONS: Record<string, Rejection> = {
  // The archive ends after `Content-Length: 0` LF, without the empty line.
  'ipv6-bug-abnf-3-colons': {
    stage: 'parse',
    code: 'SIP_HEADER_SECTION',
    status: 400,
    detail: 'no empty line',
  },
  'ipv6-correct-abnf-2-colons': {
    stage: 'parse',
    code: 'SIP_HEADER_SECTION',
    status: 400,
    detail: 'no empty line',
  },
  // The RFC's Content-Length values exceed the LF bodies (268 vs 242, 181 vs 180).
  'ipv6-in-sdp': { stage: 'parse', code: 'SIP_BODY_TRUNCATED', status: 400, detail: 'Content-Length 268' },
  'mult-ip-in-sdp': { stage: 'parse', code: 'SIP_BODY_TRUNCATED', status: 400, detail: 'Content-Length 181' },
};

/** Fields compared between a bare-LF archive message and its CRLF wire form. */
function fieldsOf(m: SipMessage): unknown {
  return {
    isRequest: m.isRequest,
    method: m.method,
    ruri: m.ruri,
    callId: m.callId,
    cseq: m.cseq,
    fromTag: m.fromTag,
    toTag: m.toTag,
    maxForwards: m.maxForwards,
    vias: ok(m.vias()).map((v) => v.raw),
    from: ok(m.from()).uriText,
    to: ok(m.to()).uriText,
    contacts: m.contacts() === undefined ? [] : contactsOf(m).map((c) => [c.displayName, c.uriText]),
    // Content-Length is the one header the wire form changed (the body grew by one CR per line).
    headers: Array.from({ length: m.headerCount }, (_, i) => [m.headerName(i), m.headerValue(i)]).filter(
      ([name]) => name !== 'Content-Length',
    ),
    body: m.body.toString('latin1').replaceAll('\r\n', '\n'),
  };
}

describe('rfc5118/archive/ (bit-exact, bare LF line ends)', () => {
  const files = corpusFiles('rfc5118/archive', '');
  it('holds the 12 archive messages, one per .dat', () => {
    assert.deepEqual(
      files.map(([n]) => `${n}.dat`),
      Object.keys(OUTCOMES).sort(),
    );
  });
  for (const [name, buf] of files) {
    const dat = OUTCOMES[`${name}.dat`];
    const archiveRejection = ARCHIVE_REJECTIONS[name];
    if (archiveRejection !== undefined) {
      it(`${name}: rejected (${archiveRejection.stage}) ${archiveRejection.code}`, () => {
        assert.equal(buf.includes('\r'), false, 'archive files use bare LF');
        assertRejected(buf, archiveRejection);
      });
    } else if (dat?.kind === 'reject') {
      it(`${name}: rejected like the .dat (${dat.rejection.code})`, () => {
        assertRejected(buf, dat.rejection);
      });
    } else {
      it(`${name}: bare LF accepted, same fields as the CRLF wire form`, () => {
        assert.equal(buf.includes('\r'), false, 'archive files use bare LF');
        const m = mustAccept(buf);
        assertRoundTrip(m, buf);
        const wire = mustAccept(corpusFile('rfc5118', `${name}.dat`));
        assert.deepEqual(fieldsOf(m), fieldsOf(wire));
        assertForwardable(buf);
      });
    }
  }
});
