/**
 * Setting the Request-URI (KSR.seturi / setuser / sethost, $ru / $rU / $rd / $rp = ...), shared by
 * the core and pv modules so both behave the same.
 */
import type { RouteContext } from '../../proxy/context.ts';
import { isParseError } from '../../sip/errors.ts';
import { parseUri } from '../../sip/uri.ts';

/**
 * Set the Request-URI of the request being routed. In a branch route the change goes to that
 * branch's edit list only (Kamailio: branch_route changes are per branch), so reads of $ru there
 * still show the transaction's R-URI. A URI that does not parse is refused: it would make the
 * forwarded request unparseable downstream.
 */
export function setRequestUri(ctx: RouteContext, uri: string): boolean {
  const msg = ctx.msg;
  if (!msg.isRequest || typeof uri !== 'string' || isParseError(parseUri(uri))) return false;
  if (msg.editTarget !== null) msg.setRuri(uri, msg.editTarget);
  else msg.setRuri(uri);
  return true;
}

/** Apply `edit` to the current R-URI and set the result; false when there is none or it fails. */
export function editRequestUri(ctx: RouteContext, edit: (uri: string) => string | undefined): boolean {
  if (!ctx.msg.isRequest) return false;
  const next = edit(ctx.msg.ruri);
  return next !== undefined && setRequestUri(ctx, next);
}
