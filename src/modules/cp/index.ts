/**
 * KSR.cp: M4 connection points and termination points — the softswitch call flow for routing
 * scripts (`await KSR.cp.route()`), and the cp_list / tp_list / cp_reload management commands.
 */
import type { MiCommand } from '../../mi/command.ts';
import { MiError } from '../../mi/command.ts';
import type { RouteContext } from '../../proxy/context.ts';
import { routingPoints } from '../../routing_points/points.ts';
import { cpViews, tpViews } from '../../routing_points/views.ts';
import type { ModuleDefinition } from '../../script/module.ts';
import { def, N0, REQUEST_ONLY } from '../shared/define.ts';
import { tpCalls } from './dialog_hooks.ts';
import { failover, identify, routeCall } from './flow.ts';
import { reloadCallRouting } from './reload.ts';

const commands: MiCommand[] = [
  {
    name: 'cp_list',
    aliases: ['cp.list'],
    help: 'M4 connection points in force (match, external script, localization, termination points).',
    recipes: [[]],
    handler: () => cpViews(routingPoints()),
  },
  {
    name: 'tp_list',
    aliases: ['tp.list'],
    help: 'M4 termination points in force, with their OPTIONS state and calls in progress.',
    recipes: [[]],
    handler: () => tpViews(routingPoints(), tpCalls),
  },
  {
    name: 'cp_reload',
    aliases: ['cp.reload', 'tp_reload'],
    help: 'Re-read connection points, termination points and the external script settings from the config file.',
    recipes: [[]],
    mutating: true,
    handler: () => {
      const r = reloadCallRouting();
      if (!r.ok) throw new MiError(500, `config refused, nothing changed: ${r.errors.join('; ')}`);
      return { connection_points: r.connectionPoints, termination_points: r.terminationPoints };
    },
  },
];

const cp = {
  name: 'cp',
  summary: 'M4 connection points and termination points: the softswitch call flow',
  commands,
  functions: {
    enabled: def(
      N0,
      (): number => (routingPoints().enabled ? 1 : -1),
      undefined,
      '1 when connection points are configured.',
    ),
    identify: def(
      N0,
      (ctx: RouteContext): number => identify(ctx)?.id ?? -1,
      REQUEST_ONLY,
      'The id of the connection point the request comes from (source IP, port, transport), -1 when none.',
    ),
    route: def(
      '() => Promise<number>',
      (ctx: RouteContext): Promise<number> => routeCall(ctx),
      REQUEST_ONLY,
      'The M4 flow for an initial INVITE: connection point (403 when unknown), localization, external script, termination points with failover. 1 relayed, -1 answered.',
    ),
    failover: def(
      '() => Promise<number>',
      failover,
      ['failure'],
      'In a failure route: the next termination point when the failure allows it (408, 5xx, capacity).',
    ),
  },
} satisfies ModuleDefinition;

export default cp;
