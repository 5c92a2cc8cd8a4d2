/**
 * ../shared/corpus/valid/: 32 realistic messages that a correct parser accepts. Decision for every
 * file: accept, validate() clean, byte-identical round trip, forwardable (see support.ts). Each
 * check asserts the fields the corpus README's row names for that file.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SipMessage } from '../../src/sip/message.ts';
import { frameCompleteMessage, StreamFramer } from '../../src/sip/stream_framer.ts';
import { corpusFile, corpusFiles } from '../corpus.ts';
import {
  accept,
  assertForwardableRequest,
  contactsOf,
  mustParse,
  type Outcome,
  ok,
  present,
  runCorpus,
  sipOf,
  sipUri,
} from './support.ts';

/** Lines of the body that start with `prefix`. */
function bodyLines(m: SipMessage, prefix: string): string[] {
  return m.body
    .toString('latin1')
    .split('\r\n')
    .filter((l) => l.startsWith(prefix));
}

function viaSummary(m: SipMessage): Array<[string, string, number | undefined, string | undefined]> {
  return ok(m.vias()).map((v) => [v.transport, v.host, v.port, v.branch]);
}

/** A message without Content-Length is legal over UDP only: the TCP/TLS stream framer refuses it. */
function assertStreamNeedsContentLength(buf: Buffer): void {
  const events = new StreamFramer().push(Buffer.from(buf));
  assert.equal(events.length, 1);
  const [ev] = events;
  assert.equal(ev.kind, 'error');
  if (ev.kind === 'error') {
    assert.equal(ev.error.code, 'SIP_CONTENT_LENGTH');
    assert.ok(ev.error.detail.includes('missing'));
  }
}

const mpart01 = (m: SipMessage): void => {
  assert.equal(m.method, 'MESSAGE');
  assert.equal(m.bodyLength, 553);
  assert.ok(m.body.includes(0x00));
  const ct = present(m.contentType());
  assert.equal(ct.mediaType, 'multipart/mixed');
  assert.equal(ct.params.get('boundary'), '7a9cbec02ceef655');
  assert.equal(m.getHeader('Content-Transfer-Encoding'), 'binary');
  assert.ok(m.getHeader('Identity')?.startsWith('r5mwreLuyDRYBi/0TiPwEsY3rEVsk/G2Wxhg'));
  assert.ok(m.getHeader('Identity')?.endsWith('hkMWYUA='));
};

