/**
 * Pseudo-variables read from the message and its context ($ru, $fu, $ci, $si ...), with the
 * setters Kamailio has for them ($ru, $rU, $rd, $rp, $du, flags). Each getter parses only what it
 * needs, through SipMessage's memoized accessors.
 */
import type { RouteContext } from '../../proxy/context.ts';
import { isParseError } from '../../sip/errors.ts';
import type { NameAddr, Uri } from '../../sip/types.ts';
import { isSipUri, isTelUri, parseUri } from '../../sip/uri.ts';
import { getScriptFlags, setScriptFlags } from '../core/flags.ts';
import { sourceUri } from '../core/myself.ts';
import { credentialParam, splitUsername } from '../shared/credentials.ts';
import { editRequestUri, setRequestUri } from '../shared/ruri.ts';
import { withHost, withPort, withUser } from '../shared/uri_edit.ts';
import type { PvValue, SimplePv } from './types.ts';

function str(v: string | undefined): PvValue {
  return v === undefined ? null : v;
}

function toInt(v: PvValue): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? Math.trunc(v) : undefined;
  if (typeof v !== 'string' || v === '') return undefined;
  const n = Number(v);
  return Number.isInteger(n) ? n : undefined;
}

// ---------------------------------------------------------------- URI parts

function parsed(text: string | undefined): Uri | undefined {
  if (text === undefined) return undefined;
  const u = parseUri(text);
  return isParseError(u) ? undefined : u;
}

/** User part as written (escaped), or the number of a tel: URI. */
function userOf(u: Uri | undefined): PvValue {
  if (u === undefined) return null;
  if (isSipUri(u)) return str(u.user);
  if (isTelUri(u)) return u.number;
  return null;
}

function hostOf(u: Uri | undefined): PvValue {
  return u !== undefined && isSipUri(u) ? u.host : null;
}

/** Port, or the scheme's default when the URI has none (Kamailio answers 5060 for an absent port). */
function portOf(u: Uri | undefined): PvValue {
  if (u === undefined || !isSipUri(u)) return null;
  return u.port ?? (u.scheme === 'sips' ? 5061 : 5060);
}

/** Transport: the `transport` parameter, else udp (tls for sips). */
function transportOf(u: Uri | undefined): PvValue {
  if (u === undefined || !isSipUri(u)) return null;
  const tp = u.params.get('transport');
  if (tp !== undefined && tp !== '') return tp.toLowerCase();
  return u.scheme === 'sips' ? 'tls' : 'udp';
}

function ruriText(ctx: RouteContext): string | undefined {
  return ctx.msg.isRequest ? ctx.msg.ruri : undefined;
}

function ruri(ctx: RouteContext): Uri | undefined {
  if (!ctx.msg.isRequest) return undefined;
  const u = ctx.msg.requestUri();
  return isParseError(u) ? undefined : u;
}

function ouri(ctx: RouteContext): Uri | undefined {
  return ctx.msg.isRequest ? parsed(ctx.msg.originalRuri) : undefined;
}

// ---------------------------------------------------------------- From / To

function nameAddr(ctx: RouteContext, which: 'from' | 'to'): NameAddr | undefined {
  const na = which === 'from' ? ctx.msg.from() : ctx.msg.to();
  return isParseError(na) ? undefined : na;
}

function naUri(which: 'from' | 'to'): SimplePv {
  return { get: (ctx) => str(nameAddr(ctx, which)?.uriText) };
}

function naPart(which: 'from' | 'to', part: (u: Uri | undefined) => PvValue): SimplePv {
  return { get: (ctx) => part(nameAddr(ctx, which)?.uri) };
}

// ---------------------------------------------------------------- setters

function setRuri(ctx: RouteContext, v: PvValue): boolean {
  return typeof v === 'string' && setRequestUri(ctx, v);
}

function setRuriUser(ctx: RouteContext, v: PvValue): boolean {
  return editRequestUri(ctx, (u) => withUser(u, v === null ? '' : String(v)));
}

function setRuriHost(ctx: RouteContext, v: PvValue): boolean {
  return v !== null && editRequestUri(ctx, (u) => withHost(u, String(v)));
}

