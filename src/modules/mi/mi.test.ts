import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { MiError } from '../../mi/command.ts';
import { MiRegistry } from '../../mi/registry.ts';
import { pvGet } from '../pv/pseudo_variables.ts';
import { fakeContext } from '../testing/fake_context.ts';
import mi, { bindMiRegistry, rcOf, splitCommand } from './index.ts';

function registry(): { r: MiRegistry; calls: unknown[] } {
  const r = new MiRegistry();
  const calls: unknown[] = [];
  r.register({
    name: 'dr_reload',
    help: '',
    recipes: [[], [{ name: 'partition', type: 'string' }]],
    mutating: true,
    handler: (p) => {
      calls.push(p);
      return { reloaded: p.partition ?? 'all' };
    },
  });
  r.register({
    name: 'dlg_list',
    help: '',
    recipes: [
      [
        { name: 'index', type: 'int', optional: true },
        { name: 'counter', type: 'int', optional: true },
      ],
    ],
    handler: (p) => ({ index: p.index, counter: p.counter }),
  });
  r.register({
    name: 'ul_show_contact',
    help: '',
    recipes: [[{ name: 'aor', type: 'string' }]],
    handler: () => {
      throw new MiError(404, 'AOR not found');
    },
  });
  return { r, calls };
}

const call = (ctx: ReturnType<typeof fakeContext>, ...args: unknown[]): Promise<number> =>
  (mi.functions.mi.fn as (...a: unknown[]) => Promise<number>)(ctx, ...args);

describe('KSR.mi', () => {
  afterEach(() => bindMiRegistry(undefined, undefined));

  it('runs "cmd p1 p2" (OpenSIPS simple form) and stores the JSON result in ret_var', async () => {
    const { r, calls } = registry();
    bindMiRegistry(r, undefined);
    const ctx = fakeContext();
    assert.equal(await call(ctx, 'dr_reload extensions', null, '$var(r)'), 1);
    assert.deepEqual(calls, [{ partition: 'extensions' }]);
    assert.equal(pvGet(ctx, '$var(r)'), '{"reloaded":"extensions"}');
    assert.equal(await call(ctx, 'dlg_list', { index: 0, counter: '10' }, '$var(r)', true), 1);
    assert.equal(pvGet(ctx, '$var(r)'), '{\n  "index": 0,\n  "counter": 10\n}');
  });

  it('returns -1 for an unknown command, -code for a failure (error text in ret_var), -400 for bad params', async () => {
    const { r } = registry();
    bindMiRegistry(r, undefined);
    const ctx = fakeContext();
    assert.equal(await call(ctx, 'nope'), -1);
    assert.equal(await call(ctx, 'ul_show_contact alice', undefined, '$var(e)'), -404);
    assert.equal(pvGet(ctx, '$var(e)'), 'AOR not found');
    assert.equal(await call(ctx, 'dlg_list x'), -400);
    assert.equal(rcOf(-32603), -500);
  });

  it('launch runs the command detached and returns at once', async () => {
    const { r, calls } = registry();
    bindMiRegistry(r, undefined);
    const ctx = fakeContext();
    assert.equal((mi.functions.launch.fn as (...a: unknown[]) => number)(ctx, 'dr_reload'), 1);
    assert.equal((mi.functions.launch.fn as (...a: unknown[]) => number)(ctx, 'nope'), -1);
    await new Promise((ok) => setImmediate(ok));
    assert.deepEqual(calls, [{}]);
  });

  it('without a running management interface: -500', async () => {
    assert.equal(await call(fakeContext(), 'uptime'), -500);
    assert.deepEqual(splitCommand('  a  b c ', undefined), { name: 'a', params: ['b', 'c'] });
    assert.deepEqual(splitCommand('a b', { x: 1 }), { name: 'a', params: { x: 1 } });
  });
});
