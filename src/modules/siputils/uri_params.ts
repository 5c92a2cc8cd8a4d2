/**
 * Request-URI parameter tests and edits (uri_param, uri_param_rm, add_uri_param) and tel2sip.
 */
import type { RouteContext } from '../../proxy/context.ts';
import { isParseError } from '../../sip/errors.ts';
import { ParamList } from '../../sip/params.ts';
import type { SipUri } from '../../sip/types.ts';
import { formatUri, isSipUri, isTelUri, parseUri } from '../../sip/uri.ts';
import { editRequestUri } from '../shared/ruri.ts';
import { withParam } from '../shared/uri_edit.ts';

function ruriSip(ctx: RouteContext): SipUri | undefined {
  if (!ctx.msg.isRequest) return undefined;
  const u = ctx.msg.requestUri();
  return isParseError(u) || !isSipUri(u) ? undefined : u;
}

/**
 * uri_param(name[, value]): 1 when the R-URI has the parameter (with exactly this value when one is
 * given; a flag parameter has the value ""), else -1.
 */
export function uriParam(ctx: RouteContext, name: string, value?: string): number {
  const u = ruriSip(ctx);
  if (u === undefined || typeof name !== 'string' || name === '') return -1;
  const v = u.params.get(name);
  if (v === undefined) return -1;
  if (value === undefined || value === null) return 1;
  return v === String(value) ? 1 : -1;
}

export function addUriParam(ctx: RouteContext, param: string): number {
  if (typeof param !== 'string' || param === '') return -1;
  return editRequestUri(ctx, (u) => withParam(u, param)) ? 1 : -1;
}

/** uri_param_rm(name): remove every parameter called `name` from the R-URI. */
export function uriParamRm(ctx: RouteContext, name: string): number {
  if (typeof name !== 'string' || name === '') return -1;
  const lower = name.toLowerCase();
  const ok = editRequestUri(ctx, (text) => {
    const u = parseUri(text);
    if (isParseError(u) || !isSipUri(u)) return undefined;
    const names: string[] = [];
    const values: Array<string | undefined> = [];
    for (const [n, v] of u.params.entries()) {
      if (n.toLowerCase() === lower) continue;
      names.push(n);
      values.push(v);
    }
    return formatUri({ ...u, params: new ParamList(names, values) });
  });
  return ok ? 1 : -1;
}

function isVisualSeparator(c: number): boolean {
  return c === 0x2d || c === 0x2e || c === 0x28 || c === 0x29;
}

/**
 * tel2sip(uri, hostpart): `tel:+358-555-1234567;postd=pp22` with host `foo.bar` becomes
 * `sip:+3585551234567;postd=pp22@foo.bar;user=phone` (RFC 3261 §19.1.6). A URI that is not tel:
 * is returned unchanged; undefined when it does not parse.
 */
export function tel2sipUri(uri: string, hostpart: string): string | undefined {
  const u = parseUri(uri);
  if (isParseError(u)) return undefined;
  if (!isTelUri(u)) return uri;
  let number = '';
  for (let i = 0; i < u.number.length; i++) {
    if (!isVisualSeparator(u.number.charCodeAt(i))) number += u.number[i];
  }
  let host = hostpart;
  if (host.startsWith('sip:')) host = host.slice(4);
  else if (host.startsWith('sips:')) host = host.slice(5);
  const out = `sip:${number}${u.params.toString()}@${host};user=phone`;
  return isParseError(parseUri(out)) ? undefined : out;
}
