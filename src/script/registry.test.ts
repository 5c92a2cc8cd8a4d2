import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isExitSentinel, wasExited } from './exit.ts';
import type { ModuleDefinition } from './module.ts';
import { KsrRegistry } from './registry.ts';
import { simpleContext, TEST_MODULES } from './test_support.ts';

// The registry is typed for Junction's modules; these tests use the small test modules.
type AnyKsr = Record<string, (...a: unknown[]) => unknown> &
  Record<string, Record<string, (...a: unknown[]) => unknown>>;

function ksrFor(registry: KsrRegistry, ctx = simpleContext()): AnyKsr {
  return registry.createKsr(ctx) as unknown as AnyKsr;
}

describe('KsrRegistry', () => {
  const registry = new KsrRegistry(TEST_MODULES);

  it('calls core and module functions with the context and the script arguments', () => {
    const ctx = simpleContext();
    const KSR = ksrFor(registry, ctx);
    KSR.info('hello');
    assert.deepEqual(ctx.logs, [{ level: 'info', text: 'hello' }]);
    assert.equal(KSR.is_method('INVITE'), true);
    assert.equal(KSR.sl.send_reply(404, 'Not Here'), 1);
    assert.deepEqual(ctx.replies, [{ code: 404, reason: 'Not Here' }]);
    assert.equal(KSR.pv.get('$rm'), 'INVITE');
  });

  it('passes exactly the arguments the script gave (0 to 5), no padding with undefined', () => {
    const seen: unknown[][] = [];
    const echo: ModuleDefinition = {
      name: 'echo',
      functions: {
        args: {
          fn: (_ctx, ...args: unknown[]) => {
            seen.push(args);
            return args.length;
          },
          doc: 'records its arguments',
        },
      },
    };
    const KSR = ksrFor(new KsrRegistry([...TEST_MODULES, echo]));
    const calls: unknown[][] = [[], [1], [1, 'b'], [1, 'b', undefined], [1, 2, 3, 4], [1, 2, 3, 4, 5]];
    for (const args of calls) assert.equal(KSR.echo.args(...args), args.length);
    assert.deepEqual(seen, calls);
  });

  it('creates a sub-module once per KSR object, from a shared prototype', () => {
    const a = ksrFor(registry);
    const b = ksrFor(registry);
    assert.equal(a.tm, a.tm);
    assert.notEqual(a.tm, b.tm);
    assert.equal(Object.getPrototypeOf(a.tm), Object.getPrototypeOf(b.tm));
    assert.equal(a.tm.t_relay, b.tm.t_relay, 'methods are shared, not made per message');
  });

  it('sub-modules first used after a KSR object was made still resolve once per object', () => {
    const fresh = new KsrRegistry(TEST_MODULES);
    const early = ksrFor(fresh);
    const ctxLate = simpleContext();
    const late = ksrFor(fresh, ctxLate);
    // `sl` takes the first slot through `late`; `early` was made before any slot was given out.
    assert.equal(late.sl.send_reply(404, 'Not Here'), 1);
    assert.deepEqual(ctxLate.replies, [{ code: 404, reason: 'Not Here' }]);
    assert.equal(early.sl, early.sl);
    assert.notEqual(early.sl, late.sl);
    assert.equal(early.pv.get('$rm'), 'INVITE');
    assert.equal(early.tm, early.tm);
    const after = ksrFor(fresh);
    assert.notEqual(after.sl, early.sl);
    assert.equal(after.pv, after.pv);
  });

  it('refuses a function in a route where it is not allowed: error log and -1', () => {
    const ctx = simpleContext('onreply');
    const KSR = ksrFor(registry, ctx);
    assert.equal(KSR.sl.send_reply(200, 'OK'), -1);
    assert.equal(ctx.replies.length, 0);
    assert.equal(ctx.logs.length, 1);
    assert.equal(ctx.logs[0].level, 'err');
    assert.match(ctx.logs[0].text, /KSR\.sl\.send_reply\(\) cannot be used in onreply_route/);
    assert.equal(KSR.pv.get('$rm'), 'INVITE', 'ANY_ROUTE functions still work');
  });

  it('KSR.x.exit throws a sentinel that is not an Error, and every later call throws it again', () => {
    const ctx = simpleContext();
    const KSR = ksrFor(registry, ctx);
    let caught: unknown;
    try {
      KSR.x.exit();
    } catch (e) {
      caught = e;
    }
    assert.equal(isExitSentinel(caught), true);
    assert.equal(caught instanceof Error, false);
    assert.equal(wasExited(ctx), true);
    assert.equal(KsrRegistry.isExited(KSR), true);
    assert.throws(
      () => KSR.info('after exit'),
      (e: unknown) => isExitSentinel(e),
    );
    assert.throws(
      () => KSR.sl.send_reply(500, 'x'),
      (e: unknown) => isExitSentinel(e),
    );
    assert.equal(ctx.logs.length, 0);
    assert.equal(ctx.dropped, false);
  });

  it('KSR.x.drop sets dropped and exits', () => {
    const ctx = simpleContext();
    const KSR = ksrFor(registry, ctx);
    assert.throws(
      () => KSR.x.drop(),
      (e: unknown) => isExitSentinel(e),
    );
    assert.equal(ctx.dropped, true);
    assert.equal(wasExited(ctx), true);
  });

  it('a new KSR object on the same context is not exited', () => {
    const ctx = simpleContext();
    const first = ksrFor(registry, ctx);
    assert.throws(() => first.x.exit());
    const second = ksrFor(registry, ctx);
    assert.equal(second.pv.get('$rm'), 'INVITE');
  });

  it('explains a detached call', () => {
    const KSR = ksrFor(registry);
    const send = KSR.sl.send_reply;
    assert.throws(() => send(200, 'OK'), /KSR\.sl\.send_reply\(\) was called without its KSR object/);
  });

  it('has() answers the load-time check', () => {
    assert.equal(registry.has(['info']), true);
    assert.equal(registry.has(['tm']), true);
    assert.equal(registry.has(['tm', 't_relay']), true);
    assert.equal(registry.has(['tm', 't_rleay']), false);
    assert.equal(registry.has(['nope']), false);
    assert.equal(registry.has(['x', 'exit']), true, 'x.exit is built in');
    assert.equal(registry.has(['', 'info']), false, 'core functions are not a module');
    assert.equal(registry.has([]), false);
    assert.deepEqual(registry.functionNames('sl'), ['send_reply', 'sl_send_reply']);
    assert.ok(registry.moduleNames().includes('x'));
  });

  it('refuses a function defined twice and a module named like a core function', () => {
    const a: ModuleDefinition = { name: 'm', functions: { f: { fn: () => 1 } } };
    assert.throws(() => new KsrRegistry([a, a]), /KSR function KSR\.m\.f is defined twice/);
    const core: ModuleDefinition = { name: '', functions: { m: { fn: () => 1 } } };
    assert.throws(() => new KsrRegistry([core, a]), /KSR\.m is both a module and a core function/);
  });

  it('merges definitions of the same module from several files', () => {
    const r = new KsrRegistry([
      { name: 'm', functions: { f: { fn: () => 1 } } },
      { name: 'm', functions: { g: { fn: () => 2 } } },
    ]);
    const KSR = ksrFor(r);
    assert.equal(KSR.m.f(), 1);
    assert.equal(KSR.m.g(), 2);
  });

  it('gives the context of a KSR object to tools', () => {
    const ctx = simpleContext();
    assert.equal(KsrRegistry.contextOf(registry.createKsr(ctx)), ctx);
    assert.equal(KsrRegistry.contextOf({}), undefined);
  });
});
