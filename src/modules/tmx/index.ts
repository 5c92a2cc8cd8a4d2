/**
 * KSR.tmx: transaction helpers. Junction's transaction layer runs before the script, which changes
 * what some of them mean (see README.md).
 */
import type { RouteContext, RouteKind } from '../../proxy/context.ts';
import type { ModuleDefinition } from '../../script/module.ts';
import { def, N0, REQUEST_ONLY } from '../shared/define.ts';

function kindIs(...kinds: RouteKind[]): (ctx: RouteContext) => number {
  return (ctx) => (kinds.includes(ctx.kind) ? 1 : -1);
}

const tmx = {
  name: 'tmx',
  summary: 'Transaction helpers: route-kind tests, retransmission pre-check, flag flush',
  functions: {
    t_precheck_trans: def(
      N0,
      (_ctx: RouteContext): number => -1,
      REQUEST_ONLY,
      'Always -1: retransmissions are absorbed before the script runs.',
    ),
    t_flush_flags: def(
      N0,
      (_ctx: RouteContext): number => 1,
      undefined,
      'No-op (1): message flags are already the transaction flags.',
    ),
    t_is_request_route: def(N0, kindIs('request')),
    t_is_failure_route: def(N0, kindIs('failure')),
    t_is_branch_route: def(N0, kindIs('branch')),
    t_is_reply_route: def(N0, kindIs('reply', 'onreply')),
  },
} satisfies ModuleDefinition;

export default tmx;
