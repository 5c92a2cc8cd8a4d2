/**
 * Reloading a Lua script does not pile up Lua states: the engine retires the replaced generation
 * and its state is freed (WebAssembly memory is reused, never returned, so a leak would show as
 * growth of the instance's memory). 1,000 reloads of a script with a large table, real modules.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MODULES } from '../../modules/index.ts';
import { ScriptEngine } from '../engine.ts';
import { KsrRegistry } from '../registry.ts';
import { tempScripts } from '../test_support.ts';
import { luaVm } from './wasm.ts';

const QUIET = { info() {}, warn() {}, error() {} };

describe('Lua reload memory', () => {
  it('1,000 reloads do not grow the VM memory', { timeout: 120_000 }, async () => {
    const entries = Array.from({ length: 2000 }, (_, i) => `"entry-${i}"`).join(', ');
    const tmp = tempScripts({
      'r.lua': `local t = { ${entries} }\nfunction ksr_request_route() return #t end\n`,
    });
    try {
      const engine = new ScriptEngine({
        path: tmp.path('r.lua'),
        registry: new KsrRegistry(MODULES),
        log: QUIET,
      });
      const vm = await luaVm();
      const reloads = async (n: number): Promise<void> => {
        for (let i = 0; i < n; i++) assert.equal((await engine.reload()).ok, true);
      };
      await reloads(50);
      const before = vm.api.HEAPU8.length;
      await reloads(1000);
      const after = vm.api.HEAPU8.length;
      // One leaked state (the KSR tables of every module and 2,000 strings) is well over 100 KB.
      assert.ok(after - before < 4 * 1024 * 1024, `VM memory grew from ${before} to ${after} bytes`);
      assert.equal(engine.stats().generation, 1050);
    } finally {
      tmp.remove();
    }
  });
});
