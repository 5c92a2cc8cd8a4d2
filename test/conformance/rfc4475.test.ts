/**
 * RFC 4475 torture tests: every message of ../shared/corpus/rfc4475/ (bit-exact from the RFC's
 * archive) with the outcome the RFC expects, and for valid messages the exact field values the
 * corpus README names. Decisions where the RFC allows a choice follow src/sip/README.md.
 *
 * | file | outcome |
 * | --- | --- |
 * | wsinv intmeth esc01 escnull esc02 lwsdisp longreq dblreq semiuri transports mpart01 unreason noreason | accept (valid) |
 * | badbranch unkscm novelsc unksm2 bext01 invut regaut01 bcast zeromf cparam01 cparam02 regescrt sdp01 inv2543 | accept (valid syntax; the layers above decide) |
 * | baddate | accept (Date is not interpreted; RFC allows it) |
 * | badinv01 | parse SIP_VIA 400 |
 * | clerr | parse SIP_BODY_TRUNCATED 400 |
 * | ncl | parse SIP_CONTENT_LENGTH 400 |
 * | scalar02 | parse SIP_MAX_FORWARDS 400 (then CSeq, Expires, Contact expires: each refused on its own) |
 * | scalarlg | parse SIP_CSEQ 400 (a response: dropped) |
 * | quotbal | parse SIP_TO 400 |
 * | ltgtruri | parse SIP_REQUEST_URI 400 |
 * | lwsruri | parse SIP_REQUEST_URI 400 |
 * | lwsstart trws | parse SIP_START_LINE 400 |
 * | escruri | validate SIP_REQUEST_URI 400 |
 * | regbadct | validate SIP_CONTACT 400 |
 * | badaspec | validate SIP_TO 400 |
 * | baddn | parse SIP_HEADER_SECTION 400 (archive has no empty line); terminated: validate SIP_FROM 400 |
 * | badvers | parse SIP_VERSION 505 |
 * | mismatch01 | parse SIP_CSEQ_METHOD 400 |
 * | mismatch02 | parse SIP_CSEQ_METHOD_UNKNOWN 501 |
 * | bigcode | parse SIP_STATUS_CODE 400 (a response: dropped) |
 * | insuf | parse SIP_MISSING_HEADER 400 |
 * | multi01 | parse SIP_DUPLICATE_HEADER 400 |
 * | mcl01 | parse SIP_DUPLICATE_HEADER 400 |
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isParseError } from '../../src/sip/errors.ts';
import { H } from '../../src/sip/header_names.ts';
import { isKnownMethod } from '../../src/sip/methods.ts';
import { parseMessage } from '../../src/sip/parse_message.ts';
import { unescape as unescapeUri } from '../../src/sip/uri.ts';
import { corpusFile } from '../corpus.ts';
import {
  accept,
  assertForwardableRequest,
  assertForwardableResponse,
  assertRejected,
  contactsOf,
  mustAccept,
  type Outcome,
  ok,
  opaqueUri,
  patch,
  present,
  reject,
  runCorpus,
  sipOf,
  sipUri,
  userOf,
} from './support.ts';

/** The 150-byte SDP body several RFC 4475 messages carry, with its o= and c= addresses. */
function sdp150(origin: string, connection: string): string {
  return [
    'v=0',
    `o=mhandley 29739 7272939 IN IP4 ${origin}`,
    's=-',
    `c=IN IP4 ${connection}`,
    't=0 0',
    'm=audio 49217 RTP/AVP 0 12',
    'm=video 3227 RTP/AVP 31',
    'a=rtpmap:31 LPC',
    '',
  ].join('\r\n');
}

