/**
 * Record-Route and loose routing (RFC 3261 §16.4, §16.6 step 4, §16.12; RFC 3261 §12.2.1.1 for
 * strict-router compatibility), with Kamailio's rr conventions: `;lr`, `;ftag=<From tag>` for
 * is_direction, and double Record-Route (`;r2=on`) when a request leaves through another interface.
 */

import { quote } from '../sip/chars.ts';
import type { EditList } from '../sip/edits.ts';
import { isParseError } from '../sip/errors.ts';
import { H } from '../sip/header_names.ts';
import type { SipMessage } from '../sip/message.ts';
import type { NameAddr } from '../sip/types.ts';
import type { ListenerInfo } from '../transport/types.ts';
import type { LocalAddresses } from './myself.ts';

export interface RecordRouteRequest {
  /** Extra parameters added by add_rr_param / record_route(params), e.g. `;nat=yes`. */
  params: string;
  /** record_route_preset: the URI (or host:port) to use instead of the interface address. */
  preset: string | undefined;
}

function hostOf(listener: ListenerInfo): string {
  const h = listener.advertisedHost;
  return h.includes(':') && h.charCodeAt(0) !== 0x5b ? `[${h}]` : h;
}

/**
 * `sip:host:port;transport=x` for an interface (transport omitted for UDP). For a sips: request
 * (RFC 5630 §4: every hop secured) a TLS or WSS interface is recorded as `sips:` so in-dialog
 * requests keep the scheme: `sips:host:port` and `sips:host:port;transport=ws`.
 */
export function interfaceUri(listener: ListenerInfo, secure = false): string {
  const p = listener.protocol;
  if (secure && (p === 'tls' || p === 'wss'))
    return `sips:${hostOf(listener)}:${listener.advertisedPort}${p === 'wss' ? ';transport=ws' : ''}`;
  const transport = p === 'udp' ? '' : `;transport=${p}`;
  return `sip:${hostOf(listener)}:${listener.advertisedPort}${transport}`;
}

function isSips(uri: string): boolean {
  return uri.charCodeAt(4) === 0x3a /* : */ && uri.slice(0, 4).toLowerCase() === 'sips';
}

function rrValue(uri: string, fromTag: string | undefined, extra: string, r2: boolean): string {
  const ftag = fromTag === undefined ? '' : `;ftag=${fromTag}`;
  return `<${uri}${r2 ? ';r2=on' : ''};lr${ftag}${extra}>`;
}

/**
 * Add Record-Route to a branch. Same interface in and out: one entry. Different transport or
 * address family: two entries (outbound first, as the callee will route through it first).
 */
export function addRecordRoute(
  msg: SipMessage,
  rr: RecordRouteRequest,
  inbound: ListenerInfo,
  outbound: ListenerInfo,
  list: EditList,
): void {
  if (rr.preset !== undefined) {
    const uri =
      rr.preset.startsWith('sip:') || rr.preset.startsWith('sips:') ? rr.preset : `sip:${rr.preset}`;
    msg.prependHeader('Record-Route', rrValue(uri, msg.fromTag, rr.params, false), list);
    return;
  }
  const secure = isSips(msg.ruri);
  if (inbound.id === outbound.id) {
    msg.prependHeader(
      'Record-Route',
      rrValue(interfaceUri(inbound, secure), msg.fromTag, rr.params, false),
      list,
    );
    return;
  }
  // prependHeader puts each new line above the previous one: inbound first, then outbound on top.
  msg.prependHeader(
    'Record-Route',
    rrValue(interfaceUri(inbound, secure), msg.fromTag, rr.params, true),
    list,
  );
  msg.prependHeader(
    'Record-Route',
    rrValue(interfaceUri(outbound, secure), msg.fromTag, rr.params, true),
    list,
  );
}

/** Render a Route/Record-Route value back to text. */
export function formatNameAddr(na: NameAddr): string {
  const dn = na.displayName === undefined ? '' : `${quote(na.displayName)} `;
  return `${dn}<${na.uriText}>${na.params.toString()}`;
}

