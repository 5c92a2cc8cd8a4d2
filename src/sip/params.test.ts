import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isParseError, ParseError } from './errors.ts';
import { lastParamsEnd, ParamList, parseParamList, parseParams } from './params.ts';

function ok(s: string, pos = 0, stopAtComma = false, uri = false) {
  const r = parseParams(s, pos, stopAtComma, uri);
  if (r instanceof ParseError) assert.fail(`unexpected error for ${JSON.stringify(s)}: ${r.detail}`);
  return r;
}

function err(s: string, detail: RegExp | string, pos = 0, stopAtComma = false, uri = false) {
  const r = parseParams(s, pos, stopAtComma, uri);
  assert.ok(isParseError(r), `expected an error for ${JSON.stringify(s)}`);
  if (typeof detail === 'string') assert.equal(r.detail, detail);
  else assert.match(r.detail, detail);
  return r;
}

test('ParamList basics: ordered, case-insensitive, flags', () => {
  const p = new ParamList(['Transport', 'lr', 'x', 'tag'], ['TCP', undefined, '"a \\"b\\""', 'abc']);
  assert.equal(p.size, 4);
  assert.equal(p.get('transport'), 'TCP');
  assert.equal(p.get('TRANSPORT'), 'TCP');
  assert.equal(p.get('lr'), '');
  assert.equal(p.get('LR'), '');
  assert.equal(p.get('missing'), undefined);
  assert.equal(p.get('x'), 'a "b"');
  assert.equal(p.getRaw('x'), '"a \\"b\\""');
  assert.equal(p.getRaw('lr'), '');
  assert.equal(p.getRaw('nope'), undefined);
  assert.ok(p.has('Tag'));
  assert.ok(!p.has('ta'));
  assert.ok(p.isFlag('lr'));
  assert.ok(!p.isFlag('tag'));
  assert.ok(!p.isFlag('nope'));
  assert.deepEqual(p.entries(), [
    ['Transport', 'TCP'],
    ['lr', undefined],
    ['x', 'a "b"'],
    ['tag', 'abc'],
  ]);
  assert.equal(p.entries(), p.entries(), 'entries are cached');
  assert.equal(p.toString(), ';Transport=TCP;lr;x="a \\"b\\"";tag=abc');
  assert.equal(p.nameAt(1), 'lr');
  assert.equal(p.rawAt(2), '"a \\"b\\""');
  assert.equal(p.valueAt(2), 'a "b"');
  assert.equal(p.valueAt(1), undefined);
});

test('ParamList: empty, from(), with(), without()', () => {
  assert.equal(ParamList.EMPTY.size, 0);
  assert.equal(ParamList.EMPTY.toString(), '');
  assert.deepEqual(ParamList.EMPTY.entries(), []);
  assert.equal(new ParamList().size, 0);
  const p = ParamList.from([
    ['branch', 'z9hG4bK1'],
    ['rport', undefined],
  ]);
  assert.equal(p.toString(), ';branch=z9hG4bK1;rport');
  const q = p.with('rport', '5060').with('received', '192.0.2.1');
  assert.equal(q.toString(), ';branch=z9hG4bK1;rport=5060;received=192.0.2.1');
  assert.equal(p.toString(), ';branch=z9hG4bK1;rport', 'original unchanged');
  assert.equal(q.with('Received', undefined).toString(), ';branch=z9hG4bK1;rport=5060;received');
  assert.equal(q.without('RPORT').toString(), ';branch=z9hG4bK1;received=192.0.2.1');
  assert.equal(q.without('nothing'), q);
  assert.equal(ParamList.fromOffsets('', []), ParamList.EMPTY);
  assert.equal(p.indexOf('RPORT'), 1);
  assert.equal(p.indexOf('rpor'), -1);
  assert.ok(p.nameIs(0, 'branch'));
  assert.equal(p.numberAt(0, 100), -1);
  assert.equal(q.numberAt(1, 65535), 5060);
});

test('first occurrence wins for duplicate names', () => {
  const { params } = ok(';tag=a;TAG=b');
  assert.equal(params.get('tag'), 'a');
  assert.equal(params.size, 2);
});

test('header mode: LWS around ; and = (RFC 4475 wsinv)', () => {
  const s = ' ; newparam = newvalue ; secondparam ; q = 0.33';
  const { params, end } = ok(s);
  assert.equal(end, s.length);
  assert.deepEqual(params.entries(), [
    ['newparam', 'newvalue'],
    ['secondparam', undefined],
    ['q', '0.33'],
  ]);
  assert.equal(params.toString(), ';newparam=newvalue;secondparam;q=0.33');
  const via = ';   branch  =   z9hG4bK9ikj8  ';
  assert.equal(ok(via).params.get('branch'), 'z9hG4bK9ikj8');
  assert.equal(ok(via).end, via.length);
});

test('header mode: quoted values are unquoted by get() and kept by toString()', () => {
  // RFC 4475 intmeth From parameter with a UTF-8 quoted value
  const s = `;fromParam''~+*_!.-%="\u0440\u0430\u0431\u043e\u0442\u0430\u044e\u0449\u0438\u0439";tag=_token~1'+\`*%!-.`;
  const { params } = ok(s);
  assert.equal(
    params.get("fromparam''~+*_!.-%"),
    '\u0440\u0430\u0431\u043e\u0442\u0430\u044e\u0449\u0438\u0439',
  );
  assert.equal(params.get('tag'), "_token~1'+`*%!-.");
  assert.equal(params.toString(), s);
  const inst = ok(';+sip.instance="<urn:uuid:00000000-0000-1000-8000-000A95A0E128>";reg-id=1').params;
  assert.equal(inst.get('+sip.instance'), '<urn:uuid:00000000-0000-1000-8000-000A95A0E128>');
  assert.equal(ok(';opaque=""').params.get('opaque'), '');
  assert.equal(ok(';x="a\\"b"').params.get('x'), 'a"b');
});

