import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isParseError, ParseError } from './errors.ts';
import {
  findTagParam,
  lastNameAddrEnd,
  parseNameAddr,
  parseNameAddrAt,
  parseNameAddrList,
} from './name_addr.ts';
import type { NameAddr, OpaqueUri, SipUri } from './types.ts';
import { isSipUri, uriUser } from './uri.ts';

function na(text: string): NameAddr {
  const r = parseNameAddr(text, 0, false);
  if (r instanceof ParseError) assert.fail(`unexpected error for ${JSON.stringify(text)}: ${r.detail}`);
  assert.equal(r.end, text.length);
  return r.value;
}

function bad(text: string, detail: string | RegExp, code = 'SIP_NAME_ADDR', stopAtComma = false): ParseError {
  const r = parseNameAddr(text, 0, stopAtComma);
  assert.ok(isParseError(r), `expected an error for ${JSON.stringify(text)}`);
  assert.equal(r.code, code, r.detail);
  if (typeof detail === 'string') assert.equal(r.detail, detail);
  else assert.match(r.detail, detail);
  return r;
}

function sipOf(v: NameAddr): SipUri {
  assert.ok(isSipUri(v.uri));
  return v.uri;
}

test('quoted display name with quoted-pairs (RFC 4475 wsinv, intmeth)', () => {
  const f = na('"J Rosenberg \\\\\\""       <sip:jdrosen@example.com> ; tag = 98asjd8');
  assert.equal(f.displayName, 'J Rosenberg \\"');
  assert.equal(f.uriText, 'sip:jdrosen@example.com');
  assert.equal(f.params.get('tag'), '98asjd8');
  assert.ok(f.bracketed);
  const m = na(
    '"Quoted string \\"\\"" <sip:jdrosen@example.com> ; newparam = newvalue ; secondparam ; q = 0.33',
  );
  assert.equal(m.displayName, 'Quoted string ""');
  assert.equal(m.params.toString(), ';newparam=newvalue;secondparam;q=0.33');
  const t = na(
    '"BEL:\\\x07 NUL:\\\x00 DEL:\\\x7f" <sip:1_unusual.URI~(to-be!sure)&isn\'t+it$/crazy?,/;;*@example.com>',
  );
  assert.equal(t.displayName, 'BEL:\x07 NUL:\x00 DEL:\x7f');
  assert.equal(sipOf(t).user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
  assert.equal(sipOf(t).host, 'example.com');
  const e = na('"%Z%45" <sip:resource@example.com>;tag=f232jadfj23'); // esc02: no unescaping
  assert.equal(e.displayName, '%Z%45');
  assert.equal(na('"" <sip:a@b>').displayName, '');
  assert.equal(na('"Bell, Alexander" <sip:a.g.bell@example.com>;tag=433423').displayName, 'Bell, Alexander');
  assert.equal(na('"\u0416\u0435\u043d\u044f" <sip:a@b>').displayName, '\u0416\u0435\u043d\u044f');
});

test('token display names, including no LWS before < (RFC 4475 lwsdisp, intmeth)', () => {
  const l = na('caller<sip:caller@example.com>;tag=323');
  assert.equal(l.displayName, 'caller');
  assert.equal(l.params.get('tag'), '323');
  const i = na("token1~` token2'+_ token3*%!.- <sip:mundane@example.com>;tag=_token~1'+`*%!-.");
  assert.equal(i.displayName, "token1~` token2'+_ token3*%!.-");
  assert.equal(i.params.get('tag'), "_token~1'+`*%!-.");
  assert.equal(na('Blue Face<sip:3000@127.0.0.1>;tag=as5fd53de7').displayName, 'Blue Face');
  assert.equal(na('+3535xxx<sip:xxx@127.0.0.1:5061>').displayName, '+3535xxx');
  assert.equal(na("'Joe Bloggs' <sip:ei9gz@blueface.ie>;tag=cc16d34c122e5fe").displayName, "'Joe Bloggs'");
  assert.equal(na('SER Test X <sip:aaronxten@sip.blueface.ie:5065>;tag=196468136').displayName, 'SER Test X');
  assert.equal(na('J\u00fcrgen M\u00fcller <sip:jm@example.de>').displayName, 'J\u00fcrgen M\u00fcller');
  assert.equal(na('  Bob   <sip:bob@biloxi.com>  ').displayName, 'Bob');
  const noSpace = na('"253989"<sip:253989@fwd.pulver.com>;tag=9812dd2f');
  assert.equal(noSpace.displayName, '253989');
  assert.equal(noSpace.params.get('tag'), '9812dd2f');
});

test('bracketed URI without display name', () => {
  const v = na('<sip:+13035551111@ift.client.example.net;user=phone>');
  assert.equal(v.displayName, undefined);
  assert.equal(sipOf(v).params.get('user'), 'phone');
  assert.equal(v.params.size, 0);
  // URI parameter inside <> vs header parameter outside (RFC 4475 cparam02 / cparam01)
  const inside = na('<sip:+19725552222@gw1.example.net;unknownparam>');
  assert.ok(sipOf(inside).params.has('unknownparam'));
  assert.ok(!inside.params.has('unknownparam'));
  // RFC 4475 regescrt: escaped headers allowed inside <>
  const r = na('<sip:user@example.com?Route=%3Csip:sip.example.com%3E>');
  assert.equal(sipOf(r).headers, 'Route=%3Csip:sip.example.com%3E');
  // RFC 4475 esc01 / escnull
  assert.equal(uriUser(na('<sip:I%20have%20spaces@example.net>;tag=938').uri), 'I have spaces');
  assert.equal(uriUser(na('<sip:%00%00@host5.example.com>').uri), '\u0000\u0000');
  // unusual schemes (RFC 4475 unksm2)
  assert.equal((na('<http://www.example.com>;tag=3234233').uri as OpaqueUri).opaque, '//www.example.com');
  assert.equal(na('<name:John_Smith>').uri.scheme, 'name');
  // IPv6 (RFC 5118)
  assert.equal(sipOf(na('"Caller" <sip:caller@[2001:db8::1]>')).host, '[2001:db8::1]');
  assert.equal(sipOf(na('"T. desk phone" <sip:ted@[::ffff:192.0.2.2]>')).host, '[::ffff:192.0.2.2]');
  const pai = na('<sip:+4199999999;cpc=ordinary@10.0.0.1;transport=udp;user=phone>');
  assert.equal(sipOf(pai).user, '+4199999999;cpc=ordinary');
  assert.equal(
    na('<sip:a@b>;+sip.instance="<urn:uuid:1>";reg-id=1').params.get('+sip.instance'),
    '<urn:uuid:1>',
  );
});

test('addr-spec without <>: every ; after the URI is a header parameter (RFC 3261 §20)', () => {
  const c = na('sip:+19725552222@gw1.example.net;unknownparam'); // RFC 4475 cparam01
  assert.equal(c.bracketed, false);
  assert.equal(c.displayName, undefined);
  assert.equal(c.uriText, 'sip:+19725552222@gw1.example.net');
  assert.ok(c.params.has('unknownparam'));
  assert.equal(sipOf(c).params.size, 0);
  const t = na('sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n'); // wsinv To
  assert.equal(t.uriText, 'sip:vivekg@chair-dnrc.example.com');
  assert.equal(t.params.get('tag'), '1918181833n');
  const u = na('sip:+16505552222@ss1.example.net;user=phone'); // inv2543: user=phone is a header param here
  assert.equal(u.params.get('user'), 'phone');
  assert.equal(na('isbn:2983792873').uri.scheme, 'isbn');
  assert.equal(uriUser(na('sip:%75se%72@example.com').uri), 'user');
  assert.equal(uriUser(na('sip:null-%00-null@example.com;tag=839923423').uri), 'null-\u0000-null');
  assert.equal(sipOf(na('sip:user@[2001:db8::10]')).host, '[2001:db8::10]');
  assert.equal(na('sip:xxx@127.0.0.1;tag=MTHf2-ol1Yn0').params.get('tag'), 'MTHf2-ol1Yn0');
});

test('rejections from RFC 4475', () => {
  // quotbal
  bad(
    '"Mr. J. User <sip:j.user@example.com>',
    'unterminated quoted string in display name',
    'SIP_QUOTED_STRING',
  );
  // real Audiocodes P-Asserted-Identity with an unterminated quote
  bad(
    '"Dave Horton<sip:4083084809;context=private>@10.1.0.2',
    /unterminated quoted string/,
    'SIP_QUOTED_STRING',
  );
  // baddn
  bad('Bell, Alexander <sip:a.g.bell@example.com>;tag=43', 'invalid "," in display name (not a token)');
  bad('Watson, Thomas <sip:t.watson@example.org>', 'invalid "," in display name (not a token)');
  bad(
    'Watson, Thomas <sip:t.watson@example.org>',
    'invalid "," in display name (not a token)',
    undefined,
    true,
  );
  // badaspec
  bad('"Watson, Thomas" < sip:t.watson@example.org >', 'whitespace inside <URI>');
  bad('<sip:a@b >', 'whitespace inside <URI>');
  // regbadct
  bad(
    'sip:user@example.com?Route=%3Csip:sip.example.com%3E',
    'URI with "?" headers must be enclosed in <> (RFC 3261 §20)',
  );
  // badinv01 Contact
  bad('"Joe" <sip:joe@example.org>;;;;', 'empty parameter', 'SIP_PARAM');
  // real Ekiga capture: two URIs in one <>
  bad('<sip:twolmsted@24.183.120.253, sip:5060>', 'whitespace inside <URI>');
});

test('other rejections', () => {
  bad('', 'empty value');
  bad('   ', 'empty value');
  bad('"Joe"', 'expected "<" after quoted display name, found end of text');
  bad('"Joe" sip:joe@example.org', 'expected "<" after quoted display name, found "s"');
  bad('Joe', 'display name "Joe" without <URI>');
  bad('Joe Smith ', 'display name "Joe Smith" without <URI>');
  bad('Joe "Smith" <sip:a@b>', 'invalid """ in display name (not a token)');
  bad('<sip:a@b', 'missing closing ">" after URI');
  bad('<>', 'empty <>');
  bad('<sip:<a@b>', 'nested "<" inside <URI>');
  bad(',<sip:a@b>', 'unexpected "," at start of name-addr');
  bad('sip:a@b, sip:c@d', 'URI with "," must be enclosed in <> (RFC 3261 §20)');
  bad('<sip:a@b>;tag=1 x', 'unexpected "x" after parameter "tag"', 'SIP_PARAM');
  bad('<sip:a@b> <sip:c@d>', 'unexpected "<" after parameters', 'SIP_PARAM');
  bad('<sip:a@b>, <sip:c@d>', 'unexpected "," after parameters', 'SIP_PARAM');
  bad('<sip:2001:db8::10>', /must be enclosed in \[ \]/, 'SIP_URI');
  bad('<sip:user@[2001:db8:::192.0.2.1]>', '":::" in IPv6 address (RFC 5118 §4.10)', 'SIP_URI');
  bad('sip:user;par=x@host;tag=1', 'unexpected "@" after parameter "par"', 'SIP_PARAM');
  bad('<sip:a@b>;tag="x', 'unterminated quoted string in parameter "tag"', 'SIP_QUOTED_STRING');
});

test('stopAtComma and pos', () => {
  const text =
    '<sip:a@b>;q=0.1;expires=3298, "Joe Bloggs"<sip:253989@89.100.104.191:64226;rinstance=5720c5fed8cbcd34>;q=0.1';
  const r1 = parseNameAddr(text, 0, true);
  assert.ok(!isParseError(r1));
  assert.equal(text[r1.end], ',');
  const r2 = parseNameAddr(text, r1.end + 1, true);
  assert.ok(!isParseError(r2));
  assert.equal(r2.end, text.length);
  assert.equal(r2.value.displayName, 'Joe Bloggs');
  const r3 = parseNameAddr('sip:a@b , sip:c@d', 0, true);
  assert.ok(!isParseError(r3));
  assert.equal(r3.end, 8);
  assert.equal(r3.value.uriText, 'sip:a@b');
});

test('parseNameAddrList: Route, Record-Route, P-Asserted-Identity, Path', () => {
  const route = parseNameAddrList(
    '<sip:10.0.0.1:5060;transport=udp;lr>,<sip:10.0.0.2:5060;transport=udp;lr>',
  );
  assert.ok(!isParseError(route));
  assert.deepEqual(
    route.map((v) => v.uriText),
    ['sip:10.0.0.1:5060;transport=udp;lr', 'sip:10.0.0.2:5060;transport=udp;lr'],
  );
  const rr = parseNameAddrList('<sip:21.10.21.2;lr>,<sip:bluesipd@90.91.82.12>,<sip:bluesipd@90.91.82.12>');
  assert.ok(!isParseError(rr));
  assert.equal(rr.length, 3);
  const pai = parseNameAddrList(
    '<sip:+4199999999;cpc=ordinary@10.0.0.1;transport=udp;user=phone>, <sip:+4188888888;cpc=ordinary@10.0.0.1;transport=udp;user=phone>',
  );
  assert.ok(!isParseError(pai));
  assert.equal(pai.length, 2);
  const wsinv = parseNameAddrList(' <sip:services.example.com;lr;unknownwith=value;unknown-no-value>');
  assert.ok(!isParseError(wsinv));
  assert.equal(wsinv.length, 1);
  const mixed = parseNameAddrList('sip:a@b;x=1 , "C" <sip:c@d>, tel:+1234');
  assert.ok(!isParseError(mixed));
  assert.deepEqual(
    mixed.map((v) => v.uriText),
    ['sip:a@b', 'sip:c@d', 'tel:+1234'],
  );
  assert.equal(mixed[0].params.get('x'), '1');
  const quotedComma = parseNameAddrList('"Bell, Alexander" <sip:a@b>, "Watson, Thomas" <sip:c@d>');
  assert.ok(!isParseError(quotedComma));
  assert.equal(quotedComma[1].displayName, 'Watson, Thomas');
});

test('parseNameAddrList errors', () => {
  const cases: Array<[string, string]> = [
    ['', 'empty value'],
    ['<sip:a@b>,', 'trailing "," at end of list'],
    ['<sip:a@b>, ', 'trailing "," at end of list'],
    ['<sip:a@b>,,<sip:c@d>', 'empty element in list (extra ",")'],
    [',<sip:a@b>', 'empty element in list (extra ",")'],
    ['<sip:a@b>, Bell, Alexander <sip:c@d>', 'invalid "," in display name (not a token)'],
    ['<sip:a@b>;;', 'empty parameter'],
    ['<sip:a@b> x', 'unexpected "x" after parameters'],
  ];
  for (const [text, detail] of cases) {
    const r = parseNameAddrList(text);
    assert.ok(isParseError(r), text);
    assert.equal(r.detail, detail, text);
  }
});

test('findTagParam', () => {
  const ok = (text: string, tag: string | undefined) => {
    const r = findTagParam(text);
    assert.ok(!isParseError(r), `${text}: ${isParseError(r) ? r.detail : ''}`);
    assert.equal(r, tag, text);
    // agrees with the full parser
    const full = parseNameAddr(text, 0, false);
    if (!isParseError(full)) assert.equal(full.value.params.get('tag'), tag, `full parse of ${text}`);
  };
  ok('"J Rosenberg \\\\\\""       <sip:jdrosen@example.com> ; tag = 98asjd8', '98asjd8');
  ok('sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n', '1918181833n');
  ok('<sip:a@b;tag=inside>;tag=outside', 'outside');
  ok('<sip:a@b;tag=inside>', undefined);
  ok('"x;tag=inquotes" <sip:a@b>;tag=real', 'real');
  ok('"x<y" <sip:a@b>;TAG=Upper', 'Upper');
  ok('"x\\"<y>;tag=no" <sip:a@b>', undefined);
  ok(
    "token1~` token2'+_ token3*%!.- <sip:mundane@example.com>;fromParam''~+*_!.-%=\"\u0440\u0430\u0431\u043e\";tag=_token~1'+`*%!-.",
    "_token~1'+`*%!-.",
  );
  ok('sip:caller@example.net;tag=134161461246', '134161461246');
  ok('sip:user@example.com', undefined);
  ok('<sip:a@b>;tagx=1;xtag=2', undefined);
  ok('<sip:a@b>;lr;tag=abc', 'abc');
  ok('<sip:a@b>;x="q;tag=no";tag=yes', 'yes');
  ok('<sip:a@b>;tag="quoted"', 'quoted');
  ok('caller<sip:caller@example.com>;tag=323', '323');
  ok('<sip:303@bluesipd>;tag=as46f418e9', 'as46f418e9');
  ok('"Caller" <sip:caller@[2001:db8::1]>;tag=81x2', '81x2');
  ok('sip:user@[2001:db8::10];tag=81x2', '81x2');
  ok('', undefined);
  ok('<sip:a@b>', undefined);
  ok('<sip:a@b>  ', undefined);
  ok('<sip:a@b>;tag=1;tag=2', '1');
  // the fast path stops at the tag: what follows it is not validated (the full parser does that)
  assert.equal(findTagParam('<sip:a@b>;tag=1 junk'), '1');

  const fails: Array<[string, string, string]> = [
    [
      '"Mr. J. User <sip:j.user@example.com>',
      'SIP_QUOTED_STRING',
      'unterminated quoted string in display name',
    ],
    ['<sip:a@b;tag=1', 'SIP_NAME_ADDR', 'missing closing ">" after URI'],
    ['sip:a@b>;tag=1', 'SIP_NAME_ADDR', 'unbalanced ">"'],
    ['<sip:a@b>>;tag=1', 'SIP_NAME_ADDR', 'unexpected ">" after URI'],
    ['<sip:a@b><sip:c@d>', 'SIP_NAME_ADDR', 'unexpected "<" after URI'],
    ['<sip:a@b>;;tag=1', 'SIP_PARAM', 'empty parameter'],
    ['<sip:a@b>;@=1', 'SIP_PARAM', 'invalid "@" in parameter name'],
    ['<sip:a@b>;', 'SIP_PARAM', 'empty parameter'],
    ['<sip:a@b>;tag', 'SIP_PARAM', 'tag parameter without a value'],
    ['<sip:a@b>;tag=', 'SIP_PARAM', 'missing value for parameter "tag"'],
    ['<sip:a@b>;x="abc;tag=1', 'SIP_QUOTED_STRING', 'unterminated quoted string in parameter'],
    ['<sip:a@b>;x=1 2;tag=3', 'SIP_NAME_ADDR', 'unexpected "2" after URI'],
  ];
  for (const [text, code, detail] of fails) {
    const r = findTagParam(text);
    assert.ok(isParseError(r), text);
    assert.equal(r.code, code, text);
    assert.equal(r.detail, detail, text);
  }
});

test('parseNameAddrAt and lastNameAddrEnd answer as parseNameAddr', () => {
  const cases: Array<[string, number, boolean]> = [
    ['"Alice" <sip:a@h>;tag=1', 0, false],
    ['x, <sip:b@h;lr> ;p=2 , <sip:c@h>', 2, true],
    ['sip:a@h;tag=1', 0, false],
    ['<sip:a@h', 0, false],
    ['<sip:a@h>;tag=1, x', 0, false],
  ];
  for (const [text, pos, stopAtComma] of cases) {
    const want = parseNameAddr(text, pos, stopAtComma);
    const got = parseNameAddrAt(text, pos, stopAtComma);
    if (want instanceof ParseError) {
      assert.ok(got instanceof ParseError, text);
      assert.equal(got.detail, want.detail);
    } else {
      assert.ok(!isParseError(got), text);
      assert.equal(lastNameAddrEnd(), want.end, text);
      assert.equal(got.uriText, want.value.uriText);
      assert.equal(got.displayName, want.value.displayName);
      assert.equal(got.params.toString(), want.value.params.toString());
      assert.equal(got.bracketed, want.value.bracketed);
    }
  }
});
