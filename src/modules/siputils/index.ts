/**
 * KSR.siputils: message and URI tests (has_totag, is_request, uri_param, is_user ...), R-URI
 * parameter edits, tel2sip and options_reply. Integer returns: 1 true, -1 false.
 */
import type { RouteContext } from '../../proxy/context.ts';
import { ANY_ROUTE, type ModuleDefinition, REQUEST_ROUTES } from '../../script/module.ts';
import { isParseError } from '../../sip/errors.ts';
import type { Uri } from '../../sip/types.ts';
import { isSipUri, isTelUri, parseUri, uriEquals } from '../../sip/uri.ts';
import { pvSet } from '../pv/pseudo_variables.ts';
import { credentialParam, splitUsername } from '../shared/credentials.ts';
import { def, N_STR, N0, REQUEST_ONLY } from '../shared/define.ts';
import { sendReply } from '../sl/index.ts';
import { isAlphanum, isAlphanumex, isE164, isNumeric, isTelNumber } from './strings.ts';
import { addUriParam, tel2sipUri, uriParam, uriParamRm } from './uri_params.ts';

/** Module parameters for options_reply (Kamailio's siputils options_* parameters). */
export const siputilsConfig = {
  accept: '*/*',
  acceptEncoding: '',
  acceptLanguage: 'en',
  supported: '',
  /** Junction forwards any method; these are the ones it understands itself. */
  allow:
    'INVITE, ACK, BYE, CANCEL, OPTIONS, REGISTER, PRACK, UPDATE, INFO, SUBSCRIBE, NOTIFY, REFER, MESSAGE, PUBLISH',
};

const ret = (b: boolean): number => (b ? 1 : -1);

function parsed(text: string): Uri | undefined {
  if (typeof text !== 'string') return undefined;
  const u = parseUri(text);
  return isParseError(u) ? undefined : u;
}

/** The user part of a sip/sips URI (unescaped as written) or a tel: number. */
function userOf(u: Uri | undefined): string | undefined {
  if (u === undefined) return undefined;
  if (isSipUri(u)) return u.user;
  return isTelUri(u) ? u.number : undefined;
}

/** One Via for a request (it comes straight from the UA), two for a reply (we are its UA's proxy). */
function isFirstHop(ctx: RouteContext): number {
  const v = ctx.msg.vias();
  if (isParseError(v)) return -1;
  return ret(v.length === (ctx.msg.isRequest ? 1 : 2));
}

function isSupported(ctx: RouteContext, option: string): number {
  const s = ctx.msg.supported();
  if (s === undefined || isParseError(s) || typeof option !== 'string') return -1;
  const o = option.toLowerCase();
  return ret(s.some((x) => x.toLowerCase() === o));
}

/** cmp_aor: same user, host and port (the address-of-record parts). */
function cmpAor(a: string, b: string): number {
  const x = parsed(a);
  const y = parsed(b);
  if (x === undefined || y === undefined || !isSipUri(x) || !isSipUri(y)) return -1;
  return ret(x.user === y.user && x.host.toLowerCase() === y.host.toLowerCase() && x.port === y.port);
}

/**
 * options_reply(): answer an OPTIONS addressed to the server itself (no user in the R-URI) with
 * 200 and the capabilities; -1 for anything else, which the script routes on.
 */
function optionsReply(ctx: RouteContext): number | Promise<number> {
  const msg = ctx.msg;
  if (!msg.isRequest || msg.method !== 'OPTIONS') return -1;
  const u = msg.requestUri();
  if (isParseError(u) || !isSipUri(u) || u.user !== undefined) return -1;
  const c = siputilsConfig;
  ctx.replyHeaders.push(`Allow: ${c.allow}\r\n`, `Accept: ${c.accept}\r\n`);
  if (c.acceptEncoding !== '') ctx.replyHeaders.push(`Accept-Encoding: ${c.acceptEncoding}\r\n`);
  if (c.acceptLanguage !== '') ctx.replyHeaders.push(`Accept-Language: ${c.acceptLanguage}\r\n`);
  if (c.supported !== '') ctx.replyHeaders.push(`Supported: ${c.supported}\r\n`);
  return sendReply(ctx, 200, 'OK');
}

