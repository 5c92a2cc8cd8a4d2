/**
 * Reading our own Route entry of an in-dialog request (check_route_param, is_direction,
 * next_hop_route). Route headers are read as received, so these work before or after
 * loose_route() removed the entry from the outgoing request.
 */
import type { RouteContext } from '../../proxy/context.ts';
import { isParseError } from '../../sip/errors.ts';
import type { NameAddr } from '../../sip/types.ts';
import { isSipUri } from '../../sip/uri.ts';

function routes(ctx: RouteContext): NameAddr[] {
  const r = ctx.request.routes();
  return isParseError(r) ? [] : r;
}

/** The first Route entry that points at us (the one Record-Route put there), undefined when none. */
export function localRoute(ctx: RouteContext): NameAddr | undefined {
  for (const r of routes(ctx)) if (ctx.isMyselfParsed(r.uri)) return r;
  return undefined;
}

/**
 * check_route_param(text): 1 when our Route entry's parameters contain `text`. Kamailio takes a
 * regular expression; Junction matches a plain substring (no regex per message), which is what
 * scripts use it for ("nat=yes").
 */
export function checkRouteParam(ctx: RouteContext, text: string): number {
  if (typeof text !== 'string' || text === '') return -1;
  const r = localRoute(ctx);
  if (r === undefined || !isSipUri(r.uri)) return -1;
  return paramsInclude(r.uriText, text) ? 1 : -1;
}

/**
 * Whether the parameters of a SIP URI as written (`;lr;ftag=x;nat=yes`: from the first `;` after
 * the user part up to the headers) contain `text`: a search in place, no string built per call.
 */
export function paramsInclude(uriText: string, text: string): boolean {
  const at = uriText.lastIndexOf('@');
  const semi = uriText.indexOf(';', at + 1);
  if (semi < 0) return false;
  let end = uriText.indexOf('?', semi);
  if (end < 0) end = uriText.length;
  const i = uriText.indexOf(text, semi);
  return i >= 0 && i + text.length <= end;
}

/**
 * is_direction("downstream" | "upstream"): the `ftag` Record-Route put in our Route entry is the
 * From tag of the dialog's initial request; equal to this request's From tag means the request
 * flows the same way (downstream). Without an ftag the request counts as downstream, as in Kamailio.
 */
export function isDirection(ctx: RouteContext, dir: string): number {
  if (dir !== 'downstream' && dir !== 'upstream') {
    ctx.log('err', `is_direction: unknown direction ${String(dir)}`);
    return -1;
  }
  const r = localRoute(ctx);
  const ftag = r !== undefined && isSipUri(r.uri) ? r.uri.params.get('ftag') : undefined;
  const downstream = ftag === undefined || ftag === '' || ftag === ctx.request.fromTag;
  return downstream === (dir === 'downstream') ? 1 : -1;
}

/** next_hop_route(): 1 when a Route entry other than ours remains (the request goes on by Route). */
export function nextHopRoute(ctx: RouteContext): number {
  for (const r of routes(ctx)) if (!ctx.isMyselfParsed(r.uri)) return 1;
  return -1;
}
