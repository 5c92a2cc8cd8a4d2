/**
 * KSR.extscript: the M4 external call-routing hook for routing scripts.
 * - `await KSR.extscript.run()`: the hook of the connection point the call comes from, with the
 *   localized numbers; a rejection is answered here (mapped status, the script's message);
 *   otherwise the new numbers become the Request-URI / To user and the From user (restored on
 *   the way back).
 * - `await KSR.extscript.run_script(script, src?, dst?, cp_id?, user_id?)`: any URL or program,
 *   nothing applied; the outcome is left in `$var(extscript_*)` for the script to use.
 * The extscript_stats command reads the per-connection-point statistics.
 */
import type { ExternalScript } from '../../config/types.ts';
import type { MiCommand } from '../../mi/command.ts';
import type { RouteContext } from '../../proxy/context.ts';
import { replaceIdentity } from '../../proxy/identity.ts';
import { applyRules } from '../../routing_points/rules.ts';
import type { ModuleDefinition } from '../../script/module.ts';
import { fromUser, identify, ruriUser } from '../cp/flow.ts';
import { def, REQUEST_ONLY } from '../shared/define.ts';
import { withUser } from '../shared/uri_edit.ts';
import { extScriptService, type HookDecision } from './service.ts';
import { statsView } from './stats.ts';

/** An http(s) URL or an absolute program path, as the config's `external_script` takes it. */
function scriptOf(text: string): ExternalScript | undefined {
  if (/^https?:\/\//i.test(text)) {
    try {
      return { kind: 'http', url: new URL(text).href };
    } catch {
      return undefined;
    }
  }
  return text.startsWith('/') ? { kind: 'exec', path: text } : undefined;
}

function leaveVars(ctx: RouteContext, d: HookDecision): void {
  ctx.vars.set('extscript_result', d.result);
  if (d.action === 'reject') {
    ctx.vars.set('extscript_status', d.status);
    ctx.vars.set('extscript_reason', d.reason);
  } else {
    ctx.vars.set('extscript_src', d.src);
    ctx.vars.set('extscript_dst', d.dst);
  }
  if (d.outcome.kind === 'ok' && d.outcome.reply.message !== undefined) {
    ctx.vars.set('extscript_message', d.outcome.reply.message);
  }
}

async function run(ctx: RouteContext): Promise<number> {
  const svc = extScriptService();
  const cp = identify(ctx);
  if (svc === undefined || cp === undefined || cp.external_script === undefined) return -2;
  const src = applyRules(cp.localization.src.rules, fromUser(ctx.request));
  const dst = applyRules(cp.localization.dst.rules, ruriUser(ctx.request));
  const d = await svc.execute(cp.external_script, cp.external_script_mode, {
    cp_id: cp.id,
    user_id: cp.user_id,
    src,
    dst,
  });
  leaveVars(ctx, d);
  if (ctx.isCanceled()) return -1;
  if (d.action === 'reject') {
    await ctx.reply(d.status, d.reason);
    return -1;
  }
  if (d.dst !== dst) {
    const ruri = withUser(ctx.msg.ruri, d.dst);
    if (ruri !== undefined) ctx.msg.setRuri(ruri);
  }
  if (d.src !== src || d.dst !== dst) {
    replaceIdentity(ctx, d.src, svc.updateTo && d.dst !== dst ? d.dst : undefined);
  }
  return 1;
}

async function runScript(
  ctx: RouteContext,
  script: string,
  src?: string,
  dst?: string,
  cpId?: number,
  userId?: number,
): Promise<number> {
  const svc = extScriptService();
  const target = typeof script === 'string' ? scriptOf(script) : undefined;
  if (svc === undefined || target === undefined) {
    ctx.log(
      'err',
      `extscript.run_script: expected an http(s):// URL or an absolute path, got ${String(script)}\n`,
    );
    return -5;
  }
  const d = await svc.execute(target, 'spawn', {
    cp_id: Number.isInteger(cpId) ? (cpId as number) : (identify(ctx)?.id ?? 0),
    user_id: Number.isInteger(userId) ? (userId as number) : 0,
    src: typeof src === 'string' ? src : fromUser(ctx.request),
    dst: typeof dst === 'string' ? dst : ruriUser(ctx.request),
  });
  leaveVars(ctx, d);
  if (d.action === 'reject') return -1;
  return d.result === 'timeout' ? -2 : d.result === 'failure' ? -3 : 1;
}

const commands: MiCommand[] = [
  {
    name: 'extscript_stats',
    aliases: ['extscript.stats'],
    help: 'External script statistics: calls, ok, rejects, timeouts, failures, latency histogram (ms), per connection point; optional cp_id.',
    recipes: [[], [{ name: 'cp_id', type: 'int' }]],
    handler: (params) => statsView(typeof params.cp_id === 'number' ? params.cp_id : undefined),
  },
];

const extscript = {
  name: 'extscript',
  summary: 'M4 external call-routing hook (HTTP or local script)',
  commands,
  functions: {
    run: def(
      '() => Promise<number>',
      run,
      REQUEST_ONLY,
      "Run the calling connection point's external script and apply its answer: 1 continue, -1 rejected (answered) or canceled, -2 no connection point / script.",
    ),
    run_script: def(
      '(script: string, src?: string, dst?: string, cpId?: number, userId?: number) => Promise<number>',
      runScript,
      REQUEST_ONLY,
      'Run an external script (URL or absolute path) without applying anything: 1 answered, -1 reject_call, -2 timeout, -3 failure; details in $var(extscript_result|src|dst|status|reason|message).',
    ),
  },
} satisfies ModuleDefinition;

export default extscript;
