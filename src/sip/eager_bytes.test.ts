import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mulberry32 as rng } from '../../test/prng.ts';
import { cseqMethodFromBytes, cseqSeqFromBytes, isAsciiRange, tagFromBytes } from './eager_bytes.ts';
import { isParseError } from './errors.ts';
import { parseCSeq } from './header_values.ts';
import { findTagParam } from './name_addr.ts';

/** Values built from pieces that exercise every branch, plus random octets (Latin-1). */
function randomValue(r: () => number, pieces: readonly string[]): string {
  let s = '';
  const n = 1 + Math.floor(r() * 8);
  for (let k = 0; k < n; k++) {
    if (r() < 0.15) s += String.fromCharCode(Math.floor(r() * 256));
    else s += pieces[Math.floor(r() * pieces.length)];
  }
  return s;
}

const TAG_PIECES = [
  '"Alice" ',
  '"a\\"b" ',
  '<sip:alice@example.com>',
  '<sip:a;tag=x>',
  'sip:bob@h',
  ';tag=',
  ';TaG=',
  ';tag',
  ';tag="q"',
  'abc123',
  ' ',
  '\t',
  ';',
  '=',
  '>',
  '<',
  ';x=1',
  ';lr',
  ' ; tag = v ',
  '[::1]:5060',
  ',',
  '%41',
  'é',
];

const CSEQ_PIECES = [
  '1',
  '0',
  '42',
  '4294967295',
  '4294967296',
  ' ',
  '\t',
  'INVITE',
  'ACK',
  'BYE',
  'FOO',
  'x',
  '-',
];

/** CSeq-like values: digits, blanks, a method, sometimes a random piece in between. */
function randomCSeq(r: () => number): string {
  const pick = (a: readonly string[]): string => a[Math.floor(r() * a.length)];
  let s = pick(CSEQ_PIECES.slice(0, 5));
  while (r() < 0.3) s += pick(CSEQ_PIECES);
  s += pick([' ', '\t', '  ', '']);
  while (r() < 0.2) s += pick(CSEQ_PIECES);
  return s + pick(CSEQ_PIECES.slice(7));
}

function tagBySlowPath(text: string): string | undefined | 'error' {
  const r = findTagParam(text);
  return isParseError(r) ? 'error' : r;
}

describe('eager_bytes', () => {
  it('reads the tag of common From/To values', () => {
    const cases: Array<[string, string | undefined | null]> = [
      ['<sip:alice@example.com>;tag=1928301774', '1928301774'],
      ['"Bob" <sip:bob@h>;x=1;TAG=abc', 'abc'],
      ['sip:carol@h ; tag = zz ;lr', 'zz'],
      ['<sip:a@h;tag=inuri>', undefined],
      ['<sip:a@h>;lr', undefined],
      ['<sip:a@h>;tag="quoted"', null],
      ['"Dis\\"play;tag=no" <sip:a@h>;tag=1', '1'],
      ['"unterminated <sip:a@h>;tag=1', null],
      ['"ends in backslash\\', null],
      ['<sip:a@h;tag=1', null],
      ['<sip:a@h>;tag', null],
      ['<sip:a@h> x', null],
    ];
    for (const [text, want] of cases) {
      const buf = Buffer.from(text, 'latin1');
      assert.equal(tagFromBytes(buf, 0, buf.length), want, text);
    }
  });

  it('answers as findTagParam on random values, or defers (seeded fuzz)', () => {
    const seed = 20261123;
    const r = rng(seed);
    let answered = 0;
    for (let k = 0; k < 20000; k++) {
      const text = randomValue(r, TAG_PIECES);
      const buf = Buffer.from(`X${text}Y`, 'latin1');
      const fast = tagFromBytes(buf, 1, buf.length - 1);
      if (fast === null) continue;
      answered++;
      assert.equal(fast, tagBySlowPath(text), `seed ${seed} case ${k}: ${JSON.stringify(text)}`);
    }
    assert.ok(answered > 5000, `fast path answered only ${answered} of 20000`);
  });

  it('reads CSeq values of the common shape and defers on the rest', () => {
    const buf = Buffer.from('314159 INVITE');
    assert.equal(cseqSeqFromBytes(buf, 0, buf.length), 314159);
    assert.equal(cseqMethodFromBytes(buf, 0, buf.length), 'INVITE');
    for (const text of ['INVITE', '1INVITE', '1 FOO', '4294967296 ACK', '1 ACK x', '', '1 ']) {
      const b = Buffer.from(text);
      assert.equal(cseqSeqFromBytes(b, 0, b.length), -1, text);
    }
  });

  it('answers as parseCSeq on random values, or defers (seeded fuzz)', () => {
    const seed = 7;
    const r = rng(seed);
    let answered = 0;
    for (let k = 0; k < 20000; k++) {
      const text = randomCSeq(r);
      const buf = Buffer.from(text, 'latin1');
      const seq = cseqSeqFromBytes(buf, 0, buf.length);
      if (seq < 0) continue;
      answered++;
      const slow = parseCSeq(text);
      assert.ok(!isParseError(slow), `seed ${seed} case ${k}: ${JSON.stringify(text)}`);
      assert.equal(seq, slow.seq, text);
      assert.equal(cseqMethodFromBytes(buf, 0, buf.length), slow.method, text);
    }
    assert.ok(answered > 2000, `fast path answered only ${answered} of 20000`);
  });

  it('tells ASCII ranges', () => {
    const buf = Buffer.from('abcé', 'utf8');
    assert.equal(isAsciiRange(buf, 0, 3), true);
    assert.equal(isAsciiRange(buf, 0, buf.length), false);
  });
});