const OUTCOMES: Record<string, Outcome> = {
  'pjsip-asterisk-INVITE-sdp.sip': accept((m) => {
    const ru = sipUri(m.requestUri());
    assert.deepEqual(
      [ru.user, ru.host, ru.port, ru.params.get('transport')],
      ['5001', '192.168.1.200', 5060, 'UDP'],
    );
    assert.equal(sipOf(ok(m.to())).params.get('transport'), 'UDP');
    assert.equal(m.getHeader('Date'), 'Fri, 27 Jun 2008 08:46:47 GMT');
    assert.equal(m.contentLength, 285);
    assert.equal(m.bodyLength, 285);
    assert.deepEqual(bodyLines(m, 'm='), ['m=audio 14390 RTP/AVP 0 3 8 101']);
    assert.deepEqual(
      bodyLines(m, 'a=rtpmap:').map((l) => l.slice(9)),
      ['0 PCMU/8000', '3 GSM/8000', '8 PCMA/8000', '101 telephone-event/8000'],
    );
    assert.deepEqual(present(m.allow()), [
      'INVITE',
      'ACK',
      'CANCEL',
      'OPTIONS',
      'BYE',
      'REFER',
      'SUBSCRIBE',
      'NOTIFY',
    ]);
    assert.deepEqual(present(m.supported()), ['replaces']);
    assert.equal(m.userAgent, 'Asterisk PBX');
    assert.equal(m.topVia.rport, null);
    assert.equal(ok(m.from()).displayName, 'A user');
    assert.equal(m.fromTag, 'as2858a32c');
  }),
  'rfc3261-24.1-F1-REGISTER.sip': accept((m) => {
    assert.equal(m.method, 'REGISTER');
    assert.equal(present(m.expires()), 7200);
    assert.equal(contactsOf(m)[0].uri.raw, 'sip:bob@192.0.2.4');
    assert.equal(m.contentLength, 0);
    assert.deepEqual(viaSummary(m), [['UDP', 'bobspc.biloxi.com', 5060, 'z9hG4bKnashds7']]);
    assert.equal(ok(m.to()).displayName, 'Bob');
  }),
  'rfc3261-24.1-F2-200-OK-REGISTER.sip': accept((m) => {
    assert.equal(m.status, 200);
    assert.equal(m.method, 'REGISTER');
    // Via folded onto a continuation line: ` ;received=192.0.2.4`.
    assert.equal(m.topVia.received, '192.0.2.4');
    assert.equal(m.topVia.branch, 'z9hG4bKnashds7');
    assert.equal(m.topVia.port, 5060);
    assert.equal(m.toTag, '2493k59kd');
    assert.equal(present(m.expires()), 7200);
  }),
  'rfc3261-24.2-F12-ACK.sip': accept((m) => {
    assert.equal(m.method, 'ACK');
    assert.equal(m.cseqMethod, 'ACK');
    assert.equal(m.cseq, 314159);
    assert.equal(m.topVia.branch, 'z9hG4bKnashds9');
    assert.equal(m.toTag, 'a6c85cf');
    assert.equal(m.fromTag, '1928301774');
  }),
  'rfc3261-24.2-F13-BYE.sip': accept((m) => {
    assert.equal(m.method, 'BYE');
    assert.equal(m.cseq, 231);
    // From/To swapped (callee's BYE): From is Bob with the To-tag of the INVITE.
    assert.equal(ok(m.from()).displayName, 'Bob');
    assert.equal(m.fromTag, 'a6c85cf');
    assert.equal(ok(m.to()).displayName, 'Alice');
    assert.equal(m.toTag, '1928301774');
  }),
  'rfc3261-24.2-F14-200-OK-BYE.sip': accept((m) => {
    assert.equal(m.status, 200);
    assert.equal(m.reason, 'OK');
    assert.equal(m.method, 'BYE');
    assert.equal(m.cseq, 231);
  }),
  'rfc3261-24.2-F4-100-Trying.sip': accept((m) => {
    assert.equal(m.status, 100);
    assert.deepEqual(
      ok(m.vias()).map((v) => [v.host, v.branch, v.received]),
      [
        ['bigbox3.site3.atlanta.com', 'z9hG4bK77ef4c2312983.1', '192.0.2.2'],
        ['pc33.atlanta.com', 'z9hG4bKnashds8', '192.0.2.1'],
      ],
    );
    assert.equal(m.toTag, undefined);
  }),
  'rfc3261-24.2-F6-180-Ringing.sip': accept((m) => {
    assert.equal(m.status, 180);
    assert.equal(m.reason, 'Ringing');
    assert.deepEqual(
      ok(m.vias()).map((v) => [v.host, v.received]),
      [
        ['server10.biloxi.com', '192.0.2.3'],
        ['bigbox3.site3.atlanta.com', '192.0.2.2'],
        ['pc33.atlanta.com', '192.0.2.1'],
      ],
    );
    assert.equal(m.toTag, 'a6c85cf');
    assert.equal(contactsOf(m)[0].uri.raw, 'sip:bob@192.0.2.4');
  }),
  'rfc4475-mpart01.sip': accept(mpart01),
  'rfc5118-ipv4-mapped-ipv6.sip': accept((m) => {
    assert.deepEqual(
      viaSummary(m).map(([, host, port]) => [host, port]),
      [
        ['[::ffff:192.0.2.10]', 19823],
        ['[::ffff:192.0.2.2]', undefined],
      ],
    );
    assert.equal(sipOf(contactsOf(m)[0]).host, '[::ffff:192.0.2.2]');
    assert.deepEqual(bodyLines(m, 'c='), ['c=IN IP6 ::ffff:192.0.2.2']);
  }),
  'rfc5118-ipv6-good.sip': accept((m) => {
    assert.equal(sipUri(m.requestUri()).host, '[2001:db8::10]');
    assert.equal(m.topVia.host, '[2001:db8::9:1]');
    assert.equal(sipOf(contactsOf(m)[0]).host, '[2001:db8::1]');
  }),
  'rfc5118-mult-ip-in-header.sip': accept((m) => {
    assert.deepEqual(
      viaSummary(m).map(([t, host, port]) => [t, host, port]),
      [
        ['UDP', '[2001:db8::9:1]', 6050],
        ['UDP', '192.0.2.1', undefined],
        ['TCP', '[2001:db8::9:255]', undefined],
      ],
    );
    assert.equal(ok(m.vias())[2].received, '192.0.2.200');
  }),
  'sme-200-OK-INVITE-sdp.sip': accept((m) => {
    assert.equal(m.status, 200);
    assert.equal(m.topVia.rport, null);
    assert.equal(m.topVia.received, '10.1.10.3');
    assert.equal(m.topVia.branch, 'z9hG4bK94U4tm2DStvvH');
    assert.equal(m.toTag, 'a94c095b773be1dd6e8d668a785a9c84fac73504');
    assert.equal(m.getHeader('Server'), 'Dialogic-SIP/10.5.3.304 Raytheon_N0 0');
    assert.deepEqual(present(m.supported()), ['path', 'replaces', 'timer', 'tdialog']);
    assert.equal(m.bodyLength, 176);
  }),
  'sme-invite-compact-headers.sip': accept((m) => {
    // v f t i m k c l compact forms.
    assert.deepEqual(viaSummary(m), [
      ['UDP', '10.1.10.101', undefined, 'z9hG4bKac619477600'],
      ['UDP', '10.1.10.103', undefined, 'z9hG4bKac6194382828'],
    ]);
    assert.equal(ok(m.from()).displayName, 'anonymous');
    assert.equal(m.fromTag, '1c619456422');
    assert.equal(ok(m.to()).uri.raw, 'sip:5753606@10.1.10.1');
    assert.equal(m.callId, '619455480112200022407@10.1.10.101');
    assert.equal(contactsOf(m)[0].uri.raw, 'sip:1047@10.1.10.101:5060');
    assert.deepEqual(present(m.supported()), [
      'em',
      'timer',
      'replaces',
      'path',
      'resource-priority',
      'sdp-anat',
    ]);
    assert.equal(present(m.contentType()).mediaType, 'application/sdp');
    assert.equal(m.contentLength, 173);
    assert.equal(m.headerName(m.headerIndexes('Content-Length')[0]), 'l');
  }),
  'ss-200-OK-OPTIONS-sdp.sip': accept((m) => {
    assert.equal(m.method, 'OPTIONS');
    // Lower-case `content-type:` is the same header.
    assert.equal(present(m.contentType()).mediaType, 'application/sdp');
    assert.equal(m.headerName(m.headerIndexes('Content-Type')[0]), 'content-type');
    assert.equal(m.bodyLength, 217);
  }),
  'ss-200-OK-REGISTER-2-contacts.sip': accept((m) => {
    const cs = present(m.contacts()).contacts;
    assert.equal(cs.length, 2);
    assert.deepEqual(
      cs.map((c) => [c.displayName, c.uri.raw, c.q, c.expires]),
      [
        [undefined, 'sip:303@sip.blueface.ie', 0.1, 3298],
        ['Joe Bloggs', 'sip:253989@89.100.104.191:64226;rinstance=5720c5fed8cbcd34', 0.1, 3600],
      ],
    );
    assert.equal(sipOf(cs[1]).params.get('rinstance'), '5720c5fed8cbcd34');
    assert.equal(m.getHeader('Date'), 'Fri, 17 Nov 2006 17:15:35 GMT');
    assert.equal(m.topVia.rport, 64226);
    assert.equal(m.topVia.received, '89.100.104.191');
    assert.equal(ok(m.to()).displayName, '253989');
  }),
  'ss-INVITE-route-list-2pai-history-info.sip': accept((m) => {
    const routes = ok(m.routes());
    assert.deepEqual(
      routes.map((r) => [sipOf(r).host, sipOf(r).port, sipOf(r).params.has('lr')]),
      [
        ['10.0.0.1', 5060, true],
        ['10.0.0.2', 5060, true],
      ],
    );
    const pai = ok(m.pAssertedIdentities());
    assert.deepEqual(
      pai.map((p) => sipOf(p).user),
      ['+4199999999;cpc=ordinary', '+4188888888;cpc=ordinary'],
    );
    assert.equal(m.getHeaders('History-Info').length, 2);
    assert.ok(m.getHeaders('History-Info')[1].endsWith(';index=1.1'));
    // Non-RFC 3261 branch and an extension Via parameter.
    assert.equal(m.topVia.branch, 'yxxxcvvvbbbnnmm1');
    assert.equal(m.topVia.params.get('X-DispMsg'), '1423');
    assert.equal(m.getHeader('Session-Expires'), '1800;refresher=uac');
    assert.equal(m.maxForwards, 64);
  }),
  'ss-INVITE-route-list-diversion.sip': accept((m) => {
    assert.equal(ok(m.routes()).length, 2);
    // One P-Asserted-Identity header, two comma-separated values.
    assert.equal(m.getHeaders('P-Asserted-Identity').length, 1);
    assert.deepEqual(
      ok(m.pAssertedIdentities()).map((p) => p.uri.raw),
      [
        'sip:+4199999999;cpc=ordinary@10.0.0.1;transport=udp;user=phone',
        'sip:+4188888888;cpc=ordinary@10.0.0.1;transport=udp;user=phone',
      ],
    );
    assert.deepEqual(m.getHeaders('diversion'), [
      '<sip:+4199999999@10.0.0.1:5060>;reason=user-busy;counter=3;privacy=off',
      '<sip:+4188888888@10.0.0.2:5060>;reason=no-answer;counter=1;privacy=full',
    ]);
  }),
  'ss-NOTIFY-tcp-3via-dialog-info-2393b.sip': accept((m) => {
    const ru = sipUri(m.requestUri());
    assert.deepEqual(
      [ru.user, ru.host, ru.port, ru.params.get('transport')],
      [undefined, '10.1.1.5', 62647, 'tcp'],
    );
    assert.deepEqual(
      viaSummary(m).map(([t, host, port]) => [t, host, port]),
      [
        ['TCP', '10.1.1.5', 4506],
        ['UDP', '127.0.0.1', 5060],
        ['UDP', '127.0.0.1', 5003],
      ],
    );
    assert.equal(ok(m.vias())[2].rport, 5003);
    assert.equal(present(m.event()).event, 'dialog');
    assert.equal(m.contentLength, 2393);
    assert.equal(m.bodyLength, 2393);
    assert.ok(
      m.body.toString('latin1').startsWith("<?xml version='1.0' encoding='utf-16'?>\r\n<dialog-info"),
    );
    assert.ok(m.body.toString('latin1').endsWith('</dialog-info>'));
    assert.equal(m.contentType(), undefined);
    assert.equal(m.maxForwards, 69);
  }),
  'ss-asterisk-BYE-3-route-headers.sip': accept((m) => {
    // 3 Route header lines holding 7 route entries.
    assert.equal(m.getHeaders('Route').length, 3);
    const routes = ok(m.routes());
    assert.deepEqual(
      routes.map((r) => r.uri.raw),
      [
        'sip:220.240.255.198:64300;lr',
        'sip:bluesipd@192.168.1.2:5065',
        'sip:21.10.21.2;lr',
        'sip:bluesipd@90.91.82.12',
        'sip:bluesipd@90.91.82.12',
        'sip:2.3.22.2;lr',
        'sip:bluesipd@90.91.82.12',
      ],
    );
    // No Max-Forwards (a proxy adds one, RFC 3261 §16.6): see the forwarding test below.
    assert.equal(m.maxForwards, -1);
    assert.equal(m.userAgent, 'asterisk');
  }),
  'ss-cisco-ACK-route-proxy-authorization.sip': accept((m) => {
    assert.equal(m.method, 'ACK');
    assert.deepEqual(
      ok(m.routes()).map((r) => r.uri.raw),
      ['sip:89.100.92.186:6060;lr'],
    );
    const [pa] = ok(m.proxyAuthorization());
    assert.equal(pa.scheme, 'Digest');
    assert.deepEqual(Object.fromEntries(pa.params), {
      username: 'aaron',
      realm: 'sip.blueface.ie',
      uri: 'sip:303@azaclauson.dyndns.org',
      response: '638c8fb6186fe865e80f6232cc417c3f',
      nonce: '44f121a2',
      algorithm: 'md5',
    });
    assert.ok(m.getHeader('Remote-Party-ID')?.startsWith('"dev" <sip:aaron@89.100.92.186>;party=calling'));
    assert.equal(m.getHeader('Date'), 'Mon, 07 Aug 2006 14:57:40 GMT');
    // RFC 2543-style UA: From without tag.
    assert.equal(m.fromTag, undefined);
    assert.equal(ok(m.from()).displayName, 'dev');
    assert.equal(m.toTag, 'as108bd3ae');
  }),
  'ss-microsip-INVITE-tls-srtp-sdp.sip': accept((m) => {
    assert.equal(m.topVia.transport, 'TLS');
    assert.equal(m.topVia.port, 58179);
    const ru = sipUri(m.requestUri());
    assert.deepEqual([ru.port, ru.params.get('transport')], [5061, 'tls']);
    assert.deepEqual(sipOf(contactsOf(m)[0]).params.entries(), [['ob', undefined]]);
    assert.equal(m.getHeader('Session-Expires'), '1800');
    assert.equal(m.getHeader('Min-SE'), '90');
    // `Content-Length:   720` (extra spaces).
    assert.equal(m.contentLength, 720);
    assert.equal(m.bodyLength, 720);
    assert.equal(bodyLines(m, 'a=crypto:').length, 4);
    assert.deepEqual(present(m.supported()), ['replaces', '100rel', 'timer', 'norefersub']);
    assert.equal(present(m.allow()).length, 12);
  }),
  'ss-minisip-ACK-proxy-authorization.sip': accept((m) => {
    const [pa] = ok(m.proxyAuthorization());
    assert.equal(pa.scheme, 'Digest');
    assert.equal(pa.params.get('opaque'), '');
    assert.equal(pa.params.get('algorithm'), 'MD5');
    assert.equal(pa.params.get('nonce'), '13046264131868153844');
    // Via sent-by is a host name (a leading all-digit label).
    assert.equal(m.topVia.host, '1234.s1.minisipserver.com');
    assert.equal(m.topVia.rport, null);
  }),
  'ss-msc-200-OK-record-route-list.sip': accept((m) => {
    assert.deepEqual(
      ok(m.recordRoutes()).map((r) => r.uri.raw),
      ['sip:213.168.225.133:5060;lr', 'sip:213.168.225.133:5061;lr'],
    );
    // Display names without a space before `<`.
    assert.equal(ok(m.from()).displayName, 'Blue Face');
    assert.equal(contactsOf(m)[0].displayName, '+3535xxx');
    // To as a bare addr-spec with a tag.
    const to = ok(m.to());
    assert.equal(to.bracketed, false);
    assert.equal(to.uri.raw, 'sip:xxx@127.0.0.1');
    assert.equal(m.toTag, 'MTHf2-ol1Yn0');
    assert.equal(m.userAgent, 'MSC/VC510  Build-Date Nov  7 2005');
    assert.equal(m.topVia.branch, 'z9hG4bKG+WGOVwLyT6vOW9s');
  }),
  'ss-nextone-INVITE-record-route-2via.sip': accept((m) => {
    assert.equal(ok(m.vias()).length, 2);
    assert.equal(ok(m.vias())[1].rport, 5060);
    const [rr] = ok(m.recordRoutes());
    assert.equal(sipOf(rr).params.get('lr'), 'on');
    assert.equal(sipOf(rr).params.get('ftag'), '3433217327-893254');
    // Anonymous From without a user part.
    const from = sipOf(ok(m.from()));
    assert.equal(from.user, undefined);
    assert.deepEqual([from.host, from.port], ['213.166.9.4', 5060]);
    // `P-Asserted-Identity:<...>` without a space.
    assert.deepEqual(
      ok(m.pAssertedIdentities()).map((p) => p.uri.raw),
      ['sip:unknown@213.166.9.4'],
    );
    assert.equal(m.getHeader('Privacy'), 'none');
    assert.equal(m.getHeader('Session-Expires'), '3600;Refresher=uac');
    assert.equal(m.maxForwards, 12);
  }),
  'ss-patton-200-OK-via-list-record-route.sip': accept((m) => {
    // Two Via values in one header line.
    assert.equal(m.getHeaders('Via').length, 1);
    assert.deepEqual(viaSummary(m), [
      ['UDP', '194.213.29.100', 5060, 'z9hG4bK5feb18267ce40fb05969b4ba843681dbfc9ffcff'],
      ['UDP', '127.0.0.1', 5061, 'z9hG4bK52b6a8b7'],
    ]);
    assert.equal(ok(m.recordRoutes()).length, 1);
    assert.ok(m.getHeader('Server')?.startsWith('Patton SN4634 3BIS'));
    assert.ok(m.getHeader('Server')?.endsWith('SIP Stack/4.0.28.28'));
    assert.deepEqual(bodyLines(m, 'm=video'), ['m=video 0 RTP/AVP 31 34 103 99']);
  }),
  'ss-rtc-SUBSCRIBE-presence.sip': accept((m) => {
    assert.equal(present(m.event()).event, 'presence');
    assert.equal(m.getHeader('Accept'), 'application/xpidf+xml, text/xml+msrtc.pidf, application/pidf+xml');
    // Supported twice: one list.
    assert.deepEqual(present(m.supported()), ['com.microsoft.autoextend', 'ms-benotify']);
    assert.deepEqual(present(m.proxyRequire()), ['ms-benotify']);
    // RFC 2543 style: no branch.
    assert.equal(m.topVia.branch, undefined);
    assert.equal(m.topVia.port, 15796);
    assert.equal(ok(m.from()).params.get('epid'), '1bb41c1f89');
    assert.equal(m.fromTag, 'a6cf9fe4cdee4e1cad88240403b95669');
  }),
  'ss-sipsorcery-INVITE-sdp-ssrc.sip': accept((m) => {
    assert.deepEqual(present(m.supported()), ['replaces', 'norefersub', '100rel']);
    assert.deepEqual(bodyLines(m, 'a=ssrc:'), [
      'a=ssrc:172341600 cname:ee6f407e-d848-44b3-a451-e8cf2d0e22d9',
    ]);
    assert.equal(m.bodyLength, 260);
    assert.equal(sipOf(ok(m.to())).port, 5060);
  }),
  'ss-sonus-200-OK-2-record-route.sip': accept((m) => {
    assert.equal(m.getHeaders('Record-Route').length, 2);
    assert.deepEqual(
      ok(m.recordRoutes()).map((r) => r.uri.raw),
      ['sip:77.75.25.44:5060;lr=on', 'sip:77.75.25.45:5060;lr=on;ftag=1014391101'],
    );
    assert.equal(m.getHeader('Content-Disposition'), 'session; handling=required');
    assert.equal(m.contentLength, 232); // `Content-Length:  232`
    assert.equal(
      m.getHeader('Accept'),
      'application/sdp, application/isup, application/dtmf, application/dtmf-relay,  multipart/mixed',
    );
    assert.equal(m.topVia.rport, 61540);
  }),
  'ss-xlite-REGISTER-expires-0-no-content-length.sip': accept((m, buf) => {
    const [c] = present(m.contacts()).contacts;
    assert.equal(c.expires, 0);
    assert.equal(sipOf(c).params.get('rinstance'), '6d2bbd8014ca7a76');
    assert.equal(m.topVia.rport, null);
    assert.equal(m.topVia.received, '89.100.104.191');
    assert.equal(m.contentLength, -1);
    assert.equal(m.bodyLength, 0);
    assertStreamNeedsContentLength(buf);
  }),
  'ss-xpro-INVITE-sdp.sip': accept((m) => {
    // Unquoted multi-token display name.
    assert.equal(ok(m.from()).displayName, 'SER Test X');
    assert.equal(m.topVia.rport, null);
    assert.equal(m.bodyLength, 271);
    assert.deepEqual(bodyLines(m, 'm='), ['m=audio 8004 RTP/AVP 0 8 3 97 101']);
  }),
  'ss-xpro-REGISTER-authorization-no-content-length.sip': accept((m, buf) => {
    const [a] = ok(m.authorization());
    assert.equal(a.scheme, 'Digest');
    assert.deepEqual(Object.fromEntries(a.params), {
      realm: 'sip.blueface.ie',
      nonce: '1694683214',
      username: 'aaronxten',
      response: '85f2089ac958e69ce4d74f5ae72a9a5f',
      uri: 'sip:blueface.ie',
    });
    assert.equal(a.params.has('qop'), false);
    assert.equal(m.contentLength, -1);
    assert.equal(present(m.expires()), 1800);
    assert.equal(contactsOf(m)[0].displayName, 'Aaron');
    assertStreamNeedsContentLength(buf);
  }),
};

