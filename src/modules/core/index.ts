/**
 * Kamailio's core KEMI functions: the ones that live on KSR itself (KSR.is_INVITE(), KSR.seturi() ...).
 * Functions Kamailio declares as boolean return true/false (scripts write `if (KSR.is_INVITE())`);
 * the others return Kamailio's integer codes. See README.md.
 */
import type { RouteContext, RouteKind } from '../../proxy/context.ts';
import { ANY_ROUTE, type ModuleDefinition, REQUEST_ROUTES } from '../../script/module.ts';
import { isParseError } from '../../sip/errors.ts';
import { parseUri } from '../../sip/uri.ts';
import { forceRport } from '../../transport/via_stamp.ts';
import { B_NUM, B_STR, B0, def, N_STR, V0 } from '../shared/define.ts';
import { editRequestUri, setRequestUri } from '../shared/ruri.ts';
import { withHost, withUser } from '../shared/uri_edit.ts';
import * as flags from './flags.ts';
import { logAt, logWithLevel } from './log.ts';
import { isMethod, isMethodIn, methodTest } from './methods.ts';
import * as myself from './myself.ts';
import {
  setReserved,
  VAR_ADD_LOCAL_RPORT,
  VAR_ADVERTISED_ADDRESS,
  VAR_ADVERTISED_PORT,
  VAR_FORWARD_CLOSE,
  VAR_FORWARD_NO_CONNECT,
  VAR_REPLY_CLOSE,
  VAR_REPLY_NO_CONNECT,
} from './reserved_vars.ts';

/** Where a request can still be forwarded or answered statelessly. */
const FORWARD_ROUTES: readonly RouteKind[] = ['request', 'failure'];

function isProto(ctx: RouteContext, letters: string): boolean {
  if (typeof letters !== 'string') return false;
  const p = ctx.info.source.protocol;
  for (let i = 0; i < letters.length; i++) {
    switch (letters.charCodeAt(i) | 0x20) {
      case 0x65 /* e */:
        if (p === 'tls') return true;
        break;
      case 0x74 /* t */:
        if (p === 'tcp') return true;
        break;
      case 0x75 /* u */:
        if (p === 'udp') return true;
        break;
      case 0x76 /* v */:
        if (p === 'ws') return true;
        break;
      case 0x77 /* w */:
        if (p === 'wss') return true;
        break;
    }
  }
  return false;
}

function setdsturi(ctx: RouteContext, uri: string): boolean {
  if (typeof uri !== 'string' || isParseError(parseUri(uri))) return false;
  ctx.dstUri = uri;
  return true;
}

function setAdvertised(key: string, max: number): (ctx: RouteContext, value: string) => number {
  return (ctx, value) => {
    const v = String(value);
    // Kamailio refuses values that do not fit its static buffer; the same limits keep Via sane.
    if (v === '' || v.length >= max) return -1;
    setReserved(ctx, key, v);
    return 1;
  };
}

function setFlagVar(key: string): (ctx: RouteContext) => boolean {
  return (ctx) => {
    setReserved(ctx, key, 1);
    return true;
  };
}

const LOG = '(msg: string) => void';
const FLAG_SET = '(flag: number) => boolean';
const BIFLAG = '(flag: number, branch: number) => boolean';
const sourceIs =
  (p: string) =>
  (ctx: RouteContext): boolean =>
    ctx.info.source.protocol === p;

