/**
 * t_on_branch / t_on_reply / t_on_failure / t_on_branch_failure and t_is_set. The handler is stored
 * with ctx.setHandler; t_is_set reads it back with ctx.getHandler when the context offers it, else
 * from what this module recorded for the transaction's request.
 */
import type { RouteContext, RouteHandler } from '../../proxy/context.ts';
import type { SipMessage } from '../../sip/message.ts';
import { extras, type HandlerKind } from '../shared/context_extras.ts';

const recorded = new WeakMap<SipMessage, Map<HandlerKind, RouteHandler | undefined>>();

/** A function, or the name of an exported function; '' / null / undefined reset the handler. */
export function onRoute(
  kind: HandlerKind,
): (ctx: RouteContext, handler: RouteHandler | null | undefined) => number {
  return (ctx, handler) => {
    let h: RouteHandler | undefined;
    if (handler === undefined || handler === null || handler === '') h = undefined;
    else if (typeof handler === 'string' || typeof handler === 'function') h = handler;
    else {
      ctx.log(
        'err',
        `t_on_${kind === 'onreply' ? 'reply' : kind}: the handler must be a function or a function name`,
      );
      return -1;
    }
    ctx.setHandler(kind, h);
    // The proxy's contexts answer t_is_set themselves; record only for those that cannot.
    if (extras(ctx).getHandler !== undefined) return 1;
    let m = recorded.get(ctx.request);
    if (m === undefined) {
      m = new Map();
      recorded.set(ctx.request, m);
    }
    m.set(kind, h);
    return 1;
  };
}

const TARGETS: Readonly<Record<string, HandlerKind>> = {
  branch_route: 'branch',
  failure_route: 'failure',
  onreply_route: 'onreply',
  branch_failure_route: 'branch_failure',
};

/** t_is_set("failure_route"): 1 when a handler of that kind is set, -1 when not (or unknown target). */
export function isSet(ctx: RouteContext, target: string): number {
  const kind = TARGETS[typeof target === 'string' ? target : ''];
  if (kind === undefined) {
    ctx.log('err', `t_is_set: unknown target ${String(target)}`);
    return -1;
  }
  const get = extras(ctx).getHandler;
  const h = get !== undefined ? get.call(ctx, kind) : recorded.get(ctx.request)?.get(kind);
  return h === undefined ? -1 : 1;
}
