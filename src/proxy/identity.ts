/**
 * From / To user replacement with automatic restore — Kamailio's `uac_replace_from` /
 * `uac_replace_to` with `restore_mode=auto`. Toward the next hop the initial request carries new
 * From (and P-Asserted-Identity) and To users; the originals travel in a Record-Route parameter
 * (`;jid=`), so that every in-dialog request is rewritten the same way downstream and restored
 * upstream, and every response goes back with the From and To the request arrived with. Both
 * phones keep their own view of the dialog.
 */
import { isParseError } from '../sip/errors.ts';
import { H } from '../sip/header_names.ts';
import type { SipMessage } from '../sip/message.ts';
import { escapeUser, formatUri, isSipUri, parseUri, uriUser } from '../sip/uri.ts';
import type { RouteContext } from './context.ts';
import { looseRouteCallbacks } from './routing.ts';
import type { RelayState } from './script_context.ts';

/** The Record-Route parameter holding the original and new users. */
export const IDENTITY_RR_PARAM = 'jid';

interface Identity {
  /** From user: as received, as sent. */
  readonly fo: string;
  readonly fn: string;
  /** To user: as received, as sent. */
  readonly to: string;
  readonly tn: string;
}

function encode(id: Identity): string {
  return Buffer.from([id.fo, id.fn, id.to, id.tn].join('\0'), 'utf8').toString('base64url');
}

function decode(v: string): Identity | undefined {
  const parts = Buffer.from(v, 'base64url').toString('utf8').split('\0');
  if (parts.length !== 4) return undefined;
  const [fo, fn, to, tn] = parts as [string, string, string, string];
  return { fo, fn, to, tn };
}

/** The user part (unescaped) of a sip/sips/tel URI in a header value, '' when none. */
export function userOf(value: string): string {
  const u = parseUri(uriTextOf(value));
  return isParseError(u) ? '' : (uriUser(u) ?? '');
}

/** The URI inside `<…>`, or the addr-spec up to its header parameters. */
function uriTextOf(value: string): string {
  const lt = value.indexOf('<');
  if (lt >= 0) {
    const gt = value.indexOf('>', lt + 1);
    return gt > lt ? value.slice(lt + 1, gt) : value;
  }
  const semi = value.indexOf(';');
  return (semi < 0 ? value : value.slice(0, semi)).trim();
}

/**
 * The header value with its URI's user replaced (`user` unescaped: escaped for a sip/sips user
 * part; a tel number as given); unchanged when impossible.
 */
export function withUserInValue(value: string, user: string): string {
  const uri = uriTextOf(value);
  const u = parseUri(uri);
  if (isParseError(u)) return value;
  let next: string;
  if (isSipUri(u)) {
    if (u.user === undefined) return value;
    next = formatUri({ ...u, user: escapeUser(user) });
  } else if (u.scheme === 'tel' && 'number' in u) {
    next = `tel:${user}${u.params.toString()}`;
  } else return value;
  const at = value.indexOf(uri);
  return value.slice(0, at) + next + value.slice(at + uri.length);
}

function setUser(msg: SipMessage, id: number, user: string): void {
  for (let i = msg.findHeader(id); i >= 0; i = msg.findHeader(id, i + 1)) {
    const v = msg.headerValue(i);
    if (userOf(v) !== user) msg.replaceHeaderValue(i, withUserInValue(v, user));
  }
}

function stateOf(ctx: RouteContext): RelayState | undefined {
  return (ctx as RouteContext & { state?: RelayState }).state;
}

/**
 * Responses go back with the From and To their request arrived with (the To tag of the response
 * kept): what the other side changed in them is invisible to this side.
 */
export function restoreResponseIdentity(res: SipMessage, req: SipMessage): void {
  const f = res.findHeader(H.FROM);
  const rf = req.findHeader(H.FROM);
  if (f >= 0 && rf >= 0) {
    const want = req.headerValue(rf);
    if (res.headerValue(f) !== want) res.replaceHeaderValue(f, want);
  }
  const t = res.findHeader(H.TO);
  const rt = req.findHeader(H.TO);
  if (t >= 0 && rt >= 0) {
    const tag = res.toTag;
    const base = req.headerValue(rt);
    const want = req.toTag !== undefined || tag === undefined ? base : `${base};tag=${tag}`;
    if (res.headerValue(t) !== want) res.replaceHeaderValue(t, want);
  }
}

function armResponseRestore(ctx: RouteContext): void {
  const state = stateOf(ctx);
  if (state === undefined) return;
  const req = ctx.request;
  state.fixResponse = (res) => restoreResponseIdentity(res, req);
}

/**
 * Replace the From user (and P-Asserted-Identity users) and the To user of an initial request
 * toward the next hop, restoring them on responses and in-dialog requests (record-routes the
 * request). Called again (failure route, next termination point) it replaces the previous choice.
 * `undefined` keeps a user as received.
 */
export function replaceIdentity(
  ctx: RouteContext,
  fromUser: string | undefined,
  toUser: string | undefined,
): number {
  const req = ctx.request;
  if (!req.isRequest || req.toTag !== undefined) return -1;
  const fo = userOf(req.getHeader('From') ?? '');
  const to = userOf(req.getHeader('To') ?? '');
  const id: Identity = { fo, fn: fromUser ?? fo, to, tn: toUser ?? to };
  setUser(req, H.FROM, id.fn);
  setUser(req, H.P_ASSERTED_IDENTITY, id.fn);
  setUser(req, H.TO, id.tn);
  ctx.recordRoute();
  const state = stateOf(ctx);
  const rr = state?.recordRoute;
  if (rr !== undefined) {
    const marker = `;${IDENTITY_RR_PARAM}=`;
    const at = rr.params.indexOf(marker);
    if (at >= 0) {
      const end = rr.params.indexOf(';', at + 1);
      rr.params = rr.params.slice(0, at) + (end < 0 ? '' : rr.params.slice(end));
    }
    if (id.fo !== id.fn || id.to !== id.tn) rr.params += `${marker}${encode(id)}`;
  }
  armResponseRestore(ctx);
  return 1;
}

/** After loose_route(): rewrite an in-dialog request of a dialog whose identities were replaced. */
function onLooseRoute(ctx: RouteContext, params: { get(name: string): string | undefined }): void {
  const v = params.get(IDENTITY_RR_PARAM);
  if (v === undefined || v === '') return;
  const id = decode(v);
  if (id === undefined) return;
  const req = ctx.request;
  const ftag = params.get('ftag');
  const downstream = ftag === undefined || ftag === '' || ftag === req.fromTag;
  if (downstream) {
    setUser(req, H.FROM, id.fn);
    setUser(req, H.TO, id.tn);
  } else {
    setUser(req, H.FROM, id.to);
    setUser(req, H.TO, id.fo);
  }
  armResponseRestore(ctx);
}

looseRouteCallbacks.push(onLooseRoute);