function setRuriPort(ctx: RouteContext, v: PvValue): boolean {
  const port = v === null ? undefined : toInt(v);
  if (v !== null && port === undefined) return false;
  return editRequestUri(ctx, (u) => withPort(u, port));
}

function setDstUri(ctx: RouteContext, v: PvValue): boolean {
  if (v === null || v === '') {
    ctx.dstUri = undefined;
    return true;
  }
  const text = String(v);
  if (parsed(text) === undefined) return false;
  ctx.dstUri = text;
  return true;
}

function intSetter(
  apply: (ctx: RouteContext, n: number) => void,
): (ctx: RouteContext, v: PvValue) => boolean {
  return (ctx, v) => {
    const n = v === null ? 0 : toInt(v);
    if (n === undefined) return false;
    apply(ctx, n >>> 0);
    return true;
  };
}

// ---------------------------------------------------------------- credentials

function authUsername(ctx: RouteContext): string | undefined {
  return credentialParam(ctx.msg, 'username');
}

function authParam(name: string): SimplePv {
  return { get: (ctx) => str(credentialParam(ctx.msg, name)) };
}

// ---------------------------------------------------------------- the table

const RU: SimplePv = { get: (ctx) => str(ruriText(ctx)), set: setRuri };
const RU_USER: SimplePv = { get: (ctx) => userOf(ruri(ctx)), set: setRuriUser };
const RU_HOST: SimplePv = { get: (ctx) => hostOf(ruri(ctx)), set: setRuriHost };
const DU: SimplePv = { get: (ctx) => str(ctx.dstUri), set: setDstUri };
const FU = naUri('from');
const FUSER = naPart('from', userOf);
const FHOST = naPart('from', hostOf);
const TU = naUri('to');
const TUSER = naPart('to', userOf);
const THOST = naPart('to', hostOf);
const SRC_IP: SimplePv = { get: (ctx) => ctx.info.source.address };
const PROTO: SimplePv = { get: (ctx) => ctx.info.source.protocol };