test('header mode: host values (IPv6 with and without brackets, IPv4:port)', () => {
  assert.equal(ok(';received=2001:db8::9:255;branch=z9hG4bKas3').params.get('received'), '2001:db8::9:255');
  assert.equal(ok(';received=[2001:db8::9:255]').params.get('received'), '[2001:db8::9:255]');
  assert.equal(ok(';received=220.240.255.198:64216').params.get('received'), '220.240.255.198:64216');
  assert.equal(ok(';boundary=sonus-content-delim').params.get('boundary'), 'sonus-content-delim');
});

test('header mode: stops at a top-level comma only when asked', () => {
  const s = ';lr , <sip:b>';
  const r = ok(s, 0, true);
  assert.equal(r.end, 4);
  assert.equal(s[r.end], ',');
  err(s, 'unexpected "," after parameter "lr"');
  assert.equal(ok('', 0, true).end, 0);
  assert.equal(ok('   ', 0, false).end, 3);
  assert.equal(ok('<sip:x>;a=1', 7).params.get('a'), '1');
});

test('header mode errors', () => {
  err(';;', 'empty parameter'); // RFC 4475 badinv01
  err(';;;;', 'empty parameter');
  err(';tag=1;', 'empty parameter');
  err(';tag=1; ', 'empty parameter');
  err(';,', 'empty parameter', 0, true);
  err(';tag=', 'missing value after "=" in parameter "tag"');
  err(';tag= ;x', 'invalid ";" in value of parameter "tag"');
  err(';tag=a b', 'unexpected "b" after parameter "tag"');
  err(';x="abc', 'unterminated quoted string in parameter "x"');
  assert.equal(err(';x="abc', /unterminated/).code, 'SIP_QUOTED_STRING');
  err(';@x', 'invalid "@" in parameter name');
  err(';a=b>', 'unexpected ">" after parameter "a"');
  err('x', 'unexpected "x" after parameters');
  err(';a=caf\u00e9', 'unexpected U+00E9 after parameter "a"'.replace('U+00E9', '"\u00e9"'));
  assert.equal(err(';;', /empty/).code, 'SIP_PARAM');
});

test('URI mode: paramchar names and values with escapes, no LWS', () => {
  // RFC 4475 esc01 Contact URI parameters
  const s = ';%6C%72;n%61me=v%61lue%25%34%31';
  const { params, end } = ok(s, 0, false, true);
  assert.equal(end, s.length);
  assert.deepEqual(params.entries(), [
    ['%6C%72', undefined],
    ['n%61me', 'v%61lue%25%34%31'],
  ]);
  assert.equal(params.toString(), s);
  const u = ';transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com';
  const r = ok(u, 0, false, true);
  assert.equal(u.slice(r.end), '?to=sip:bob%40biloxi.com');
  assert.equal(r.params.get('method'), 'REGISTER');
  assert.equal(ok(';maddr=[2001:db8::1];x=a/b:c&d+e$', 0, false, true).params.get('x'), 'a/b:c&d+e$');
  assert.equal(ok(';lr;unknownwith=value;unknown-no-value', 0, false, true).params.size, 3);
});

test('URI mode errors', () => {
  err(';lr;;', 'empty parameter', 0, false, true);
  err(';lr;', 'empty parameter', 0, false, true);
  err(';lr;?h=1', 'empty parameter', 0, false, true);
  err(';a=', 'missing value after "=" in parameter "a"', 0, false, true);
  err(';a=%4', 'invalid % escape in URI parameter "a"', 0, false, true);
  err(';%zz=1', 'invalid % escape in URI parameter name', 0, false, true);
  err(';a=1 ;b', 'whitespace after parameter "a" in URI', 0, false, true);
  err(';a="q"', 'invalid """ in value of parameter "a"', 0, false, true);
  err(';a=1,b', 'unexpected "," after parameter "a"', 0, true, true);
  err(';a=1>', 'unexpected ">" after parameter "a"', 0, false, true);
});

test('parseParamList answers as parseParams, its end read with lastParamsEnd', () => {
  const cases: Array<[string, number, boolean, boolean]> = [
    [';branch=z9hG4bK1;rport', 0, true, false],
    ['x;a=1 ; b = "q" , next', 1, true, false],
    [';lr;transport=udp?h=v', 0, false, true],
    [';a=1;;b', 0, false, false],
    ['', 0, false, false],
    [';a="open', 0, false, false],
  ];
  for (const [s, pos, stopAtComma, uri] of cases) {
    const want = parseParams(s, pos, stopAtComma, uri);
    const got = parseParamList(s, pos, stopAtComma, uri);
    if (want instanceof ParseError) {
      assert.ok(got instanceof ParseError, s);
      assert.equal(got.detail, want.detail);
    } else {
      assert.ok(got instanceof ParamList, s);
      assert.equal(lastParamsEnd(), want.end, s);
      assert.deepEqual(got.entries(), want.params.entries(), s);
    }
  }
});
