import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CHUNK_CHARS, cutText, jsonChunks, jsonText } from './json_stream.ts';

async function chunks(v: unknown, chunkChars?: number): Promise<string[]> {
  const out: string[] = [];
  for await (const c of jsonChunks(v, chunkChars === undefined ? {} : { chunkChars })) out.push(c);
  return out;
}

class Point {
  x = 1;
  y = 2;
  hidden = undefined;
  get norm(): number {
    return 3;
  }
}

function corpus(): Array<[string, unknown]> {
  const sparse: unknown[] = [1];
  sparse[4] = 5;
  const withProto = Object.create({ inherited: 1 }) as Record<string, unknown>;
  withProto.own = 2;
  const symKey = { [Symbol('s')]: 1, a: 2 };
  const nonEnum = Object.defineProperty({ a: 1 }, 'b', { value: 2, enumerable: false });
  return [
    ['null', null],
    ['true', true],
    ['false', false],
    ['zero', 0],
    ['negative zero', -0],
    ['float', 0.1 + 0.2],
    ['big float', 1e300],
    ['tiny', 5e-324],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['empty string', ''],
    ['string with escapes', 'a"b\\c\n\r\t\b\f\u0000\u001f\u2028\u2029'],
    ['unicode', 'é中文😀 \ud83d\ude00 ñ'],
    ['lone surrogates', '\ud800x\udc00'],
    ['empty array', []],
    ['empty object', {}],
    ['nested empties', { a: [], b: {}, c: [[], [{}], { d: [] }], e: [{}, []] }],
    ['deep nesting', JSON.parse(`${'['.repeat(200)}1${']'.repeat(200)}`)],
    ['undefined in object', { a: undefined, b: 1, c: undefined }],
    ['only undefined in object', { a: undefined }],
    ['undefined in array', [undefined, 1, undefined]],
    ['functions and symbols', { f: () => 1, s: Symbol('x'), arr: [() => 1, Symbol('y')], k: 1 }],
    ['sparse array', sparse],
    ['Date', new Date(Date.UTC(2026, 10, 23, 13, 0, 26))],
    ['Date in object', { when: new Date(0), list: [new Date(1)] }],
    ['invalid Date', { d: new Date(Number.NaN) }],
    ['toJSON returning object', { v: { toJSON: () => ({ a: [1, { b: 2 }] }) } }],
    ['toJSON returning undefined', { v: { toJSON: () => undefined }, w: [{ toJSON: () => undefined }] }],
    [
      'toJSON gets the key',
      { k1: { toJSON: (k: string) => `key=${k}` }, arr: [{ toJSON: (k: string) => k }] },
    ],
    ['boxed primitives', { n: Object(1), s: Object('s'), b: Object(false) }],
    ['class instance', new Point()],
    ['inherited props are skipped', withProto],
    ['symbol keys are skipped', symKey],
    ['non-enumerable skipped', nonEnum],
    ['integer-like keys order', { b: 1, 2: 'two', a: 3, 1: 'one' }],
    ['Map and Set', { m: new Map([[1, 2]]), s: new Set([1]) }],
    ['typed array', new Uint8Array([1, 2, 3])],
    ['unicode keys', { clé: 1, '😀': [2], 'a"b': 3, '\n': 4 }],
    ['null prototype', Object.assign(Object.create(null) as object, { a: 1 })],
    ['jsonrpc reply', { jsonrpc: '2.0', id: 1, result: { Domains: [{ name: 'location', AORs: [] }] } }],
    [
      'large array of objects',
      Array.from({ length: 5000 }, (_, i) => ({ AOR: `user${i}@example.com`, q: i / 10, ok: i % 2 === 0 })),
    ],
    ['large string', 'é😀x'.repeat(100_000)],
    ['many keys', Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`k${i}`, [i, `v${i}`]]))],
  ];
}

