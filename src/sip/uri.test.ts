import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isParseError, ParseError } from './errors.ts';
import type { OpaqueUri, SipUri, TelUri, Uri } from './types.ts';
import {
  checkIPv6,
  escapeParam,
  escapeUser,
  formatUri,
  isIPv4,
  isSipUri,
  isTelUri,
  isValidHost,
  lastHostError,
  parseUri,
  scanHost,
  uriEquals,
  unescape as uriUnescape,
  uriUser,
} from './uri.ts';

function uri(s: string): Uri {
  const r = parseUri(s);
  if (r instanceof ParseError) assert.fail(`unexpected error for ${JSON.stringify(s)}: ${r.detail}`);
  return r;
}

function sip(s: string): SipUri {
  const u = uri(s);
  assert.ok(isSipUri(u), `${s} is not sip/sips`);
  return u;
}

function bad(s: string, detail: string | RegExp): ParseError {
  const r = parseUri(s);
  assert.ok(isParseError(r), `expected an error for ${JSON.stringify(s)}`);
  assert.equal(r.code, 'SIP_URI');
  if (typeof detail === 'string') assert.equal(r.detail, detail);
  else assert.match(r.detail, detail);
  return r;
}

test('plain sip and sips URIs', () => {
  const u = sip('sip:alice:secretword@atlanta.com;transport=tcp');
  assert.equal(u.scheme, 'sip');
  assert.equal(u.user, 'alice');
  assert.equal(u.password, 'secretword');
  assert.equal(u.host, 'atlanta.com');
  assert.equal(u.port, undefined);
  assert.equal(u.params.get('transport'), 'tcp');
  assert.equal(u.headers, undefined);
  assert.equal(u.raw, 'sip:alice:secretword@atlanta.com;transport=tcp');

  const s = sip('sips:1047@10.1.10.101:5060');
  assert.equal(s.scheme, 'sips');
  assert.equal(s.host, '10.1.10.101');
  assert.equal(s.port, 5060);

  const h = sip('sip:bigbox3.site3.atlanta.com;lr');
  assert.equal(h.user, undefined);
  assert.equal(h.host, 'bigbox3.site3.atlanta.com');
  assert.equal(h.params.get('lr'), '');

  assert.equal(sip('sip:127.0.0.1:5003').port, 5003);
  assert.equal(sip('sip:host:0').port, 0);
  assert.equal(sip('sip:host:65535').port, 65535);
  assert.equal(sip('sip:host:05060').port, 5060);
  assert.equal(sip('sip:host.example.com.').host, 'host.example.com.');
  assert.equal(sip('sip:a:@host').password, '');
});

test('scheme is case-insensitive and stored lower-case', () => {
  const u = sip('SIP:ALICE@AtLanTa.CoM;Transport=udp');
  assert.equal(u.scheme, 'sip');
  assert.equal(u.user, 'ALICE');
  assert.equal(u.host, 'AtLanTa.CoM');
  assert.equal(u.raw, 'SIP:ALICE@AtLanTa.CoM;Transport=udp');
  assert.equal(sip('SiPs:x@y').scheme, 'sips');
  assert.equal(uri('TEL:+1234').scheme, 'tel');
  assert.equal(uri('HTTP://www.example.com').scheme, 'http');
});

