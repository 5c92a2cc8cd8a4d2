/**
 * Reply status tests of the failure and onreply routes (t_check_status, t_get_status_code,
 * t_branch_timeout, t_any_timeout).
 */
import type { RouteContext } from '../../proxy/context.ts';
import { scriptRegex } from '../shared/regex_cache.ts';

/** The status the route is about: the received reply (onreply) or the winning one (failure); 0 when none. */
export function statusOf(ctx: RouteContext): number {
  return ctx.msg.isRequest ? ctx.replyCode : ctx.msg.status;
}

export function checkStatus(ctx: RouteContext, expr: string): number {
  const status = statusOf(ctx);
  if (status === 0 || typeof expr !== 'string') return -1;
  // Kamailio's argument is a POSIX extended regular expression matched unanchored against the code.
  const re = scriptRegex(expr);
  if (re === null) {
    ctx.log('err', `t_check_status: invalid regular expression ${JSON.stringify(expr)}`);
    return -1;
  }
  return re.test(String(status)) ? 1 : -1;
}

/**
 * A branch (the one a failure route runs for) ended by timeout. Junction fails a branch that got no
 * final reply with a local 408, so this is "the winning status is 408" — a 408 actually received
 * from downstream counts as a timeout too (see README).
 */
export function timedOut(ctx: RouteContext): number {
  return ctx.replyCode === 408 ? 1 : -1;
}
