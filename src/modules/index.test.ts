import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KsrRegistry } from '../script/registry.ts';
import { MODULES } from './index.ts';
import { fakeContext } from './testing/fake_context.ts';

describe('MODULES', () => {
  it('has one definition per module name, the core first', () => {
    const names = MODULES.map((m) => m.name);
    assert.equal(new Set(names).size, names.length);
    assert.equal(names[0], '');
    assert.deepEqual(names.slice(1).sort(), [
      'acc',
      'auth',
      'auth_db',
      'corex',
      'cp',
      'dialog',
      'exec',
      'extscript',
      'hdr',
      'kx',
      'maxfwd',
      'mi',
      'nathelper',
      'pv',
      'registrar',
      'rr',
      'sanity',
      'siputils',
      'sl',
      'tm',
      'tmx',
      'uac',
      'usrloc',
      'x',
    ]);
  });

  it('declares a signature for every function (the generated KSR types never fall back to any)', () => {
    for (const m of MODULES) {
      for (const [fname, f] of Object.entries(m.functions)) {
        assert.equal(typeof f.signature, 'string', `${m.name}.${fname}`);
        assert.match(f.signature ?? '', /^\(.*\) => .+$/, `${m.name}.${fname}`);
        assert.equal(typeof f.fn, 'function', `${m.name}.${fname}`);
      }
    }
  });

  it('loads into the script registry and binds to a context', () => {
    const registry = new KsrRegistry(MODULES);
    const KSR = registry.createKsr(fakeContext()) as unknown as {
      is_INVITE(): boolean;
      pv: { get(n: string): unknown };
      sl: { send_reply(code: number, reason: string): unknown };
    };
    assert.equal(KSR.is_INVITE(), true);
    assert.equal(KSR.pv.get('$rm'), 'INVITE');
    assert.ok(registry.has(['tm', 't_relay']));
    assert.ok(registry.has(['is_myself_srcip']));
  });
});
