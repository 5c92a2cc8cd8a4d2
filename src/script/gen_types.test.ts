import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { MODULES } from '../modules/index.ts';
import { generateKsrTypes, renderKsrTypes, TYPES_PATH } from './gen_types.ts';
import { KsrRegistry } from './registry.ts';

describe('generated KSR types', () => {
  it('src/script/types.ts is up to date with the modules (npm run gen:ksr-types)', () => {
    assert.equal(readFileSync(TYPES_PATH, 'utf8'), generateKsrTypes(MODULES), 'run npm run gen:ksr-types');
  });

  it('declares every function of every module', () => {
    const text = renderKsrTypes(MODULES);
    const registry = new KsrRegistry(MODULES);
    for (const m of ['', ...registry.moduleNames()]) {
      for (const f of registry.functionNames(m))
        assert.match(text, new RegExp(`readonly ${f}: `), `${m}.${f}`);
    }
    assert.match(text, /readonly exit: \(\) => never;/);
  });

  it('falls back to a permissive signature for an undeclared function, with a note', () => {
    const text = renderKsrTypes([{ name: 'custom', functions: { thing: { fn: () => 1 } } }]);
    assert.match(text, /Signature not declared by the module\./);
    assert.match(text, /readonly thing: \(\.\.\.args: any\[\]\) => any;/);
    assert.match(text, /readonly custom: KsrCustom;/);
  });
});
