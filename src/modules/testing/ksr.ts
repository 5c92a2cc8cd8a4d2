/**
 * A typed KSR-like object over one context for the modules' unit tests, so they read like scripts
 * (`KSR.sl.send_reply(404, 'Not here')`). Route kinds are enforced as the script engine does
 * (outside them: an error is logged and -1 returned); exit/drop are the modules' own.
 */
import type { RouteContext } from '../../proxy/context.ts';
import type { KsrFunction, ModuleDefinition } from '../../script/module.ts';
import type * as M from '../index.ts';
import { MODULES } from '../index.ts';

/** Script-facing functions of a module: its implementations without the ctx parameter. */
export type Api<D extends ModuleDefinition> = {
  [K in keyof D['functions']]: D['functions'][K]['fn'] extends (ctx: RouteContext, ...a: infer A) => infer R
    ? (...a: A) => R
    : never;
};

export type TestKsr = Api<typeof M.core> & {
  x: Api<typeof M.x>;
  kx: Api<typeof M.kx>;
  pv: Api<typeof M.pv>;
  hdr: Api<typeof M.hdr>;
  sl: Api<typeof M.sl>;
  tm: Api<typeof M.tm>;
  tmx: Api<typeof M.tmx>;
  rr: Api<typeof M.rr>;
  maxfwd: Api<typeof M.maxfwd>;
  sanity: Api<typeof M.sanity>;
  siputils: Api<typeof M.siputils>;
  corex: Api<typeof M.corex>;
  exec: Api<typeof M.exec>;
  nathelper: Api<typeof M.nathelper>;
};

function bound(ctx: RouteContext, name: string, f: KsrFunction): (...args: unknown[]) => unknown {
  return (...args) => {
    if (f.routes !== undefined && !f.routes.includes(ctx.kind)) {
      ctx.log('err', `${name}() cannot be used in ${ctx.kind}`);
      return -1;
    }
    return f.fn(ctx, ...args);
  };
}

export function ksr(ctx: RouteContext, modules: readonly ModuleDefinition[] = MODULES): TestKsr {
  const root: Record<string, unknown> = {};
  for (const m of modules) {
    const target: Record<string, unknown> = m.name === '' ? root : {};
    for (const [fname, f] of Object.entries(m.functions)) target[fname] = bound(ctx, `${m.name}.${fname}`, f);
    if (m.name !== '') root[m.name] = target;
  }
  return root as unknown as TestKsr;
}
