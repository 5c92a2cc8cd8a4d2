import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  C_HEADER,
  C_PARAM,
  C_PASSWORD,
  C_PVALUE,
  C_USER,
  describeChar,
  eqIgnoreCase,
  hasClass,
  hexValue,
  isAlnum,
  isAlpha,
  isDigit,
  isEscapeAt,
  isHexDigit,
  isToken,
  isTokenChar,
  parseDecimal,
  quote,
  rangeEqualsLower,
  scanClass,
  scanQuotedString,
  scanToken,
  skipLws,
  trimLwsEnd,
  unquote,
  unquoteRange,
} from './chars.ts';

const code = (s: string) => s.charCodeAt(0);

test('token characters are exactly RFC 3261 token', () => {
  const token = "abcXYZ019-.!%*_+`'~";
  for (const ch of token) assert.ok(isTokenChar(code(ch)), ch);
  for (const ch of ' \t"(),/:;<=>?@[\\]{}\x00\x7f') assert.ok(!isTokenChar(code(ch)), JSON.stringify(ch));
  assert.ok(!isTokenChar(0xe9));
  assert.ok(!isTokenChar(0x2603));
  assert.ok(isToken("!interesting-Method0123456789_*+`.%indeed'~"));
  assert.ok(!isToken(''));
  assert.ok(!isToken('a b'));
  assert.ok(isToken('xa bx', 1, 2));
});

test('URI and value classes', () => {
  for (const ch of '&=+$,;?/') assert.ok(hasClass(code(ch), C_USER), `user ${ch}`);
  for (const ch of ':@<>"% #') assert.ok(!hasClass(code(ch), C_USER), `not user ${ch}`);
  for (const ch of '&=+$,') assert.ok(hasClass(code(ch), C_PASSWORD), `password ${ch}`);
  for (const ch of ':;?/@') assert.ok(!hasClass(code(ch), C_PASSWORD), `not password ${ch}`);
  for (const ch of "[]/:&+$-_.!~*'()") assert.ok(hasClass(code(ch), C_PARAM), `param ${ch}`);
  for (const ch of ';=?@,% ') assert.ok(!hasClass(code(ch), C_PARAM), `not param ${ch}`);
  for (const ch of '[]/?:+$=&') assert.ok(hasClass(code(ch), C_HEADER), `header ${ch}`);
  for (const ch of '[]:/') assert.ok(hasClass(code(ch), C_PVALUE), `pvalue ${ch}`);
  for (const ch of ';,"<> ') assert.ok(!hasClass(code(ch), C_PVALUE), `not pvalue ${ch}`);
  assert.ok(!hasClass(0x100, C_PARAM));
});

test('digits, letters, hex', () => {
  assert.ok(isDigit(code('0')) && isDigit(code('9')) && !isDigit(code('a')));
  assert.ok(isAlpha(code('a')) && isAlpha(code('Z')) && !isAlpha(code('1')) && !isAlpha(code('@')));
  assert.ok(isAlnum(code('q')) && isAlnum(code('7')) && !isAlnum(code('-')));
  assert.ok(isHexDigit(code('F')) && isHexDigit(code('a')) && !isHexDigit(code('g')));
  assert.equal(hexValue(code('0')), 0);
  assert.equal(hexValue(code('a')), 10);
  assert.equal(hexValue(code('F')), 15);
  assert.equal(hexValue(code('g')), -1);
  assert.equal(hexValue(code(':')), -1);
  assert.ok(isEscapeAt('a%4Fb', 1));
  assert.ok(!isEscapeAt('a%4', 1));
  assert.ok(!isEscapeAt('%Z%45', 0));
  assert.ok(!isEscapeAt('abc', 0));
});

test('skipLws / trimLwsEnd', () => {
  assert.equal(skipLws('  \t x', 0), 4);
  assert.equal(skipLws('x', 0), 0);
  assert.equal(skipLws('   ', 1), 3);
  assert.equal(trimLwsEnd('ab \t ', 0, 5), 2);
  assert.equal(trimLwsEnd('   ', 1, 3), 1);
});

test('scanToken / scanClass', () => {
  assert.equal(scanToken('branch=z9', 0), 6);
  assert.equal(scanToken('', 0), 0);
  assert.equal(scanClass('2001:db8::9:255;x', 0, C_PVALUE), 15);
});

test('scanQuotedString handles quoted-pairs and reports unterminated strings', () => {
  const s = '"J Rosenberg \\\\\\""       <sip:jdrosen@example.com>';
  const e = scanQuotedString(s, 0);
  assert.equal(s.slice(0, e), '"J Rosenberg \\\\\\""');
  assert.equal(unquote(s.slice(0, e)), 'J Rosenberg \\"');
  assert.equal(scanQuotedString('"Mr. J. User <sip:j.user@example.com>', 0), -1);
  assert.equal(scanQuotedString('"abc\\"', 0), -1);
  assert.equal(scanQuotedString('"abc\\', 0), -1);
  assert.equal(scanQuotedString('""', 0), 2);
  // RFC 4475 intmeth: quoted-pairs of BEL, NUL and DEL
  const intmeth = '"BEL:\\\x07 NUL:\\\x00 DEL:\\\x7f" <sip:x@example.com>';
  const end = scanQuotedString(intmeth, 0);
  assert.equal(intmeth[end - 1], '"');
  assert.equal(unquoteRange(intmeth, 1, end - 1), 'BEL:\x07 NUL:\x00 DEL:\x7f');
});

test('unquote / quote', () => {
  assert.equal(unquote('"Quoted string \\"\\""'), 'Quoted string ""');
  assert.equal(unquote('token'), 'token');
  assert.equal(unquote('"'), '"');
  assert.equal(unquote('""'), '');
  assert.equal(unquote('"a\\\\b"'), 'a\\b');
  assert.equal(quote('a"b\\c'), '"a\\"b\\\\c"');
  assert.equal(quote(''), '""');
  assert.equal(unquote(quote('x "y" \\ z')), 'x "y" \\ z');
});

test('case-insensitive comparisons', () => {
  assert.ok(eqIgnoreCase('Transport', 'transport'));
  assert.ok(!eqIgnoreCase('transport', 'transpor'));
  assert.ok(!eqIgnoreCase('@', '`'));
  assert.ok(!eqIgnoreCase('[', '{'));
  assert.ok(rangeEqualsLower('x;TaG=1', 2, 5, 'tag'));
  assert.ok(!rangeEqualsLower('x;TaG=1', 2, 4, 'tag'));
  assert.ok(!rangeEqualsLower('x;TaX=1', 2, 5, 'tag'));
});

test('parseDecimal', () => {
  assert.equal(parseDecimal('0068', 0, 4, 255), 68);
  assert.equal(parseDecimal('300', 0, 3, 255), -1);
  assert.equal(parseDecimal('', 0, 0, 255), -1);
  assert.equal(parseDecimal('1a', 0, 2, 255), -1);
  assert.equal(parseDecimal('4294967295', 0, 10, 0xffffffff), 0xffffffff);
  assert.equal(parseDecimal('4294967296', 0, 10, 0xffffffff), -1);
  assert.equal(parseDecimal('36893488147419103232', 0, 20, 0xffffffff), -1);
});

test('describeChar', () => {
  assert.equal(describeChar('a,b', 1), '","');
  assert.equal(describeChar('a b', 1), 'space');
  assert.equal(describeChar('a\tb', 1), 'tab');
  assert.equal(describeChar('a\x00', 1), '\\x00');
  assert.equal(describeChar('a', 1), 'end of text');
  assert.equal(describeChar('\x85', 0), 'U+0085');
});