/** Replace every Route header with one line holding `values` (none: Route disappears). */
export function rewriteRoutes(msg: SipMessage, values: readonly string[], list?: EditList): void {
  const first = msg.findHeader(H.ROUTE);
  if (first < 0) return;
  if (values.length > 0) msg.insertHeaderBefore(first, 'Route', values.join(', '), list);
  for (let i = first; i >= 0; i = msg.findHeader(H.ROUTE, i + 1)) msg.removeHeader(i, list);
}

/**
 * Run after a successful loose_route() with the parameters of our Route entry (Kamailio's rr
 * callbacks): modules that stored dialog state in Record-Route parameters act on it here.
 */
export type LooseRouteCallback = (
  ctx: import('./context.ts').RouteContext,
  params: { get(name: string): string | undefined },
) => void;
export const looseRouteCallbacks: LooseRouteCallback[] = [];

export interface LooseRouteResult {
  /** Kamailio's return: 1 routed by Route headers, -1 none / not applicable. */
  code: number;
  /** Next hop when the remaining route set says where to go ($du). */
  dstUri: string | undefined;
  /** New Request-URI (strict-router compatibility). */
  ruri: string | undefined;
}

/** `;lr` and `;r2` are URI parameters (inside `<>`), not header parameters of the Route value. */
function uriParam(na: NameAddr, name: string): boolean {
  return 'params' in na.uri && na.uri.params.has(name);
}

const NONE: LooseRouteResult = { code: -1, dstUri: undefined, ruri: undefined };

/**
 * loose_route(): consume our own Route entries and say where the request goes next. The Route
 * entries are read as parsed (memoized on the message): their URIs are not parsed again, and the
 * remaining set is a range of them (no array copied per entry removed).
 */
export function looseRoute(msg: SipMessage, local: LocalAddresses): LooseRouteResult {
  const routes = msg.routes();
  if (isParseError(routes) || routes.length === 0) return NONE;
  let ruri: string | undefined;
  // The remaining route set: routes[start, end).
  let start = 0;
  let end = routes.length;
  // §16.4: a strict router before us put our Record-Route URI in the Request-URI.
  const reqUri = msg.requestUri();
  if (!isParseError(reqUri) && 'params' in reqUri && reqUri.params.has('lr') && local.isMyselfUri(msg.ruri)) {
    ruri = routes[end - 1].uriText;
    end--;
  }
  let removed = 0;
  if (start < end && local.isMyselfParsed(routes[start].uri)) {
    const wasR2 = uriParam(routes[start], 'r2');
    start++;
    removed = 1;
    // Double Record-Route: the second entry of the pair is ours too. One pair only: a further
    // entry of ours is a spiral through this proxy, routed (and scripted) as a hop of its own.
    if (wasR2 && start < end && local.isMyselfParsed(routes[start].uri)) {
      start++;
      removed = 2;
    }
  }
  if (removed === 0 && ruri === undefined) {
    // A preloaded route to someone else: send there, leave the Route set alone.
    return { code: 1, dstUri: routes[start].uriText, ruri: undefined };
  }
  // Work out the new Route set and Request-URI first, then edit the message once: two rewrites
  // of the Route lines would leave both inserted lines in the message.
  let newRuri = ruri;
  let dstUri: string | undefined;
  const next = start < end ? routes[start] : undefined;
  // A next hop without ;lr is a strict router (§16.6 step 6-7): it must receive the route as R-URI.
  const strict = next !== undefined && 'params' in next.uri && !uriParam(next, 'lr');
  if (strict) newRuri = next.uriText;
  else dstUri = next?.uriText;
  if (removed === 1 && newRuri === undefined) msg.removeFirstRoute();
  else {
    const routeSet = routes.slice(strict ? start + 1 : start, end).map(formatNameAddr);
    if (strict) routeSet.push(`<${ruri ?? msg.ruri}>`);
    rewriteRoutes(msg, routeSet);
  }
  if (newRuri !== undefined) msg.setRuri(newRuri);
  return { code: 1, dstUri, ruri: newRuri };
}