runCorpus('valid', '.sip', OUTCOMES);

describe('valid/: forwarding details', () => {
  it('a BYE without Max-Forwards gets Max-Forwards 70 when forwarded', () => {
    const out = assertForwardableRequest(corpusFile('valid', 'ss-asterisk-BYE-3-route-headers.sip'));
    const f = mustParse(out);
    assert.equal(f.maxForwards, 70);
    // All 7 route entries are forwarded (this proxy is not the first of them).
    assert.equal(ok(f.routes()).length, 7);
  });

  it('popping the first Route of a comma list keeps the other values byte-identical', () => {
    const m = mustParse(corpusFile('valid', 'ss-asterisk-BYE-3-route-headers.sip'));
    assert.ok(m.removeFirstRoute());
    const f = mustParse(m.serialize());
    assert.deepEqual(
      ok(f.routes()).map((r) => r.uri.raw),
      ok(m.routes())
        .slice(1)
        .map((r) => r.uri.raw),
    );
    assert.ok(f.raw.includes('Route: <sip:bluesipd@192.168.1.2:5065>\r\n'));
    assert.equal(f.validate(), undefined);
  });

  it('a TCP stream of all valid messages frames back exactly those with Content-Length', () => {
    const withCl = corpusFiles('valid', '.sip').filter(([, buf]) => mustParse(buf).contentLength >= 0);
    assert.equal(withCl.length, 30);
    const framer = new StreamFramer();
    const events = framer.push(Buffer.concat(withCl.map(([, buf]) => buf)));
    assert.deepEqual(
      events.map((e) => e.kind),
      withCl.map(() => 'message'),
    );
    events.forEach((e, k) => {
      if (e.kind !== 'message') return;
      assert.ok(e.data.equals(withCl[k][1]), withCl[k][0]);
      assert.equal(mustParse(e.data, false).validate(), undefined, withCl[k][0]);
    });
    assert.equal(framer.pendingBytes, 0);
  });

  it('a WebSocket message (one per frame) needs no Content-Length', () => {
    for (const [name, buf] of corpusFiles('valid', '.sip')) {
      const ev = frameCompleteMessage(buf);
      assert.ok(ev.kind === 'message' && ev.data.equals(buf), name);
    }
  });
});