const OUTCOMES: Record<string, Outcome> = {
  // ---------------------------------------------------------------- 3.1.1 valid messages
  'wsinv.dat': accept((m) => {
    assert.equal(m.method, 'INVITE');
    assert.equal(m.ruri, 'sip:vivekg@chair-dnrc.example.com;unknownparam');
    const ru = sipUri(m.requestUri());
    assert.equal(ru.host, 'chair-dnrc.example.com');
    assert.deepEqual(ru.params.entries(), [['unknownparam', undefined]]);
    // Leading zeros: 0068 and 0009.
    assert.equal(m.maxForwards, 68);
    assert.equal(m.cseq, 9);
    assert.equal(m.cseqMethod, 'INVITE');
    assert.equal(m.callId, 'wsinv.ndaksdj@192.0.2.1');
    assert.equal(m.contentLength, 150);
    assert.equal(m.body.toString('latin1'), sdp150('192.0.2.3', '192.0.2.4'));
    // To: folded, LWS around ';' and '='.
    const to = ok(m.to());
    assert.equal(to.displayName, undefined);
    assert.equal(to.uri.raw, 'sip:vivekg@chair-dnrc.example.com');
    assert.equal(m.toTag, '1918181833n');
    assert.equal(to.params.get('tag'), '1918181833n');
    // From: quoted display name with quoted-pairs `\\` and `\"`.
    const from = ok(m.from());
    assert.equal(from.displayName, 'J Rosenberg \\"');
    assert.equal(from.uri.raw, 'sip:jdrosen@example.com');
    assert.equal(m.fromTag, '98asjd8');
    // Three Via values over two (folded, spaced) header lines, compact `v:` included.
    const vias = ok(m.vias());
    assert.deepEqual(
      vias.map((v) => [v.protocol, v.version, v.transport, v.host, v.port, v.branch]),
      [
        ['SIP', '2.0', 'UDP', '192.0.2.2', undefined, '390skdjuw'],
        ['SIP', '2.0', 'TCP', 'spindle.example.com', undefined, 'z9hG4bK9ikj8'],
        ['SIP', '2.0', 'UDP', '192.168.255.111', undefined, 'z9hG4bK30239'],
      ],
    );
    assert.equal(m.topVia.branch, '390skdjuw');
    // Empty Subject (`s :`), unknown headers kept as written (the odd value verbatim).
    assert.equal(m.getHeader('Subject'), '');
    assert.equal(m.getHeader('NewFangledHeader'), 'newfangled value continued newfangled value');
    assert.equal(m.getHeader('UnknownHeaderWithUnusualValue'), ';;,,;;,;');
    assert.deepEqual(m.getHeaders('unknownheaderwithunusualvalue'), [';;,,;;,;']);
    // Route value on a continuation line; its URI parameters stay URI parameters.
    const routes = ok(m.routes());
    assert.equal(routes.length, 1);
    const r = sipOf(routes[0]);
    assert.equal(r.host, 'services.example.com');
    assert.deepEqual(r.params.entries(), [
      ['lr', undefined],
      ['unknownwith', 'value'],
      ['unknown-no-value', undefined],
    ]);
    assert.equal(routes[0].params.size, 0);
    // m: Contact with quoted-pairs, spaced and folded parameters.
    const [c] = contactsOf(m);
    assert.equal(c.displayName, 'Quoted string ""');
    assert.equal(c.uri.raw, 'sip:jdrosen@example.com');
    assert.deepEqual(c.params.entries(), [
      ['newparam', 'newvalue'],
      ['secondparam', undefined],
      ['q', '0.33'],
    ]);
    assert.equal(present(m.contacts()).contacts[0].q, 0.33);
    assert.equal(present(m.contentType()).mediaType, 'application/sdp');
  }),

  'intmeth.dat': accept((m) => {
    // `%` is not an escape in a method: an extension method, spelled as received.
    const method = "!interesting-Method0123456789_*+`.%indeed'~";
    assert.equal(m.method, method);
    assert.equal(isKnownMethod(m.method), false);
    assert.equal(m.cseq, 139122385);
    assert.equal(m.cseqMethod, method);
    const ru = sipUri(m.requestUri());
    assert.equal(ru.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
    assert.equal(ru.password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
    assert.equal(ru.host, 'example.com');
    assert.equal(ru.params.size, 0);
    assert.equal(ru.headers, undefined);
    // To display name: quoted-pairs of BEL, NUL and DEL resolve to those characters.
    const to = ok(m.to());
    assert.equal(to.displayName, 'BEL:\x07 NUL:\x00 DEL:\x7f');
    assert.equal(sipOf(to).user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
    // From display name: a run of tokens; a header parameter with a quoted UTF-8 value.
    const from = ok(m.from());
    assert.equal(from.displayName, "token1~` token2'+_ token3*%!.-");
    assert.equal(from.uri.raw, 'sip:mundane@example.com');
    assert.equal(from.params.get("fromParam''~+*_!.-%"), 'работающий');
    assert.equal(m.fromTag, "_token~1'+`*%!-.");
    // Call-ID: every `word` character, none of them special.
    assert.equal(m.callId, 'intmeth.word%ZK-!.*_+\'@word`~)(><:\\/"][?}{');
    assert.equal(m.maxForwards, 255);
    assert.equal(m.topVia.branch, "z9hG4bK-.!%66*_+`'~");
    // Extension header with a UTF-8 value (a byte order mark, then 大停電).
    assert.equal(m.getHeader("extensionHeader-!.%*+_`'~"), '\ufeff大停電');
    assert.equal(m.contentLength, 0);
  }),

  'esc01.dat': accept((m) => {
    assert.equal(m.ruri, 'sip:sips%3Auser%40example.com@example.net');
    const ru = sipUri(m.requestUri());
    assert.equal(ru.user, 'sips%3Auser%40example.com');
    // The README's value: the Request-URI user part unescaped is itself a sips URI.
    assert.equal(userOf(ru), 'sips:user@example.com');
    assert.equal(ru.host, 'example.net');
    const to = ok(m.to());
    assert.equal(sipOf(to).user, '%75se%72');
    assert.equal(userOf(sipOf(to)), 'user');
    const from = ok(m.from());
    assert.equal(userOf(sipOf(from)), 'I have spaces');
    assert.equal(m.fromTag, '938');
    assert.equal(m.callId, 'esc01.239409asdfakjkn23onasd0-3234'); // compact i:
    assert.equal(present(m.contentType()).mediaType, 'application/sdp'); // compact C:
    const [c] = contactsOf(m);
    const cu = sipOf(c);
    assert.equal(userOf(cu), 'caller');
    assert.deepEqual(cu.params.entries(), [
      ['%6C%72', undefined],
      ['n%61me', 'v%61lue%25%34%31'],
    ]);
    // Escapes in URI parameters decode once: `lr`, and name=value%41 (%25 is a literal %).
    assert.deepEqual(
      cu.params.entries().map(([k, v]) => [unescapeUri(k), v === undefined ? undefined : unescapeUri(v)]),
      [
        ['lr', undefined],
        ['name', 'value%41'],
      ],
    );
    assert.equal(m.body.toString('latin1'), sdp150('192.0.2.1', '192.0.2.1'));
  }),

  'escnull.dat': accept((m) => {
    assert.equal(m.method, 'REGISTER');
    // %00 must not truncate the AOR.
    const to = sipOf(ok(m.to()));
    assert.equal(userOf(to), 'null-\x00-null');
    assert.equal(userOf(to).length, 11);
    const from = sipOf(ok(m.from()));
    assert.equal(userOf(from), 'null-\x00-null');
    assert.equal(m.fromTag, '839923423');
    // Two distinct contacts: %00 and %00%00.
    const contacts = contactsOf(m);
    assert.equal(contacts.length, 2);
    const users = contacts.map((c) => userOf(sipOf(c)));
    assert.deepEqual(users, ['\x00', '\x00\x00']);
    assert.notEqual(users[0], users[1]);
    assert.deepEqual(
      contacts.map((c) => sipOf(c).host),
      ['host5.example.com', 'host5.example.com'],
    );
    assert.equal(m.contentLength, 0); // `L:0`
  }),

  'esc02.dat': accept((m) => {
    // Not REGISTER: an unknown method that happens to contain %.
    assert.equal(m.method, 'RE%47IST%45R');
    assert.notEqual(m.method, 'REGISTER');
    assert.equal(isKnownMethod(m.method), false);
    assert.equal(m.cseqMethod, 'RE%47IST%45R');
    assert.equal(ok(m.to()).displayName, '%Z%45');
    assert.equal(ok(m.from()).displayName, '%Z%45');
    assert.equal(m.topVia.branch, 'z9hG4bK209%fzsnel234');
    // Two Contact values, not three: `C%6Fntact` is an unknown header name.
    const contacts = contactsOf(m);
    assert.deepEqual(
      contacts.map((c) => c.uri.raw),
      ['sip:alias1@host1.example.com', 'sip:alias3@host3.example.com'],
    );
    const i = m.headerIndexes('C%6Fntact');
    assert.equal(i.length, 1);
    assert.equal(m.headerId(i[0]), H.OTHER);
    assert.equal(m.headerValue(i[0]), '<sip:alias2@host2.example.com>');
  }),

  'lwsdisp.dat': accept((m) => {
    // No LWS between a token display name and `<` (accepted as RFC 4475 asks).
    const from = ok(m.from());
    assert.equal(from.displayName, 'caller');
    assert.equal(from.uri.raw, 'sip:caller@example.com');
    assert.equal(from.bracketed, true);
    assert.equal(m.fromTag, '323');
    assert.equal(m.method, 'OPTIONS');
  }),

  'longreq.dat': accept((m) => {
    const to = ok(m.to());
    assert.equal(to.displayName, `I have a user name of ${'extreme'.repeat(10)} proportion`);
    const tu = sipOf(to);
    assert.equal(tu.port, 6000);
    assert.deepEqual(tu.params.entries(), [
      ['unknownparam1', `verylong${'long'.repeat(19)}value`],
      [`longparamname${'name'.repeat(24)}`, 'shortvalue'],
      [`verylong${'long'.repeat(24)}ParameterNameWithNoValue`, undefined],
    ]);
    const from = ok(m.from()); // compact F:
    assert.equal(userOf(sipOf(from)), 'amazinglylongcallername'.repeat(5));
    const tag = `12${'982'.repeat(50)}424`;
    assert.equal(m.fromTag, tag);
    assert.deepEqual(from.params.entries(), [
      ['tag', tag],
      [`unknownheaderparamname${'name'.repeat(19)}`, `unknowheaderparamvalue${'value'.repeat(14)}`],
      [`unknownValuelessparamname${'paramname'.repeat(9)}`, undefined],
    ]);
    assert.equal(m.callId, `longreq.one${'really'.repeat(20)}longcallid`);
    // 34 Via values, every spelling of the name (Via v V ViA VIa VIA via viA vIa vIA, spaced colons).
    const vias = ok(m.vias());
    assert.equal(vias.length, 34);
    assert.deepEqual(
      vias.slice(0, 33).map((v) => v.host),
      Array.from({ length: 33 }, (_, k) => `sip${33 - k}.example.com`),
    );
    assert.ok(vias.every((v) => v.transport === 'TCP'));
    assert.equal(m.topVia.host, 'sip33.example.com');
    assert.equal(m.topVia.branch, undefined);
    const last = vias[33];
    assert.equal(last.host, 'host.example.com');
    assert.equal(last.received, '192.0.2.5');
    assert.equal(last.branch, `verylong${'long'.repeat(49)}branchvalue`);
    assert.equal(m.findHeader(H.VIA), 5); // after To, F, Call-ID, CSeq and the long unknown header
    // The long unknown header, name and value as written.
    const name = `Unknown-Long${'Long'.repeat(19)}-Name`;
    const value = m.getHeader(name);
    assert.ok(value?.startsWith(`unknown-long${'long'.repeat(19)}-value; `));
    assert.ok(value?.endsWith(`-parameter-value`));
    assert.equal(userOf(sipOf(contactsOf(m)[0])), 'amazinglylongcallername'.repeat(5));
    assert.equal(m.contentLength, 150);
    assert.equal(m.maxForwards, 70);
  }),

  'dblreq.dat': accept((m, buf) => {
    // The REGISTER is handled; the INVITE-looking trailing octets are ignored (RFC 3261 §18.3).
    assert.equal(m.method, 'REGISTER');
    assert.equal(m.callId, 'dblreq.0ha0isndaksdj99sdfafnl3lk233412');
    assert.equal(m.contentLength, 0);
    assert.equal(m.bodyLength, 0);
    const end = buf.indexOf('\r\n\r\n') + 4;
    assert.equal(m.raw.length, end);
    assert.ok(m.raw.equals(buf.subarray(0, end)));
    assert.ok(m.serialize().equals(buf.subarray(0, end)));
    assert.equal(m.serialize().includes('INVITE'), false);
    assert.ok(buf.length > end + 100, 'the datagram does carry the trailing octets');
    // Forwarded, the REGISTER still carries none of them.
    const out = assertForwardableRequest(buf);
    assert.equal(out.includes('INVITE'), false);
    assert.equal(out.includes('dblreq.0ha0isnda977644900765'), false);
  }),

  'semiuri.dat': accept((m) => {
    const ru = sipUri(m.requestUri());
    // The user part holds `;par=u%40example.net`: they are not URI parameters.
    assert.equal(ru.user, 'user;par=u%40example.net');
    assert.equal(userOf(ru), 'user;par=u@example.net');
    assert.equal(ru.host, 'example.com');
    assert.equal(ru.params.size, 0);
    // Folded Accept list, unfolded.
    assert.equal(
      m.getHeader('Accept'),
      'application/sdp, application/pkcs7-mime, multipart/mixed, multipart/signed, message/sip, message/sipfrag',
    );
    assert.equal(m.maxForwards, 3);
  }),

  'transports.dat': accept((m) => {
    const vias = ok(m.vias());
    assert.deepEqual(
      vias.map((v) => [v.transport, v.host]),
      [
        ['UDP', 't1.example.com'],
        ['SCTP', 't2.example.com'],
        ['TLS', 't3.example.com'],
        ['UNKNOWN', 't4.example.com'],
        ['TCP', 't5.example.com'],
      ],
    );
    assert.equal(m.callId, 'transports.kijh4akdnaqjkwendsasfdj');
  }),

  'mpart01.dat': accept((m) => {
    assert.equal(m.method, 'MESSAGE');
    assert.equal(m.contentLength, 553);
    assert.equal(m.bodyLength, 553);
    const body = m.body;
    assert.ok(body.includes(0x00), 'binary part keeps its NUL octets');
    let bareLf = 0;
    for (let i = 0; i < body.length; i++) if (body[i] === 0x0a && (i === 0 || body[i - 1] !== 0x0d)) bareLf++;
    assert.equal(bareLf, 3);
    assert.ok(body.subarray(0, 20).toString('latin1').startsWith('--7a9cbec02ceef655\r\n'));
    assert.ok(body.toString('latin1').endsWith('--7a9cbec02ceef655--\r\n'));
    const ct = present(m.contentType());
    assert.equal(ct.mediaType, 'multipart/mixed');
    assert.equal(ct.params.get('boundary'), '7a9cbec02ceef655');
    assert.equal(m.userAgent, 'SIPimp.org/0.2.5 (curses)');
    assert.equal(m.getHeader('Content-Transfer-Encoding'), 'binary');
    assert.equal(m.topVia.port, 5070);
    assert.equal(m.topVia.rport, null);
    assert.equal(sipOf(ok(m.routes())[0]).port, 5080);
  }),

  'unreason.dat': accept((m) => {
    assert.equal(m.isRequest, false);
    assert.equal(m.status, 200);
    // UTF-8 reason phrase, decoded.
    assert.equal(m.reason, '= 2**3 * 5**2 но сто девяносто девять - простое');
    assert.equal(m.method, 'INVITE');
    assert.equal(m.contentLength, 154);
  }),

  'noreason.dat': accept((m) => {
    assert.equal(m.status, 100);
    assert.equal(m.reason, '');
    assert.equal(m.toTag, '902jndnke3');
  }),

  // ---------------------------------------------------------------- 3.1.2 invalid messages
  'badinv01.dat': reject('parse', 'SIP_VIA', 400, 'empty parameter'),
  'clerr.dat': reject('parse', 'SIP_BODY_TRUNCATED', 400, 'Content-Length 9999'),
  'ncl.dat': reject('parse', 'SIP_CONTENT_LENGTH', 400, '"-999"'),
  'scalar02.dat': reject('parse', 'SIP_MAX_FORWARDS', 400, 'Max-Forwards', (buf) => {
    // Every overlarge scalar is refused on its own, not only the first one met.
    const mf = patch(buf, 'Max-Forwards: 300', 'Max-Forwards: 70');
    assertRejected(mf, { stage: 'parse', code: 'SIP_CSEQ', status: 400, detail: 'above 2**32-1' });
    const cseq = patch(mf, 'CSeq: 36893488147419103232 REGISTER', 'CSeq: 1 REGISTER');
    assertRejected(cseq, {
      stage: 'validate',
      code: 'SIP_CONTACT',
      status: 400,
      detail: 'expires above 2**32-1',
    });
    const cexp = patch(cseq, ';expires=280297596632815', ';expires=3600');
    assertRejected(cexp, {
      stage: 'validate',
      code: 'SIP_NUMBER',
      status: 400,
      detail: 'Expires above 2**32-1',
    });
    mustAccept(patch(cexp, `Expires: 1${'0'.repeat(100)}`, 'Expires: 3600'));
  }),
  'scalarlg.dat': reject('parse', 'SIP_CSEQ', 400, 'above 2**32-1'),
  'quotbal.dat': reject('parse', 'SIP_TO', 400, 'unterminated quoted string'),
  'ltgtruri.dat': reject('parse', 'SIP_REQUEST_URI', 400, '<>'),
  'lwsruri.dat': reject('parse', 'SIP_REQUEST_URI', 400, 'white space'),
  'lwsstart.dat': reject('parse', 'SIP_START_LINE', 400, 'more than one space'),
  'trws.dat': reject('parse', 'SIP_START_LINE', 400, 'white space after the SIP version'),
  'escruri.dat': reject('validate', 'SIP_REQUEST_URI', 400, 'headers are not allowed'),
  // Accepted: Date is not interpreted by a proxy (RFC 4475 §3.1.2.12 allows it); kept verbatim.
  'baddate.dat': accept((m) => {
    assert.equal(m.getHeader('Date'), 'Fri, 01 Jan 2010 16:00:00 EST');
    assert.equal(m.method, 'INVITE');
  }),
  'regbadct.dat': reject('validate', 'SIP_CONTACT', 400, '"?" headers must be enclosed in <>'),
  'badaspec.dat': reject('validate', 'SIP_TO', 400, 'whitespace inside <URI>'),
  // The archive's baddn ends after `l: 0` CRLF: the header section is never terminated.
  'baddn.dat': reject('parse', 'SIP_HEADER_SECTION', 400, 'no empty line', (buf) => {
    // Terminated, the message is still refused for its point: a display name with `,`.
    const terminated = Buffer.concat([buf, Buffer.from('\r\n')]);
    assertRejected(terminated, { stage: 'validate', code: 'SIP_FROM', status: 400, detail: 'display name' });
  }),
  'badvers.dat': reject('parse', 'SIP_VERSION', 505, 'SIP/7.0'),
  'mismatch01.dat': reject(
    'parse',
    'SIP_CSEQ_METHOD',
    400,
    'CSeq method INVITE differs from request method OPTIONS',
  ),
  // An unknown method whose CSeq disagrees: 501 preferred (RFC 4475 §3.1.2.18).
  'mismatch02.dat': reject('parse', 'SIP_CSEQ_METHOD_UNKNOWN', 501, 'NEWMETHOD'),
  'bigcode.dat': reject('parse', 'SIP_STATUS_CODE', 400, 'status code'),

  // ---------------------------------------------------------------- 3.2 / 3.3 / 3.4
  // Valid syntax; the transaction layer decides (no RFC 3261 magic cookie identifier).
  'badbranch.dat': accept((m) => {
    assert.equal(m.topVia.branch, 'z9hG4bK');
    assert.equal(m.method, 'OPTIONS');
  }),
  'insuf.dat': reject('parse', 'SIP_MISSING_HEADER', 400, 'no Call-ID'),
  'unkscm.dat': accept((m) => {
    // Parsed as well formed; routing answers 416 (never routes on To).
    const u = opaqueUri(m.requestUri(), 'nobodyknowsthisscheme');
    assert.equal(u.opaque, 'totallyopaquecontent');
    assert.equal(u.raw, 'nobodyKnowsThisScheme:totallyopaquecontent');
    assert.equal(m.ruri, 'nobodyKnowsThisScheme:totallyopaquecontent');
  }),
  'novelsc.dat': accept((m) => {
    const u = opaqueUri(m.requestUri(), 'soap.beep');
    assert.equal(u.opaque, '//192.0.2.103:3002');
  }),
  'unksm2.dat': accept((m) => {
    const to = ok(m.to());
    assert.equal(opaqueUri(to.uri, 'isbn').opaque, '2983792873');
    assert.equal(to.bracketed, false);
    const from = ok(m.from());
    assert.equal(opaqueUri(from.uri, 'http').opaque, '//www.example.com');
    assert.equal(m.fromTag, '3234233');
    const [c] = contactsOf(m);
    assert.equal(opaqueUri(c.uri, 'name').opaque, 'John_Smith');
  }),
  'bext01.dat': accept((m) => {
    assert.deepEqual(present(m.require()), ['nothingSupportsThis', 'nothingSupportsThisEither']);
    assert.deepEqual(present(m.proxyRequire()), ['noProxiesSupportThis', 'norDoAnyProxiesSupportThis']);
    assert.equal(m.topVia.transport, 'TLS');
  }),
  'invut.dat': accept((m) => {
    assert.equal(present(m.contentType()).mediaType, 'application/unknownformat');
    assert.equal(m.bodyLength, 40);
  }),
  'regaut01.dat': accept((m) => {
    const [a] = ok(m.authorization());
    assert.equal(a.scheme, 'NoOneKnowsThisScheme');
    assert.equal(a.raw, 'opaque-data=here');
    assert.equal(ok(m.authorization()).length, 1);
    assert.equal(m.contentLength, 0); // `Content-Length:0`, no space
  }),
  'multi01.dat': reject('parse', 'SIP_DUPLICATE_HEADER', 400, 'more than one CSeq'),
  // Two Content-Length values: the framing is unknowable, refused (never "pick one").
  'mcl01.dat': reject('parse', 'SIP_DUPLICATE_HEADER', 400, 'more than one Content-Length'),
  'bcast.dat': accept((m) => {
    // Parsed; routing to a broadcast sent-by is the proxy's decision (it drops it).
    const vias = ok(m.vias());
    assert.equal(vias.length, 2);
    assert.equal(vias[1].host, '255.255.255.255');
    assert.equal(m.status, 200);
  }),
  'zeromf.dat': accept((m) => {
    // A proxy answers 483 instead of forwarding (assertForwardable skips Max-Forwards 0).
    assert.equal(m.maxForwards, 0);
  }),
  'cparam01.dat': accept((m) => {
    // Without <>, `;unknownparam` is a contact parameter, not a URI parameter.
    const [c] = contactsOf(m);
    assert.equal(c.bracketed, false);
    const u = sipOf(c);
    assert.equal(u.user, '+19725552222');
    assert.equal(u.host, 'gw1.example.net');
    assert.equal(u.params.size, 0);
    assert.deepEqual(c.params.entries(), [['unknownparam', undefined]]);
    assert.equal(c.uriText, 'sip:+19725552222@gw1.example.net');
  }),
  'cparam02.dat': accept((m) => {
    // Inside <>, `;unknownparam` is a URI parameter and stays one.
    const [c] = contactsOf(m);
    assert.equal(c.bracketed, true);
    assert.deepEqual(sipOf(c).params.entries(), [['unknownparam', undefined]]);
    assert.equal(c.params.size, 0);
    assert.equal(c.uriText, 'sip:+19725552222@gw1.example.net;unknownparam');
  }),
  'regescrt.dat': accept((m) => {
    // The escaped Route stays in the binding's URI (`M:` is Contact).
    const [c] = contactsOf(m);
    const u = sipOf(c);
    assert.equal(u.user, 'user');
    assert.equal(u.host, 'example.com');
    assert.equal(u.headers, 'Route=%3Csip:sip.example.com%3E');
    assert.equal(unescapeUri(u.headers ?? ''), 'Route=<sip:sip.example.com>');
    assert.equal(c.uriText, 'sip:user@example.com?Route=%3Csip:sip.example.com%3E');
    // It never becomes a real header.
    assert.equal(m.hasHeader('Route'), false);
  }),
  'sdp01.dat': accept((m) => {
    assert.equal(m.getHeader('Accept'), 'text/nobodyKnowsThis');
    assert.equal(present(m.contentType()).mediaType, 'application/sdp');
  }),
  'inv2543.dat': accept((m, buf) => {
    // RFC 2543 syntax: no branch, no From tag, no Max-Forwards, no Content-Length.
    assert.equal(m.topVia.branch, undefined);
    assert.equal(m.topVia.host, 'iftgw.example.com');
    assert.equal(m.fromTag, undefined);
    assert.equal(m.toTag, undefined);
    assert.equal(m.maxForwards, -1);
    assert.equal(m.contentLength, -1);
    // The body runs to the end of the datagram.
    assert.equal(m.end, buf.length);
    assert.equal(m.bodyLength, 105);
    assert.ok(m.body.toString('latin1').startsWith('v=0\r\n'));
    const [rr] = ok(m.recordRoutes());
    assert.equal(sipOf(rr).params.get('maddr'), 'ss1.example.com');
    // On a stream, the missing Content-Length is an error.
    const s = parseMessage(buf, { datagram: false });
    assert.ok(isParseError(s) && s.code === 'SIP_CONTENT_LENGTH');
  }),
};

runCorpus('rfc4475', '.dat', OUTCOMES);

describe('rfc4475: forwarding details', () => {
  it('bcast: a proxy removing its Via leaves the broadcast sent-by on top (routing must drop it)', () => {
    const out = assertForwardableResponse(corpusFile('rfc4475', 'bcast.dat'));
    assert.ok(out !== undefined);
    const f = mustAccept(out);
    assert.equal(f.topVia.host, '255.255.255.255');
  });

  it('inv2543: forwarding adds Max-Forwards 70 (RFC 3261 §16.6 step 3)', () => {
    const out = assertForwardableRequest(corpusFile('rfc4475', 'inv2543.dat'));
    const f = mustAccept(out);
    assert.equal(f.maxForwards, 70);
    assert.equal(f.findHeader(H.MAX_FORWARDS) >= 0, true);
  });

  it('wsinv: unknown headers are forwarded byte-identical', () => {
    const buf = corpusFile('rfc4475', 'wsinv.dat');
    const out = assertForwardableRequest(buf);
    for (const line of [
      'UnknownHeaderWithUnusualValue: ;;,,;;,;\r\n',
      'NewFangledHeader:   newfangled value\r\n continued newfangled value\r\n',
    ]) {
      assert.ok(out.includes(line), `forwarded message keeps ${JSON.stringify(line)}`);
    }
    assert.equal(mustAccept(out).maxForwards, 67);
  });

  it('archive-extra/test.dat (no RFC section): refused, no SIP version on the request line', () => {
    assertRejected(corpusFile('rfc4475/archive-extra', 'test.dat'), {
      stage: 'parse',
      code: 'SIP_START_LINE',
      status: 400,
      detail: 'without a SIP version',
    });
  });

  it('the eager parse of a request reports what the transaction layer matches on, nothing is lost', () => {
    const m = mustAccept(corpusFile('rfc4475', 'esc02.dat'));
    assert.equal(m.topVia.branch, 'z9hG4bK209%fzsnel234');
    assert.equal(m.fromTag, 'f232jadfj23');
    assert.equal(m.toTag, undefined);
  });
});
