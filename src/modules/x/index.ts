/**
 * KSR.x: script control. exit and drop end the route with the script engine's private sentinel
 * (src/script/exit.ts); the registry installs its own exit/drop on every KSR object (they also
 * mark the KSR object so a script that catches the sentinel cannot continue) — the definitions
 * here keep the module complete and are what direct calls use. modf calls a function by its
 * kamailio.cfg name.
 */
import type { RouteContext } from '../../proxy/context.ts';
import { exitSentinel, markExited } from '../../script/exit.ts';
import type { ModuleDefinition } from '../../script/module.ts';
import { def } from '../shared/define.ts';
import { modf } from './modf.ts';

function end(ctx: RouteContext, drop: boolean): never {
  if (drop) ctx.dropped = true;
  markExited(ctx);
  throw exitSentinel();
}

const x = {
  name: 'x',
  summary: 'Script control: exit, drop, modf',
  functions: {
    exit: def('() => never', (ctx: RouteContext): never => end(ctx, false)),
    drop: def('() => never', (ctx: RouteContext): never => end(ctx, true)),
    modf: def(
      '(fname: string, ...params: Array<string | number>) => number | Promise<number>',
      modf,
      undefined,
      'Call a function by its kamailio.cfg name with string parameters (see the x module README for the list).',
    ),
  },
} satisfies ModuleDefinition;

export default x;