describe('streaming JSON serializer', () => {
  it('equals JSON.stringify on a corpus of shapes (default and tiny chunk sizes)', async () => {
    for (const [name, v] of corpus()) {
      const want = JSON.stringify(v);
      for (const size of want !== undefined && want.length < 20_000
        ? [undefined, 2, 7, 1000]
        : [undefined, 1000]) {
        const got = await chunks(v, size);
        assert.equal(got.join(''), want, `${name} (chunk ${size ?? 'default'})`);
        const limit = size ?? CHUNK_CHARS;
        for (const c of got) assert.ok(c.length <= limit, `${name}: a chunk of ${c.length} > ${limit}`);
        assert.ok(
          got.every((c) => c !== ''),
          `${name}: empty chunk`,
        );
      }
    }
  });

  it('writes nothing where JSON.stringify returns undefined', async () => {
    for (const v of [undefined, () => 1, Symbol('x'), { toJSON: () => undefined }]) {
      assert.deepEqual(await chunks(v), []);
      assert.equal(await jsonText(v), undefined);
    }
  });

  it('refuses BigInt and cycles as JSON.stringify does', async () => {
    await assert.rejects(jsonText({ a: [1, 2n] }), TypeError);
    await assert.rejects(jsonText(1n), TypeError);
    const cyc: Record<string, unknown> = { a: 1 };
    cyc.self = { back: cyc };
    await assert.rejects(jsonText(cyc), /circular/);
    // A repeated (not circular) reference is fine.
    const shared = { x: 1 };
    assert.equal(await jsonText([shared, shared]), '[{"x":1},{"x":1}]');
  });

  it('cuts chunks at ~64 KiB and never splits a surrogate pair', async () => {
    const big = Array.from({ length: 50_000 }, (_, i) => ({ i, s: 'x😀' }));
    const got = await chunks(big);
    assert.ok(got.length > 5);
    for (const c of got) {
      assert.ok(c.length <= CHUNK_CHARS);
      const last = c.charCodeAt(c.length - 1);
      assert.ok(!(last >= 0xd800 && last <= 0xdbff), 'a chunk ends with a high surrogate');
    }
    assert.equal(got.join(''), JSON.stringify(big));
    const pieces = cutText('a😀'.repeat(10), 2);
    assert.equal(pieces.join(''), 'a😀'.repeat(10));
    for (const p of pieces) assert.ok(p.length <= 2 && !/[\ud800-\udbff]$/.test(p));
  });

  it('writes an async iterable as an array, nested anywhere, without reading ahead', async () => {
    async function* items(n: number): AsyncGenerator<unknown> {
      for (let i = 0; i < n; i++)
        yield { i, when: new Date(i), skip: undefined, sub: i === 1 ? inner() : [] };
    }
    async function* inner(): AsyncGenerator<unknown> {
      yield 'a';
      yield undefined;
      yield [];
    }
    const text = await jsonText({ list: items(3), empty: items(0) });
    assert.equal(
      text,
      JSON.stringify({
        list: [
          { i: 0, when: new Date(0), sub: [] },
          { i: 1, when: new Date(1), sub: ['a', null, []] },
          { i: 2, when: new Date(2), sub: [] },
        ],
        empty: [],
      }),
    );
    assert.equal(await jsonText((async function* () {})()), '[]');
  });

  it('closes the open iterators when the consumer stops early or an item cannot be written', async () => {
    let closed = 0;
    let produced = 0;
    async function* many(): AsyncGenerator<unknown> {
      try {
        for (let i = 0; i < 1_000_000; i++) {
          produced++;
          yield { i, pad: 'x'.repeat(100) };
        }
      } finally {
        closed++;
      }
    }
    const gen = jsonChunks({ result: many() });
    const first = await gen.next();
    assert.equal(first.done, false);
    await gen.return(undefined);
    assert.equal(closed, 1);
    assert.ok(produced < 2000, `read ahead ${produced} items`);

    async function* bad(): AsyncGenerator<unknown> {
      try {
        yield 1;
        yield 2n;
      } finally {
        closed++;
      }
    }
    await assert.rejects(jsonText([bad()]), TypeError);
    assert.equal(closed, 2);
  });
});
