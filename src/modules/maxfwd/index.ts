/**
 * KSR.maxfwd: Max-Forwards (RFC 3261 §16.3 step 3, §16.6 step 3) with Kamailio's return codes.
 */
import type { RouteContext } from '../../proxy/context.ts';
import type { ModuleDefinition } from '../../script/module.ts';
import { def, N_NUM, REQUEST_ONLY } from '../shared/define.ts';

/**
 * Kamailio's max_limit parameter (default 70): a decremented value above it is lowered to it, so a
 * request arriving with Max-Forwards 255 leaves with 70.
 */
export const maxfwdConfig = { maxLimit: 70 };

function validLimit(limit: unknown): limit is number {
  return typeof limit === 'number' && Number.isInteger(limit) && limit >= 0 && limit <= 255;
}

/**
 * process_maxfwd(limit): 2 when the header was absent and is added with `limit`; 1 when it was
 * decremented; -1 when it is 0 (the script answers 483 Too Many Hops); -2 on a bad argument.
 * Repeated calls give the same result (the edit replaces the previous one).
 */
function processMaxfwd(ctx: RouteContext, limit: number): number {
  const msg = ctx.msg;
  if (!validLimit(limit)) {
    ctx.log('err', `process_maxfwd: limit must be 0-255, got ${String(limit)}`);
    return -2;
  }
  const mf = msg.maxForwards;
  if (mf < 0) {
    msg.setMaxForwards(limit);
    msg.maxfwdWritten = limit;
    return 2;
  }
  if (mf === 0) return -1;
  const next = Math.min(mf - 1, maxfwdConfig.maxLimit);
  msg.setMaxForwards(next);
  msg.maxfwdWritten = next;
  return 1;
}

/**
 * is_maxfwd_lt(limit): 1 when Max-Forwards (as process_maxfwd left it, else as received) is below
 * `limit`; -1 when not; -2 when there is no Max-Forwards; -3 on a bad argument.
 */
function isMaxfwdLt(ctx: RouteContext, limit: number): number {
  if (!validLimit(limit)) return -3;
  // The value process_maxfwd wrote, else the received one (reads of the header show the received one).
  const w = ctx.msg.maxfwdWritten;
  const v = w >= 0 ? w : ctx.msg.maxForwards;
  if (v < 0) return -2;
  return v < limit ? 1 : -1;
}

const maxfwd = {
  name: 'maxfwd',
  summary: 'Max-Forwards processing',
  functions: {
    process_maxfwd: def(N_NUM('limit'), processMaxfwd, REQUEST_ONLY),
    is_maxfwd_lt: def(N_NUM('limit'), isMaxfwdLt, REQUEST_ONLY),
  },
} satisfies ModuleDefinition;

export default maxfwd;
