/**
 * KSR.corex: append_branch (a new destination for t_relay's fork) and small message tests.
 */
import type { BranchTarget, RouteContext } from '../../proxy/context.ts';
import type { ModuleDefinition } from '../../script/module.ts';
import { isParseError } from '../../sip/errors.ts';
import { isSipUri, parseUri } from '../../sip/uri.ts';
import { def, N0, REQUEST_FAILURE } from '../shared/define.ts';

const ret = (b: boolean): number => (b ? 1 : -1);

/** q as a number 0..1 ("0.5" or 0.5; Kamailio also accepts 0..1000 as thousandths). */
function qValue(q: unknown): number | undefined | null {
  if (q === undefined || q === null || q === '') return undefined;
  const n = typeof q === 'number' ? q : Number(q);
  if (!Number.isFinite(n) || n < 0) return null;
  if (n <= 1) return n;
  return n <= 1000 ? n / 1000 : null;
}

/**
 * append_branch([uri[, q]]): add a branch. Without a URI the branch is the current R-URI and $du
 * (Kamailio's use: keep it as one destination before rewriting the R-URI for another). The branch
 * gets the current branch flags. t_relay sends to the R-URI and every appended branch.
 */
export function appendBranch(ctx: RouteContext, uri?: string, q?: string | number): number {
  let target: BranchTarget;
  if (uri === undefined || uri === null || uri === '') {
    if (!ctx.msg.isRequest) return -1;
    target = { uri: ctx.msg.ruri };
    if (ctx.dstUri !== undefined) target.dstUri = ctx.dstUri;
  } else {
    if (typeof uri !== 'string' || isParseError(parseUri(uri))) {
      ctx.log('err', `append_branch: invalid URI ${String(uri)}`);
      return -1;
    }
    target = { uri };
  }
  const qv = qValue(q);
  if (qv === null) {
    ctx.log('err', `append_branch: invalid q ${String(q)}`);
    return -1;
  }
  if (qv !== undefined) target.q = qv;
  if (ctx.bflags !== 0) target.flags = ctx.bflags;
  ctx.branches.push(target);
  return 1;
}

function hasRuriUser(ctx: RouteContext): number {
  if (!ctx.msg.isRequest) return -1;
  const u = ctx.msg.requestUri();
  return ret(!isParseError(u) && isSipUri(u) && u.user !== undefined && u.user !== '');
}

const corex = {
  name: 'corex',
  summary: 'Branches and small message tests',
  functions: {
    append_branch: def(
      '(uri?: string, q?: string | number) => number',
      appendBranch,
      REQUEST_FAILURE,
      'Add a branch: this URI (q 0..1), or the current R-URI and $du when no URI is given.',
    ),
    append_branch_uri: def(
      '(uri: string) => number',
      (ctx: RouteContext, uri: string): number => appendBranch(ctx, uri),
      REQUEST_FAILURE,
    ),
    append_branch_uri_q: def(
      '(uri: string, q: string) => number',
      (ctx: RouteContext, uri: string, q: string): number => appendBranch(ctx, uri, q),
      REQUEST_FAILURE,
    ),
    has_user_agent: def(N0, (ctx: RouteContext): number => ret(ctx.msg.userAgent !== undefined)),
    has_ruri_user: def(N0, hasRuriUser),
  },
} satisfies ModuleDefinition;

export default corex;
