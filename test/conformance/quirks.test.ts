/**
 * ../shared/corpus/quirks/: real captures that are almost valid, byte-exact as published. Each has
 * a decided outcome; for the ones refused for framing, a repaired variant pins down the decision
 * on their secondary defects too (so that fixing the framing never silently changes policy).
 *
 * | file | outcome | why |
 * | --- | --- | --- |
 * | sme-invite.sip | parse SIP_BODY_TRUNCATED 400 | Content-Length 173, body 171 (UDP: RFC 4475 clerr) |
 * |   repaired body | validate SIP_HEADER_VALUE 400 | P-Asserted-Identity with an unterminated quoted string |
 * | sme-invite-tls.sip | parse SIP_BODY_TRUNCATED 400 | as sme-invite.sip, TLS and sips: |
 * | sme-options-carriage-return.sip | parse SIP_HEADER_SECTION 400 | header section never terminated; a stream framer waits |
 * |   terminated | accept | scanner traffic is otherwise well formed |
 * | sme-siprec.sip, sme-siprec2.sip, sme-siprec3.sip | parse SIP_BODY_TRUNCATED 400 | Content-Length 3304, body 3005 |
 * |   Content-Length 3005 | accept | the three Content-Type spellings give the same boundary |
 * | ss-asterisk-200-OK-received-with-port.sip | accept | `received=IP:port` tolerated, kept as written |
 * | ss-asterisk-407-no-via.sip | parse SIP_MISSING_HEADER (dropped) | a response without Via cannot be routed |
 * | ss-asterisk-407-received-with-port.sip | accept | `received=IP:port`, non-cookie branch, no Content-Length (UDP) |
 * | ss-avaya-INVITE-content-length-mismatch.sip | parse SIP_BODY_TRUNCATED 400 | Content-Length 318, body 315 |
 * |   Content-Length 315 | accept | single-quote "display names" are tokens |
 * | ss-ekiga-REGISTER-malformed-contact.sip | validate SIP_CONTACT 400 | `<sip:a@b, sip:5060>`: whitespace inside <URI> |
 * |   Contact repaired | accept | single-quoted Digest values are kept literally (quotes included) |
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StreamFramer } from '../../src/sip/stream_framer.ts';
import { corpusFile } from '../corpus.ts';
import {
  accept,
  assertForwardable,
  assertRejected,
  contactsOf,
  mustAccept,
  type Outcome,
  ok,
  patch,
  present,
  reject,
  runCorpus,
  sipOf,
  sipUri,
} from './support.ts';

const CRLF = Buffer.from('\r\n');

const OUTCOMES: Record<string, Outcome> = {
  'sme-invite.sip': reject('parse', 'SIP_BODY_TRUNCATED', 400, 'Content-Length 173 but only 171'),
  'sme-invite-tls.sip': reject('parse', 'SIP_BODY_TRUNCATED', 400, 'Content-Length 173 but only 171'),
  'sme-options-carriage-return.sip': reject('parse', 'SIP_HEADER_SECTION', 400, 'no empty line'),
  'sme-siprec.sip': reject('parse', 'SIP_BODY_TRUNCATED', 400, 'Content-Length 3304 but only 3005'),
  'sme-siprec2.sip': reject('parse', 'SIP_BODY_TRUNCATED', 400, 'Content-Length 3304 but only 3005'),
  'sme-siprec3.sip': reject('parse', 'SIP_BODY_TRUNCATED', 400, 'Content-Length 3304 but only 3005'),
  'ss-asterisk-200-OK-received-with-port.sip': accept((m) => {
    const vias = ok(m.vias());
    assert.equal(vias.length, 2);
    // Not an IP address per RFC 3261, but Asterisk sends it: tolerated and kept verbatim.
    assert.equal(vias[1].received, '220.240.255.198:64216');
    assert.equal(vias[1].host, '192.168.1.2');
    assert.equal(vias[1].port, 5065);
    assert.equal(m.topVia.branch, 'z9hG4bKT36BdhXPlT5cqPFQQr81yMmZ37U=');
    assert.equal(m.bodyLength, 352);
  }),
  // A response without Via goes nowhere: dropped (the 400 status is never sent for a response).
  'ss-asterisk-407-no-via.sip': reject('parse', 'SIP_MISSING_HEADER', 400, 'no Via header'),
  'ss-asterisk-407-received-with-port.sip': accept((m) => {
    assert.equal(m.status, 407);
    assert.equal(m.topVia.received, '220.240.255.198:64066');
    assert.equal(m.topVia.branch, '65cacee9-25b6-405c-8f82-e40427438af7');
    const [ch] = ok(m.proxyAuthenticate());
    assert.equal(ch.scheme, 'Digest');
    assert.deepEqual(Object.fromEntries(ch.params), { realm: 'asterisk', nonce: '15aeff81' });
    assert.deepEqual(
      ok(m.recordRoutes()).map((r) => r.uri.raw),
      ['sip:213.168.225.135:5060;lr'],
    );
    assert.equal(m.contentLength, -1);
    assert.equal(m.bodyLength, 0);
  }),
  'ss-avaya-INVITE-content-length-mismatch.sip': reject(
    'parse',
    'SIP_BODY_TRUNCATED',
    400,
    'Content-Length 318 but only 315',
  ),
  'ss-ekiga-REGISTER-malformed-contact.sip': reject(
    'validate',
    'SIP_CONTACT',
    400,
    'whitespace inside <URI>',
  ),
};

runCorpus('quirks', '.sip', OUTCOMES);

describe('quirks/: secondary decisions, on repaired copies', () => {
  it('sme-invite: with its body complete, the unterminated quote in P-Asserted-Identity is refused', () => {
    for (const name of ['sme-invite.sip', 'sme-invite-tls.sip']) {
      const fixed = Buffer.concat([corpusFile('quirks', name), CRLF]);
      assertRejected(fixed, {
        stage: 'validate',
        code: 'SIP_HEADER_VALUE',
        status: 400,
        detail: 'unterminated quoted string',
      });
      // Without that header the INVITE is fine; the R-URI user holds `;context=private`.
      const clean = patch(
        fixed,
        'P-Asserted-Identity: "Dave Horton<sip:4083084809;context=private>@10.1.0.2\r\n',
        '',
      );
      const m = mustAccept(clean);
      const ru = sipUri(m.requestUri());
      assert.equal(ru.user, '5753606;context=private');
      assert.equal(ru.params.size, 0);
      assertForwardable(clean);
      if (name === 'sme-invite-tls.sip') {
        assert.equal(ru.scheme, 'sips');
        assert.deepEqual(
          ok(m.vias()).map((v) => v.transport),
          ['TLS', 'TLS'],
        );
        assert.equal(sipOf(contactsOf(m)[0]).scheme, 'sips');
        assert.equal(sipOf(contactsOf(m)[0]).port, 5060);
      }
    }
  });

  it('sme-options-carriage-return: a stream framer keeps waiting; terminated, the OPTIONS is accepted', () => {
    const buf = corpusFile('quirks', 'sme-options-carriage-return.sip');
    const framer = new StreamFramer();
    assert.deepEqual(framer.push(Buffer.from(buf)), []);
    assert.equal(framer.pendingBytes, buf.length);
    const fixed = Buffer.concat([buf, CRLF]);
    const m = mustAccept(fixed);
    assert.equal(m.topVia.branch, 'nGTWdf.1124599842');
    assert.equal(m.topVia.rport, null);
    assert.deepEqual(m.topVia.params.entries(), [
      ['branch', 'nGTWdf.1124599842'],
      ['rport', undefined],
      ['alias', undefined],
    ]);
    assert.equal(contactsOf(m)[0].bracketed, false);
    assert.equal(m.maxForwards, 20);
    assertForwardable(fixed);
    const events = new StreamFramer().push(Buffer.from(fixed));
    assert.equal(events.length, 1);
    assert.ok(events[0].kind === 'message' && events[0].data.equals(fixed));
  });

  it('sme-siprec 1-3: with the real body length, the three Content-Type spellings agree', () => {
    for (const name of ['sme-siprec.sip', 'sme-siprec2.sip', 'sme-siprec3.sip']) {
      const fixed = patch(corpusFile('quirks', name), 'Content-Length:  3304', 'Content-Length:  3005');
      const m = mustAccept(fixed);
      const ct = present(m.contentType());
      assert.equal(ct.mediaType, 'multipart/mixed', name);
      assert.equal(ct.params.get('boundary'), 'sonus-content-delim', name);
      assert.equal(m.bodyLength, 3005);
      assert.deepEqual(present(m.require()), ['siprec']);
      const [c] = contactsOf(m);
      assert.equal(c.displayName, 'SIPREC-SRC');
      assert.deepEqual(c.params.entries(), [['+sip.src', undefined]]);
      assertForwardable(fixed);
    }
  });

  it('ss-avaya: with Content-Length 315 the INVITE is accepted; seven Allow lines make one list', () => {
    const fixed = patch(
      corpusFile('quirks', 'ss-avaya-INVITE-content-length-mismatch.sip'),
      'Content-Length: 318',
      'Content-Length: 315',
    );
    const m = mustAccept(fixed);
    assert.deepEqual(present(m.allow()), ['INVITE', 'CANCEL', 'OPTIONS', 'BYE', 'REFER', 'INFO', 'UPDATE']);
    // `'` is a token character: `'Joe Bloggs'` is a two-token display name, quotes and all.
    assert.equal(ok(m.from()).displayName, "'Joe Bloggs'");
    assert.equal(ok(m.pAssertedIdentities())[0].displayName, "'Joe Bloggs'");
    assert.equal(ok(m.to()).displayName, 'UNKNOWN');
    // A host whose top label starts with a digit is tolerated.
    assert.equal(sipOf(ok(m.to())).host, 'sip.194.213.29.100');
    assert.equal(sipOf(ok(m.routes())[0]).user, '8219522');
    assertForwardable(fixed);
  });

  it('ss-ekiga: with the Contact repaired, single-quoted Digest values are kept literally', () => {
    const fixed = patch(
      corpusFile('quirks', 'ss-ekiga-REGISTER-malformed-contact.sip'),
      '<sip:twolmsted@24.183.120.253, sip:5060>',
      '<sip:twolmsted@24.183.120.253:5060>',
    );
    const m = mustAccept(fixed);
    const [a] = ok(m.authorization());
    assert.equal(a.scheme, 'Digest');
    // Quotes stay part of the value, so a digest check compares `'twolmsted'`, never `twolmsted`.
    assert.equal(a.params.get('username'), "'twolmsted'");
    assert.equal(a.params.get('algorithm'), 'MD5');
    assert.equal(present(m.expires()), 3600);
    assertForwardable(fixed);
  });
});