export const MESSAGE_PVS: Readonly<Record<string, SimplePv>> = {
  // Request-URI (reads reflect earlier changes; writes edit the request)
  ru: RU,
  ruri: RU,
  rU: RU_USER,
  'ruri.user': RU_USER,
  rd: RU_HOST,
  'ruri.domain': RU_HOST,
  rp: { get: (ctx) => portOf(ruri(ctx)), set: setRuriPort },
  rP: { get: (ctx) => transportOf(ruri(ctx)) },
  rz: { get: (ctx) => ruri(ctx)?.scheme ?? null },
  rv: { get: () => 'SIP/2.0' },
  // Original Request-URI (as received)
  ou: { get: (ctx) => (ctx.msg.isRequest ? ctx.msg.originalRuri : null) },
  ouri: { get: (ctx) => (ctx.msg.isRequest ? ctx.msg.originalRuri : null) },
  oU: { get: (ctx) => userOf(ouri(ctx)) },
  od: { get: (ctx) => hostOf(ouri(ctx)) },
  op: { get: (ctx) => portOf(ouri(ctx)) },
  oP: { get: (ctx) => transportOf(ouri(ctx)) },
  // Destination URI (outbound proxy)
  du: DU,
  duri: DU,
  dd: { get: (ctx) => hostOf(parsed(ctx.dstUri)) },
  dp: { get: (ctx) => portOf(parsed(ctx.dstUri)) },
  dP: { get: (ctx) => transportOf(parsed(ctx.dstUri)) },
  // From / To (read-only: Kamailio changes them through uac)
  fu: FU,
  from: FU,
  fU: FUSER,
  'from.user': FUSER,
  fd: FHOST,
  'from.domain': FHOST,
  fn: { get: (ctx) => str(nameAddr(ctx, 'from')?.displayName) },
  ft: { get: (ctx) => str(ctx.msg.fromTag) },
  tu: TU,
  to: TU,
  tU: TUSER,
  'to.user': TUSER,
  td: THOST,
  'to.domain': THOST,
  tn: { get: (ctx) => str(nameAddr(ctx, 'to')?.displayName) },
  tt: { get: (ctx) => str(ctx.msg.toTag) },
  // Other headers
  ci: { get: (ctx) => ctx.msg.callId },
  cs: { get: (ctx) => ctx.msg.cseq },
  ct: { get: (ctx) => str(ctx.msg.getHeader('Contact')) },
  cT: { get: (ctx) => str(ctx.msg.getHeader('Content-Type')) },
  cl: { get: (ctx) => (ctx.msg.contentLength >= 0 ? ctx.msg.contentLength : null) },
  ua: { get: (ctx) => str(ctx.msg.userAgent) },
  ai: {
    get: (ctx) => {
      const p = ctx.msg.pAssertedIdentities();
      return isParseError(p) || p.length === 0 ? null : p[0].uriText;
    },
  },
  rt: {
    get: (ctx) => {
      const r = ctx.msg.referTo();
      return r === undefined || isParseError(r) ? null : r.uriText;
    },
  },
  // Start line and body
  rm: { get: (ctx) => ctx.msg.method },
  rs: { get: (ctx) => (ctx.msg.isRequest ? null : ctx.msg.status) },
  rr: { get: (ctx) => (ctx.msg.isRequest ? null : ctx.msg.reason) },
  mt: { get: (ctx) => (ctx.msg.isRequest ? 1 : 2) },
  ml: { get: (ctx) => ctx.msg.end - ctx.msg.start },
  mb: { get: (ctx) => ctx.msg.raw.toString('utf8') },
  rb: { get: (ctx) => ctx.msg.body.toString('utf8') },
  bs: { get: (ctx) => ctx.msg.bodyLength },
  // Where the message came from and where it arrived
  si: SRC_IP,
  src_ip: SRC_IP,
  sp: { get: (ctx) => ctx.info.source.port },
  su: { get: (ctx) => sourceUri(ctx) },
  sut: {
    get: (ctx) => {
      const s = sourceUri(ctx);
      return ctx.info.source.protocol === 'udp' ? `${s};transport=udp` : s;
    },
  },
  Ri: { get: (ctx) => ctx.info.listener.address },
  Rp: { get: (ctx) => ctx.info.listener.port },
  RAi: { get: (ctx) => ctx.info.listener.advertisedHost },
  RAp: { get: (ctx) => ctx.info.listener.advertisedPort },
  pr: PROTO,
  proto: PROTO,
  conid: { get: (ctx) => (ctx.info.connectionId > 0 ? ctx.info.connectionId : null) },
  // Digest credentials (Authorization / Proxy-Authorization)
  au: { get: (ctx) => str(mapDefined(authUsername(ctx), (u) => splitUsername(u)[0])) },
  ad: { get: (ctx) => str(mapDefined(authUsername(ctx), (u) => splitUsername(u)[1])) },
  aU: { get: (ctx) => str(authUsername(ctx)) },
  ar: authParam('realm'),
  adu: authParam('uri'),
  aa: authParam('algorithm'),
  adn: authParam('nonce'),
  adc: authParam('cnonce'),
  adr: authParam('response'),
  ado: authParam('opaque'),
  // Flags
  mf: {
    get: (ctx) => ctx.flags,
    set: intSetter((ctx, n) => {
      ctx.flags = n;
    }),
  },
  bf: {
    get: (ctx) => ctx.bflags,
    set: intSetter((ctx, n) => {
      ctx.bflags = n;
    }),
  },
  sf: { get: () => getScriptFlags(), set: intSetter((_ctx, n) => setScriptFlags(n)) },
  // Transaction (tmx)
  T_branch_idx: { get: (ctx) => ctx.branchIndex },
  T_reply_code: { get: (ctx) => ctx.replyCode },
  // Constants and process
  null: { get: () => null },
  true: { get: () => 1 },
  pp: { get: () => process.pid },
};

function mapDefined<T, R>(v: T | undefined, f: (v: T) => R | undefined): R | undefined {
  return v === undefined ? undefined : f(v);
}