test('user part: escapes, user params, unusual characters', () => {
  // RFC 4475 esc01 Request-URI
  const e = sip('sip:sips%3Auser%40example.com@example.net');
  assert.equal(e.user, 'sips%3Auser%40example.com');
  assert.equal(uriUser(e), 'sips:user@example.com');
  assert.equal(e.host, 'example.net');
  // RFC 4475 semiuri
  const s = sip('sip:user;par=u%40example.net@example.com');
  assert.equal(s.user, 'user;par=u%40example.net');
  assert.equal(uriUser(s), 'user;par=u@example.net');
  assert.equal(s.host, 'example.com');
  assert.equal(s.params.size, 0);
  // real capture: user with a context parameter
  assert.equal(sip('sip:5753606;context=private@10.1.10.1').user, '5753606;context=private');
  // RFC 4475 intmeth Request-URI: user and password full of legal oddities
  const i = sip(
    "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com",
  );
  assert.equal(i.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
  assert.equal(i.password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
  assert.equal(i.host, 'example.com');
  assert.equal(i.headers, undefined);
  // RFC 4475 esc01 / escnull
  assert.equal(uriUser(sip('sip:%75se%72@example.com')), 'user');
  assert.equal(uriUser(sip('sip:I%20have%20spaces@example.net')), 'I have spaces');
  assert.equal(uriUser(sip('sip:null-%00-null@example.com')), 'null-\u0000-null');
  assert.equal(uriUser(sip('sip:%00@host5.example.com')), '\u0000');
  assert.equal(uriUser(sip('sip:%00%00@host5.example.com')), '\u0000\u0000');
  // telephone-subscriber style users
  assert.equal(sip('sip:+19725552222@gw1.example.net;unknownparam').user, '+19725552222');
  assert.equal(sip('sip:*67#123@pbx.example.com').user, '*67#123');
  assert.equal(sip('sip:j\u00fcrgen@example.com').user, 'j\u00fcrgen');
});

test('host forms: hostname, IPv4, IPv6 references (RFC 5118)', () => {
  assert.equal(sip('sip:[2001:db8::10]').host, '[2001:db8::10]'); // 4.1 ipv6-good
  assert.equal(sip('sip:caller@[2001:db8::1]').host, '[2001:db8::1]');
  // 4.3 port-ambiguous: an address with no port
  const amb = sip('sip:[2001:db8::10:5070]');
  assert.equal(amb.host, '[2001:db8::10:5070]');
  assert.equal(amb.port, undefined);
  // 4.4 port-unambiguous
  const unamb = sip('sip:[2001:db8::10]:5070');
  assert.equal(unamb.host, '[2001:db8::10]');
  assert.equal(unamb.port, 5070);
  // 4.9 IPv4-mapped, 4.10 correct two-colon form
  assert.equal(sip('sip:ted@[::ffff:192.0.2.2]').host, '[::ffff:192.0.2.2]');
  assert.equal(sip('sip:user@[2001:db8::192.0.2.1]').host, '[2001:db8::192.0.2.1]');
  assert.equal(sip('sip:[::1]:5060;transport=tcp').params.get('transport'), 'tcp');
  assert.equal(sip('sip:[2001:DB8:0:0:0:0:0:1]').host, '[2001:DB8:0:0:0:0:0:1]');
  assert.equal(sip('sip:bob@255.255.255.255').host, '255.255.255.255');
  // liberal: digit-leading top label and underscores in labels
  assert.equal(sip('sip:8219000@sip.194.213.29.100').host, 'sip.194.213.29.100');
  assert.equal(sip('sip:user@my_host.example.com').host, 'my_host.example.com');
  assert.equal(sip('sip:303@bluesipd:5065').host, 'bluesipd');
});

test('host errors', () => {
  bad('sip:2001:db8::10', 'IPv6 address in URI must be enclosed in [ ] (RFC 5118 §4.2)'); // 4.2 ipv6-bad
  bad('sip:user@2001:db8::10', /must be enclosed in \[ \]/);
  bad('sip:fe80::1', /must be enclosed in \[ \]/);
  bad('sip:user@[2001:db8:::192.0.2.1]', '":::" in IPv6 address (RFC 5118 §4.10)'); // 4.10 three colons
  bad('sip:[2001:db8::10', 'IPv6 reference without closing ]');
  bad('sip:[2001:db8::g]', 'invalid "g" in IPv6 reference');
  bad('sip:[fe80::1%25eth0]', 'invalid "%" in IPv6 reference');
  bad('sip:[]', 'empty IPv6 address');
  bad('sip:a@1.2.3.999', 'invalid IPv4 address "1.2.3.999"');
  bad('sip:a@1.2.3', 'invalid IPv4 address "1.2.3"');
  bad('sip:a@5060', 'invalid IPv4 address "5060"');
  bad('sip:a@exa..mple.com', 'empty label in host name');
  bad('sip:a@.example.com', 'empty label in host name');
  bad('sip:a@', 'missing host');
  bad('sip:', 'missing host');
  bad('sip:a@b!c', 'invalid "!" in URI after host');
  bad('sip:user@exa mple.com', 'whitespace inside URI (in URI after host)');
  bad('sip:user@ example.com', 'whitespace inside URI');
});

test('port errors', () => {
  bad('sip:a@b:99999', 'port 99999 out of range 0-65535');
  bad('sip:a@b:', 'empty port after ":"');
  bad('sip:a@b:50x0', 'invalid "x" in port');
  bad('sip:[::1]:', 'empty port after ":"');
  bad('sip:a@b:5060 ', 'whitespace inside URI (in port)');
});

test('user and password errors', () => {
  bad('sip:@example.com', 'empty user part before "@"');
  bad('sip::pw@example.com', 'empty user part before "@"');
  bad('sip:us%zzer@example.com', 'invalid % escape in user part');
  bad('sip:user:p%4@example.com', 'invalid % escape in password');
  bad('sip:us<er@example.com', 'invalid "<" in user part');
  bad('sip:user:pa;ss@example.com', 'invalid ";" in password');
  bad('sip:user:pa:ss@example.com', 'invalid ":" in password');
  bad('sip:us er@example.com', 'whitespace inside URI (in user part)'); // RFC 4475 lwsruri-like
  bad('sip:user"@example.com', 'invalid """ in user part');
});

test('URI parameters and headers', () => {
  // RFC 4475 esc01 Contact
  const c = sip('sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31');
  assert.equal(uriUser(c), 'caller');
  assert.equal(c.params.size, 2);
  assert.equal(c.params.toString(), ';%6C%72;n%61me=v%61lue%25%34%31');
  assert.equal(uriUnescape(c.params.entries()[1][1] as string), 'value%41');
  // RFC 4475 wsinv Route
  const r = sip('sip:services.example.com;lr;unknownwith=value;unknown-no-value');
  assert.deepEqual(
    r.params.entries().map(([k]) => k),
    ['lr', 'unknownwith', 'unknown-no-value'],
  );
  // RFC 4475 regescrt / escruri
  const h = sip('sip:user@example.com?Route=%3Csip:sip.example.com%3E');
  assert.equal(h.headers, 'Route=%3Csip:sip.example.com%3E');
  assert.equal(h.params.size, 0);
  const b = sip('sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com');
  assert.equal(b.params.get('method'), 'REGISTER');
  assert.equal(b.headers, 'to=sip:bob%40biloxi.com');
  assert.equal(
    sip('sip:alice@atlanta.com?subject=project%20x&priority=urgent').headers,
    'subject=project%20x&priority=urgent',
  );
  assert.equal(sip('sip:[2001:db8::1]:5060;maddr=[2001:db8::2]').params.get('maddr'), '[2001:db8::2]');
});

test('parameter and header errors', () => {
  bad('sip:a@b;;lr', 'empty parameter (URI parameters)');
  bad('sip:a@b;lr;', 'empty parameter (URI parameters)');
  bad('sip:a@b;transport=', 'missing value after "=" in parameter "transport" (URI parameters)');
  bad('sip:a@b;x=%g1', 'invalid % escape in URI parameter "x" (URI parameters)');
  bad('sip:a@b;lr ;x', 'whitespace after parameter "lr" in URI (URI parameters)');
  bad('sip:a@b;x="y"', 'invalid """ in value of parameter "x" (URI parameters)');
  bad('sip:a@b?', 'empty headers after "?"');
  bad('sip:a@b?x=%zz', 'invalid % escape in URI headers');
  bad('sip:a@b?x=<y>', 'invalid "<" in URI headers');
  bad('sip:a@b?subject=a b', 'whitespace inside URI (in URI headers)');
});

test('scheme errors and other schemes', () => {
  bad('', 'empty URI');
  bad('<sip:user@example.com>', 'URI enclosed in <>'); // RFC 4475 ltgtruri
  bad(' sip:a@b', 'whitespace before URI');
  bad('1sip:a', 'URI must start with a scheme, found "1"');
  bad('sip', 'missing ":" after URI scheme');
  bad('si p:a', 'whitespace inside URI (in URI scheme)');
  bad('si_p:a', 'invalid "_" in URI scheme');
  bad('foo:', 'empty URI after scheme');
  bad('foo:a b', 'whitespace inside URI (in URI)');
  bad('foo:a<b', 'invalid "<" in URI');

  const o = uri('soap.beep://192.0.2.103:3002') as OpaqueUri; // RFC 4475 novelsc
  assert.equal(o.scheme, 'soap.beep');
  assert.equal(o.opaque, '//192.0.2.103:3002');
  assert.ok(!isSipUri(o));
  assert.ok(!isTelUri(o));
  assert.equal(
    (uri('nobodyKnowsThisScheme:totallyopaquecontent') as OpaqueUri).scheme,
    'nobodyknowsthisscheme',
  ); // unkscm
  assert.equal((uri('isbn:2983792873') as OpaqueUri).opaque, '2983792873'); // unksm2
  assert.equal(uri('http://www.example.com').scheme, 'http');
  assert.equal(uri('name:John_Smith').scheme, 'name');
  assert.equal(uri('urn:service:sos').scheme, 'urn');
  assert.equal(uri('a+b-c.d:x').scheme, 'a+b-c.d');
  assert.equal(uriUser(uri('mailto:someone@example.com')), undefined);
});

test('tel URIs (RFC 3966)', () => {
  const g = uri('tel:+1-212-555-0101') as TelUri;
  assert.ok(isTelUri(g));
  assert.equal(g.number, '+1-212-555-0101');
  assert.equal(g.params.size, 0);
  assert.equal(uriUser(g), '+1-212-555-0101');
  const l = uri('tel:7042;phone-context=example.com') as TelUri;
  assert.equal(l.number, '7042');
  assert.equal(l.params.get('phone-context'), 'example.com');
  assert.equal(
    (uri('tel:863-1234;phone-context=+1-914-555') as TelUri).params.get('phone-context'),
    '+1-914-555',
  );
  assert.equal((uri('tel:*67#;phone-context=example.com') as TelUri).number, '*67#');
  assert.equal((uri('tel:+1(212)555.0101;ext=1234;isub=a1') as TelUri).params.get('ext'), '1234');
  bad('tel:7042', 'local tel number without phone-context (RFC 3966 §5.1.5)');
  bad('tel:', 'empty telephone number in tel URI');
  bad('tel:+', 'telephone number without digits');
  bad('tel:+--', 'telephone number without digits');
  bad('tel:+1 212', 'whitespace inside URI (in telephone number)');
  bad('tel:+1x2', 'invalid "x" in telephone number');
  bad('tel:+1234;;ext=1', 'empty parameter (tel URI parameters)');
  bad('tel:+1234;ext=1?x=y', 'invalid "?" in tel URI');
  bad('tel:+1234;a_b=1', 'invalid tel URI parameter name "a_b"');
  bad('tel:7042;phone-context', 'local tel number without phone-context (RFC 3966 §5.1.5)');
});

test('unescape', () => {
  assert.equal(uriUnescape('sips%3Auser%40example.com'), 'sips:user@example.com'); // RFC 4475 esc01
  assert.equal(uriUnescape('null-%00-null'), 'null-\u0000-null'); // escnull: no truncation
  assert.equal(uriUnescape('null-%00-null').length, 11);
  assert.equal(uriUnescape('%00%00'), '\u0000\u0000');
  assert.equal(uriUnescape('%75se%72'), 'user');
  assert.equal(uriUnescape('plain'), 'plain');
  assert.equal(uriUnescape('100%'), '100%', 'a lone % stays');
  assert.equal(uriUnescape('%Z%45'), '%ZE', 'only valid escapes are decoded (esc02)');
  assert.equal(uriUnescape('%C3%A9t%C3%A9'), '\u00e9t\u00e9', 'UTF-8 sequences decode');
  assert.equal(uriUnescape('%E2%82%AC'), '\u20ac');
  assert.equal(uriUnescape('%F0%9F%98%80'), '\u{1f600}');
  assert.equal(uriUnescape('%E9t%E9'), '\u00e9t\u00e9', 'invalid UTF-8 octets fall back to latin1');
  assert.equal(uriUnescape('%C3'), '\u00c3', 'truncated sequence keeps the octet');
  assert.equal(uriUnescape('%ED%A0%80'), '\u00ed\u00a0\u0080', 'encoded surrogates are not valid UTF-8');
  assert.equal(uriUnescape('%C0%AF'), '\u00c0\u00af', 'overlong encodings are not valid UTF-8');
  assert.equal(
    uriUnescape('caf\u00e9%20%F0%9F%98%80'),
    'caf\u00e9 \u{1f600}',
    'raw non-ASCII passes through',
  );
  assert.equal(uriUnescape('\u{1f600}%21'), '\u{1f600}!');
});

test('escapeUser / escapeParam', () => {
  assert.equal(escapeUser('alice'), 'alice');
  assert.equal(escapeUser('user;par=u@example.net'), 'user;par=u%40example.net');
  assert.equal(escapeUser('I have spaces'), 'I%20have%20spaces');
  assert.equal(escapeUser('sips:user@example.com'), 'sips%3Auser%40example.com');
  assert.equal(escapeUser('100%'), '100%25');
  assert.equal(escapeUser('\u0000'), '%00');
  assert.equal(escapeUser('j\u00fcrgen'), 'j%C3%BCrgen');
  assert.equal(escapeUser('\u{1f600}'), '%F0%9F%98%80');
  for (const s of ['a b', 'x@y:z', '\u00e9\u20ac\u{1f600}', '%41'])
    assert.equal(uriUnescape(escapeUser(s)), s);
  assert.equal(escapeParam('a;b=c'), 'a%3Bb%3Dc');
  assert.equal(escapeParam('[::1]:5060'), '[::1]:5060');
});

test('formatUri', () => {
  for (const s of [
    'sip:alice:secretword@atlanta.com;transport=tcp',
    'sips:1047@10.1.10.101:5060',
    'sip:[2001:db8::10]:5070;lr',
    'sip:user@example.com?Route=%3Csip:sip.example.com%3E',
    'sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31',
    'tel:+1-212-555-0101;ext=12',
    'soap.beep://192.0.2.103:3002',
  ]) {
    assert.equal(formatUri(uri(s)), s);
  }
  assert.equal(formatUri(uri('SIP:Bob@Example.com')), 'sip:Bob@Example.com');
  const built: SipUri = {
    scheme: 'sips',
    user: escapeUser('a b'),
    password: undefined,
    host: 'example.com',
    port: 5061,
    params: sip('sip:x;transport=tls').params,
    headers: undefined,
    raw: '',
  };
  assert.equal(formatUri(built), 'sips:a%20b@example.com:5061;transport=tls');
});

test('uriEquals: RFC 3261 §19.1.4 equivalent sets', () => {
  const eq = (a: string, b: string) => {
    assert.ok(uriEquals(uri(a), uri(b)), `${a} == ${b}`);
    assert.ok(uriEquals(uri(b), uri(a)), `${b} == ${a}`);
  };
  eq('sip:%61lice@atlanta.com;transport=TCP', 'sip:alice@AtLanTa.CoM;Transport=tcp');
  eq('sip:carol@chicago.com', 'sip:carol@chicago.com;newparam=5');
  eq('sip:carol@chicago.com', 'sip:carol@chicago.com;security=on');
  eq('sip:carol@chicago.com;newparam=5', 'sip:carol@chicago.com;security=on');
  eq('sip:carol@chicago.com', 'sip:carol@chicago.com;security=off');
  eq(
    'sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com',
    'sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com',
  );
  eq(
    'sip:alice@atlanta.com?subject=project%20x&priority=urgent',
    'sip:alice@atlanta.com?priority=urgent&subject=project%20x',
  );
  // beyond the RFC list
  eq('sip:alice:%73ecret@example.com', 'sip:alice:secret@example.com');
  eq('sip:user@[2001:db8::1]', 'sip:user@[2001:DB8:0:0:0:0:0:1]');
  eq('sip:user@[::ffff:192.0.2.2]', 'sip:user@[::FFFF:C000:202]');
  eq('sip:a@b;%6C%72', 'sip:a@b;lr');
  eq('sip:a@b;maddr=X.example.com', 'sip:a@b;MADDR=x.example.com');
  eq('sip:a@b?Subject=x', 'sip:a@b?subject=x');
  eq('tel:+1-212-555-0101', 'tel:+12125550101');
  eq('tel:7042;phone-context=Example.com', 'tel:7042;PHONE-CONTEXT=example.com');
  eq('urn:service:sos', 'URN:service:sos');
  eq('sip:%C3%A9@example.com', 'sip:\u00e9@example.com');
  eq('sip:a%3bb@example.com', 'sip:a%3Bb@example.com');
  eq('sip:a@b;x=%3b', 'sip:a@b;X=%3B');
});

test('uriEquals: RFC 3261 §19.1.4 non-equivalent sets', () => {
  const ne = (a: string, b: string) => {
    assert.ok(!uriEquals(uri(a), uri(b)), `${a} != ${b}`);
    assert.ok(!uriEquals(uri(b), uri(a)), `${b} != ${a}`);
  };
  ne('SIP:ALICE@AtLanTa.CoM;Transport=udp', 'sip:alice@AtLanTa.CoM;Transport=UDP'); // different usernames
  ne('sip:bob@biloxi.com', 'sip:bob@biloxi.com:5060'); // can resolve to different ports
  ne('sip:bob@biloxi.com', 'sip:bob@biloxi.com;transport=udp'); // can resolve to different transports
  ne('sip:bob@biloxi.com', 'sip:bob@biloxi.com:6000;transport=tcp'); // different port and transports
  ne('sip:carol@chicago.com', 'sip:carol@chicago.com?Subject=next%20meeting'); // different header component
  ne('sip:bob@phone21.boxesbybob.com', 'sip:bob@192.0.2.4'); // even though that's what it resolves to
  ne('sip:carol@chicago.com;security=on', 'sip:carol@chicago.com;security=off'); // not transitive
  // beyond the RFC list
  ne('sip:alice@atlanta.com', 'sips:alice@atlanta.com');
  ne('sip:alice@atlanta.com', 'sip:atlanta.com');
  ne('sip:alice@atlanta.com', 'sip:alice:pw@atlanta.com');
  ne('sip:alice:pw@atlanta.com', 'sip:alice:PW@atlanta.com');
  ne('sip:a@b', 'sip:a@b;user=phone');
  ne('sip:a@b', 'sip:a@b;ttl=1');
  ne('sip:a@b', 'sip:a@b;method=INVITE');
  ne('sip:a@b', 'sip:a@b;maddr=192.0.2.1');
  ne('sip:a@b;lr', 'sip:a@b;lr=on');
  ne('sip:a@b?x=1', 'sip:a@b?x=1&y=2');
  ne('sip:a@b?x=1', 'sip:a@b?x=2');
  ne('sip:a@[2001:db8::1]', 'sip:a@[2001:db8::2]');
  ne('sip:a@[::1]', 'sip:a@localhost');
  ne('sip:alice@atlanta.com', 'tel:+1234');
  ne('tel:+1234', 'tel:+1235');
  ne('tel:+1234', 'tel:+1234;ext=1');
  ne('tel:+1234;ext=1', 'tel:+1234;ext=2');
  ne('urn:service:sos', 'urn:service:SOS');
  ne('http://a', 'https://a');
  ne('sip:a%3Bb@example.com', 'sip:a;b@example.com'); // an escaped reserved character is not the character
  ne('sip:a%40b@example.com', 'sip:a%41b@example.com');
  ne('sip:a@b?x=a%26b', 'sip:a@b?x=a&b');
});

test('host helpers', () => {
  assert.ok(isIPv4('192.0.2.1'));
  assert.ok(isIPv4('0.0.0.0'));
  assert.ok(!isIPv4('256.0.0.1'));
  assert.ok(!isIPv4('1.2.3.4.5'));
  assert.ok(!isIPv4('1..2.3'));
  assert.ok(!isIPv4('1.2.3.'));
  assert.ok(!isIPv4('1234.1.1.1'));
  assert.ok(!isIPv4(''));
  assert.equal(checkIPv6('::', 0, 2), '');
  assert.equal(checkIPv6('::1', 0, 3), '');
  assert.equal(checkIPv6('1::', 0, 3), '');
  assert.equal(checkIPv6('1:2:3:4:5:6:7:8', 0, 15), '');
  assert.equal(checkIPv6('1:2:3:4:5:6:192.0.2.1', 0, 21), '');
  assert.equal(checkIPv6('1:2:3:4:5:6:7:8:9', 0, 17), 'too many groups in IPv6 address');
  assert.equal(checkIPv6('1:2:3:4:5:6:7', 0, 13), 'too few groups in IPv6 address');
  assert.equal(checkIPv6('1:2:3:4::5:6:7:8', 0, 16), 'too many groups in IPv6 address with "::"');
  assert.equal(checkIPv6('1::2::3', 0, 7), 'more than one "::" in IPv6 address');
  assert.equal(checkIPv6(':::1', 0, 4), '":::" in IPv6 address (RFC 5118 §4.10)');
  assert.equal(checkIPv6(':1::', 0, 4), 'IPv6 address starts with a single ":"');
  assert.equal(checkIPv6('1:', 0, 2), 'IPv6 address ends with a single ":"');
  assert.equal(checkIPv6('12345::', 0, 7), 'IPv6 group with more than 4 hex digits');
  assert.equal(checkIPv6('::1.2.3', 0, 7), 'invalid IPv4 part in IPv6 address');
  assert.equal(checkIPv6('1:2:3:4:5:6:7:1.2.3.4', 0, 21), 'too many groups in IPv6 address');
  assert.equal(checkIPv6('1:x::', 0, 5), 'invalid "x" in IPv6 address');
  const g = new Uint16Array(8);
  assert.equal(checkIPv6('2001:db8::9:1', 0, 13, g), '');
  assert.deepEqual([...g], [0x2001, 0xdb8, 0, 0, 0, 0, 9, 1]);
  assert.equal(checkIPv6('::ffff:192.0.2.10', 0, 17, g), '');
  assert.deepEqual([...g], [0, 0, 0, 0, 0, 0xffff, 0xc000, 0x020a]);
  assert.equal(scanHost('[::1]:5060', 0), 5);
  assert.equal(scanHost('example.com;lr', 0), 11);
  assert.equal(scanHost('', 0), -1);
  assert.equal(lastHostError(), 'missing host');
  assert.ok(isValidHost('example.com'));
  assert.ok(isValidHost('[2001:db8::1]'));
  assert.ok(!isValidHost('2001:db8::1'));
  assert.ok(!isValidHost('a b'));
});

test('a URI parsed again (served from the recent-URI cache) equals a fresh parse', () => {
  const texts = Array.from({ length: 12 }, (_, k) => `sip:u${k}@h${k}.example.com:50${k}0;transport=tcp;lr`);
  const first = texts.map((t) => parseUri(t));
  for (let round = 0; round < 3; round++) {
    for (let k = 0; k < texts.length; k++) {
      const again = parseUri(texts[k]);
      assert.ok(!isParseError(again));
      assert.deepEqual(again, first[k]);
      assert.equal(again.raw, texts[k]);
    }
  }
  const hot = parseUri('sip:proxy.example.com;lr');
  assert.strictEqual(parseUri('sip:proxy.example.com;lr'), hot);
  // Errors are never cached: each call answers with its own error.
  const e1 = parseUri('sip:a@b c');
  const e2 = parseUri('sip:a@b c');
  assert.ok(isParseError(e1) && isParseError(e2));
  assert.notStrictEqual(e1, e2);
  assert.equal(e1.detail, e2.detail);
});
