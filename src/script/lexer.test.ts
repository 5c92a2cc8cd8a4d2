import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LineMap, tokenize } from './lexer.ts';

function names(src: string): string[] {
  return tokenize(src)
    .filter((t) => t.type === 'name')
    .map((t) => t.value);
}

describe('tokenize', () => {
  it('skips comments and keeps string contents as one token', () => {
    const src = `// KSR.tm.a()\n/* KSR.b() */ f('KSR.c()', "d\\"e")`;
    assert.deepEqual(names(src), ['f']);
    const strings = tokenize(src).filter((t) => t.type === 'string');
    assert.deepEqual(
      strings.map((t) => t.value),
      ['KSR.c()', 'd"e'],
    );
  });

  it('tokenizes the code inside template substitutions, not the template text', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the source text of a script
    const src = 'const s = `KSR.no() ${KSR.yes({ a: `${inner}` })} tail`;';
    assert.deepEqual(names(src), ['const', 's', 'KSR', 'yes', 'a', 'inner']);
  });

  it('tells regular expressions from divisions', () => {
    assert.deepEqual(names('x = a / b / c'), ['x', 'a', 'b', 'c']);
    assert.deepEqual(names("x = /KSR.tm.t_relay('[/]')/g.test(y)"), ['x', 'test', 'y']);
    assert.deepEqual(names('return /a/.test(b)'), ['return', 'test', 'b']);
    assert.deepEqual(names('f(x) / 2 / g'), ['f', 'x', 'g']);
  });

  it('records line breaks before tokens and positions', () => {
    const toks = tokenize('a\n  b c');
    assert.deepEqual(
      toks.map((t) => [t.value, t.nl, t.start]),
      [
        ['a', false, 0],
        ['b', true, 4],
        ['c', false, 6],
      ],
    );
  });

  it('reads multi-character punctuators and optional chaining', () => {
    const p = tokenize('a?.b ?? c === d ? .5 : e')
      .filter((t) => t.type === 'punct')
      .map((t) => t.value);
    assert.deepEqual(p, ['?.', '??', '===', '?', ':']);
  });

  it('skips a hashbang line', () => {
    assert.deepEqual(names('#!/usr/bin/env node\nx'), ['x']);
  });
});

describe('LineMap', () => {
  it('maps offsets to 1-based line and column', () => {
    const m = new LineMap('ab\ncd\r\nef');
    assert.deepEqual(m.position(0), { line: 1, column: 1 });
    assert.deepEqual(m.position(4), { line: 2, column: 2 });
    assert.deepEqual(m.position(7), { line: 3, column: 1 });
  });
});