const STR_TEST = (arg: string): string => `(${arg}: string) => number`;

const siputils = {
  name: 'siputils',
  summary: 'SIP utilities: message and URI tests, R-URI parameters, tel2sip, options_reply',
  functions: {
    has_totag: def(N0, (ctx: RouteContext): number => ret(ctx.msg.toTag !== undefined)),
    is_request: def(N0, (ctx: RouteContext): number => ret(ctx.msg.isRequest)),
    is_reply: def(N0, (ctx: RouteContext): number => ret(!ctx.msg.isRequest)),
    is_first_hop: def(N0, isFirstHop),
    is_supported: def(STR_TEST('option'), isSupported),
    is_user: def(
      STR_TEST('user'),
      (ctx: RouteContext, user: string): number => {
        const u = credentialParam(ctx.msg, 'username');
        return ret(u !== undefined && splitUsername(u)[0] === user);
      },
      undefined,
      '1 when the user in the digest credentials is `user`.',
    ),
    is_uri: def(STR_TEST('uri'), (_ctx: RouteContext, uri: string): number => ret(parsed(uri) !== undefined)),
    is_uri_user_e164: def(STR_TEST('uri'), (_ctx: RouteContext, uri: string): number => {
      const user = userOf(parsed(uri));
      return ret(user !== undefined && isE164(user));
    }),
    is_e164: def(STR_TEST('s'), (_ctx: RouteContext, s: string): number => ret(isE164(s))),
    is_numeric: def(STR_TEST('s'), (_ctx: RouteContext, s: string): number => ret(isNumeric(s))),
    is_alphanum: def(STR_TEST('s'), (_ctx: RouteContext, s: string): number => ret(isAlphanum(s))),
    is_alphanumex: def(
      '(s: string, extra: string) => number',
      (_ctx: RouteContext, s: string, extra: string): number => ret(isAlphanumex(s, extra)),
    ),
    is_tel_number: def(STR_TEST('s'), (_ctx: RouteContext, s: string): number => ret(isTelNumber(s))),
    uri_param: def(
      '(name: string, value?: string) => number',
      uriParam,
      undefined,
      '1 when the R-URI has the parameter (with this value when one is given).',
    ),
    uri_param_value: def('(name: string, value: string) => number', uriParam),
    uri_param_rm: def(N_STR('name'), uriParamRm, REQUEST_ROUTES),
    add_uri_param: def(N_STR('param'), addUriParam, REQUEST_ROUTES),
    tel2sip: def(
      '(uri: string, hostpart: string, pvname: string) => number',
      (ctx: RouteContext, uri: string, hostpart: string, pvname: string): number => {
        const out =
          typeof uri === 'string' && typeof hostpart === 'string' ? tel2sipUri(uri, hostpart) : undefined;
        return out !== undefined && pvSet(ctx, pvname, out) ? 1 : -1;
      },
      undefined,
      'Write to the PV the tel: URI turned into sip:number@hostpart;user=phone (other URIs unchanged).',
    ),
    cmp_uri: def(
      '(uri1: string, uri2: string) => number',
      (_ctx: RouteContext, a: string, b: string): number => {
        const x = parsed(a);
        const y = parsed(b);
        return ret(x !== undefined && y !== undefined && uriEquals(x, y));
      },
      ANY_ROUTE,
      '1 when the URIs are equal by RFC 3261 §19.1.4.',
    ),
    cmp_aor: def('(uri1: string, uri2: string) => number', (_ctx: RouteContext, a: string, b: string) =>
      cmpAor(a, b),
    ),
    options_reply: def('() => number | Promise<number>', optionsReply, REQUEST_ONLY),
  },
} satisfies ModuleDefinition;

export default siputils;
