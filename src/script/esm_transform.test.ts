import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isTransformError, type TransformedModule, transformModule } from './esm_transform.ts';

function transform(src: string): TransformedModule {
  const r = transformModule(src);
  if (isTransformError(r)) throw new Error(`${r.message} at ${r.offset}`);
  return r;
}

/** Evaluate a transformed module with fake dependencies; returns its namespace. */
async function evaluate(src: string, deps: Record<string, unknown>[] = []): Promise<Record<string, unknown>> {
  const t = transform(src);
  const ns: Record<string, unknown> = {};
  const api = {
    i: (k: number) => deps[k],
    e: (g: Record<string, () => unknown>) => {
      for (const [k, get] of Object.entries(g)) Object.defineProperty(ns, k, { get, enumerable: true });
    },
    star: (k: number) => {
      for (const [name, v] of Object.entries(deps[k])) if (name !== 'default') ns[name] = v;
    },
    d: (s: string) => Promise.resolve({ spec: s }),
    meta: { url: 'file:///x.ts' },
  };
  // biome-ignore lint/security/noGlobalEval: evaluating the transformed module is the point (as the loader does)
  const fn = globalThis.eval(`(async function (__junction) {"use strict";${t.prefix}${t.body}\n})`);
  await fn(api);
  return ns;
}

describe('transformModule', () => {
  it('keeps every line where it was', () => {
    const src = [
      'import { a,',
      "  b as c } from './x.ts';",
      'export const d = 1,',
      '  e = 2;',
      'export function f() {}',
      "export { d as g } from './y.ts';",
      'const z = 3;',
    ].join('\n');
    const t = transform(src);
    assert.equal(t.body.split('\n').length, src.split('\n').length);
    assert.equal(t.body.split('\n')[6], 'const z = 3;');
    assert.equal(t.body.split('\n')[2].trimStart(), 'const d = 1,');
  });

  it('lists the static imports with their names, in order', () => {
    const t = transform(
      `import x, { y as z } from 'node:fs';\nimport './side.ts';\nexport * from './all.ts';`,
    );
    assert.deepEqual(
      t.requests.map((r) => [r.specifier, r.names.map((n) => n.name)]),
      [
        ['node:fs', ['default', 'y']],
        ['./side.ts', []],
        ['./all.ts', []],
      ],
    );
  });

  it('reads import attributes', () => {
    const t = transform(`import data from './d.json' with { type: 'json' };`);
    assert.deepEqual(t.requests[0].attributes, { type: 'json' });
  });

  it('exports declarations, lists, defaults and re-exports as live getters', async () => {
    const ns = await evaluate(
      [
        "import def, { a as b } from './dep.ts';",
        "import * as all from './dep.ts';",
        'export let counter = 1;',
        'counter++;',
        'export const { p, q: [r = 5] } = { p: 1, q: [] };',
        'export function f() { return b + def + all.a; }',
        'export async function g() {}',
        'export class K {}',
        'const h = 2; export { h as hh, h };',
        "export { a as reexported } from './dep.ts';",
        'export default function named() { return 7; }',
      ].join('\n'),
      [
        { default: 10, a: 1 },
        { default: 10, a: 1 },
        { default: 10, a: 1 },
      ],
    );
    assert.equal(ns.counter, 2);
    assert.equal(ns.p, 1);
    assert.equal(ns.r, 5);
    assert.equal((ns.f as () => number)(), 12);
    assert.equal(typeof ns.g, 'function');
    assert.equal(typeof ns.K, 'function');
    assert.equal(ns.hh, 2);
    assert.equal(ns.h, 2);
    assert.equal(ns.reexported, 1);
    assert.equal((ns.default as () => number)(), 7);
  });

  it('exports a default expression', async () => {
    const ns = await evaluate('export default { a: 1 };');
    assert.deepEqual(ns.default, { a: 1 });
  });

  it('rewrites import.meta and dynamic import(), not a method named import', async () => {
    const t = transform(
      "const u = import.meta.url; const m = import('./x.ts'); const o = { import() { return 1; } };",
    );
    assert.match(t.body, /__junction\.meta\.url/);
    assert.match(t.body, /__junction\.d\('\.\/x\.ts'\)/);
    assert.match(t.body, /\{ import\(\) \{ return 1; \} \}/);
  });

  it('leaves import/export words alone in strings, comments, templates and property names', () => {
    const src =
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the source text of a script
      "// import x from 'y'\nconst s = 'export const a = 1';\nconst t = `import ${'z'}`;\nobj.export = 1; obj.import();\n";
    const t = transform(src);
    assert.equal(t.body, src);
    assert.equal(t.requests.length, 0);
  });

  it('blanks a hashbang line', () => {
    const t = transform('#!/usr/bin/env node\nexport const a = 1;');
    assert.equal(t.body.split('\n')[0].trim(), '');
  });

  it('reports malformed module syntax with its offset', () => {
    const r = transformModule('import { a } form "x";');
    assert.ok(isTransformError(r));
    assert.equal(r.offset, 13);
  });
});