const core = {
  name: '',
  summary: 'Core functions on KSR itself: methods, URIs, flags, forwarding, logging',
  functions: {
    // ---- logging
    dbg: def(LOG, logAt('dbg')),
    info: def(LOG, logAt('info')),
    notice: def(LOG, logAt('notice')),
    warn: def(LOG, logAt('warn')),
    err: def(LOG, logAt('err')),
    crit: def(LOG, logAt('crit')),
    log: def(
      "(level: 'dbg' | 'info' | 'notice' | 'warn' | 'err' | 'crit' | 'alert' | string, msg: string) => void",
      logWithLevel,
      undefined,
      'Log at a level named by its first letter (w, i, n, e, c, a; anything else is debug).',
    ),

    // ---- methods (for a reply: the CSeq method)
    is_method: def(
      B_STR('method'),
      isMethod,
      undefined,
      'True when the method is `method` (or one of "A|B|C").',
    ),
    is_method_in: def(
      B_STR('letters'),
      isMethodIn,
      undefined,
      'True when a letter names the method: I A B C R M O S P N U K G T V D, E (PRACK), F (REFER).',
    ),
    is_INVITE: def(B0, methodTest('INVITE')),
    is_ACK: def(B0, methodTest('ACK')),
    is_BYE: def(B0, methodTest('BYE')),
    is_CANCEL: def(B0, methodTest('CANCEL')),
    is_REGISTER: def(B0, methodTest('REGISTER')),
    is_MESSAGE: def(B0, methodTest('MESSAGE')),
    is_SUBSCRIBE: def(B0, methodTest('SUBSCRIBE')),
    is_PUBLISH: def(B0, methodTest('PUBLISH')),
    is_NOTIFY: def(B0, methodTest('NOTIFY')),
    is_OPTIONS: def(B0, methodTest('OPTIONS')),
    is_INFO: def(B0, methodTest('INFO')),
    is_UPDATE: def(B0, methodTest('UPDATE')),
    is_PRACK: def(B0, methodTest('PRACK')),
    is_REFER: def(B0, methodTest('REFER')),
    is_KDMQ: def(B0, methodTest('KDMQ')),
    is_GET: def(B0, methodTest('GET')),
    is_POST: def(B0, methodTest('POST')),
    is_PUT: def(B0, methodTest('PUT')),
    is_DELETE: def(B0, methodTest('DELETE')),

    // ---- transport the message arrived on
    is_UDP: def(B0, sourceIs('udp')),
    is_TCP: def(B0, sourceIs('tcp')),
    is_TLS: def(B0, sourceIs('tls')),
    is_WS: def(B0, sourceIs('ws')),
    is_WSS: def(B0, sourceIs('wss')),
    is_WSX: def(B0, (ctx: RouteContext): boolean => sourceIs('ws')(ctx) || sourceIs('wss')(ctx)),
    is_SCTP: def(
      B0,
      (_ctx: RouteContext): boolean => false,
      undefined,
      'Always false: Junction has no SCTP.',
    ),
    is_proto: def(
      B_STR('letters'),
      isProto,
      undefined,
      'True when a letter names the transport: u t e (TLS) v (WS) w (WSS).',
    ),
    is_IPv4: def(B0, (ctx: RouteContext): boolean => ctx.info.listener.family === 4),
    is_IPv6: def(B0, (ctx: RouteContext): boolean => ctx.info.listener.family === 6),
    is_src_port: def(
      B_NUM('port'),
      (ctx: RouteContext, port: number): boolean => ctx.info.source.port === port,
    ),
    is_dst_port: def(
      B_NUM('port'),
      (ctx: RouteContext, port: number): boolean => ctx.info.listener.port === port,
    ),

    // ---- is this us?
    is_myself: def(B_STR('uri'), myself.isMyself),
    is_myself_ruri: def(B0, myself.isMyselfRuri),
    is_myself_furi: def(B0, myself.isMyselfFuri),
    is_myself_turi: def(B0, myself.isMyselfTuri),
    is_myself_duri: def(B0, myself.isMyselfDuri, undefined, 'True when $du is set and local.'),
    is_myself_nhuri: def(
      B0,
      myself.isMyselfNhuri,
      undefined,
      'True when the next hop ($du, else R-URI) is local.',
    ),
    is_myself_suri: def(B0, myself.isMyselfSuri),
    is_myself_srcip: def(B0, myself.isMyselfSrcip),

    // ---- Request-URI and destination URI
    seturi: def(
      B_STR('uri'),
      (ctx: RouteContext, uri: string): boolean => setRequestUri(ctx, uri),
      REQUEST_ROUTES,
    ),
    setuser: def(
      B_STR('user'),
      (ctx: RouteContext, user: string): boolean => editRequestUri(ctx, (u) => withUser(u, String(user))),
      REQUEST_ROUTES,
    ),
    sethost: def(
      B_STR('host'),
      (ctx: RouteContext, host: string): boolean => editRequestUri(ctx, (u) => withHost(u, String(host))),
      REQUEST_ROUTES,
    ),
    setdsturi: def(B_STR('uri'), setdsturi, REQUEST_ROUTES),
    resetdsturi: def(
      B0,
      (ctx: RouteContext): boolean => {
        ctx.dstUri = undefined;
        return true;
      },
      REQUEST_ROUTES,
    ),
    isdsturiset: def(B0, (ctx: RouteContext): boolean => ctx.dstUri !== undefined),

    // ---- stateless forwarding (I/O: Promises)
    forward: def(
      '() => Promise<number>',
      (ctx: RouteContext): Promise<number> => ctx.forwardStateless(),
      FORWARD_ROUTES,
    ),
    forward_uri: def(
      '(uri: string) => Promise<number>',
      (ctx: RouteContext, uri: string): Promise<number> =>
        typeof uri === 'string' && uri !== '' ? ctx.forwardStateless(uri) : ctx.forwardStateless(),
      FORWARD_ROUTES,
    ),

    // ---- flags
    setflag: def(FLAG_SET, flags.setflag),
    resetflag: def(FLAG_SET, flags.resetflag),
    isflagset: def(FLAG_SET, flags.isflagset),
    setbflag: def(FLAG_SET, flags.setbflag),
    resetbflag: def(FLAG_SET, flags.resetbflag),
    isbflagset: def(FLAG_SET, flags.isbflagset),
    setbiflag: def(BIFLAG, flags.setbiflag),
    resetbiflag: def(BIFLAG, flags.resetbiflag),
    isbiflagset: def(BIFLAG, flags.isbiflagset),
    setsflag: def(FLAG_SET, flags.setsflag, undefined, 'Set a script flag (process-wide).'),
    resetsflag: def(FLAG_SET, flags.resetsflag, undefined, 'Reset a script flag (process-wide).'),
    issflagset: def(FLAG_SET, flags.issflagset, undefined, 'Test a script flag (process-wide).'),

    // ---- how the message is sent
    force_rport: def(
      B0,
      (ctx: RouteContext): boolean => {
        ctx.forceRport = true;
        forceRport(ctx.msg, ctx.info);
        return true;
      },
      REQUEST_ROUTES,
    ),
    add_local_rport: def(B0, setFlagVar(VAR_ADD_LOCAL_RPORT), REQUEST_ROUTES),
    set_forward_close: def(B0, setFlagVar(VAR_FORWARD_CLOSE)),
    set_forward_no_connect: def(B0, setFlagVar(VAR_FORWARD_NO_CONNECT)),
    set_reply_close: def(B0, setFlagVar(VAR_REPLY_CLOSE)),
    set_reply_no_connect: def(B0, setFlagVar(VAR_REPLY_NO_CONNECT)),
    set_advertised_address: def(N_STR('addr'), setAdvertised(VAR_ADVERTISED_ADDRESS, 128)),
    set_advertised_port: def(N_STR('port'), setAdvertised(VAR_ADVERTISED_PORT, 8)),
    set_drop: def(
      V0,
      (ctx: RouteContext): void => {
        ctx.dropped = true;
      },
      ANY_ROUTE,
    ),
  },
} satisfies ModuleDefinition;

export default core;
