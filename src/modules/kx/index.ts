/**
 * KSR.kx: Kamailio's kemix getters — direct accessors for values scripts read all the time,
 * without a pseudo-variable name. Each reads the same value as the matching PV (resolved once, at
 * load); `gete_*` return '' and `getw_*` return '<null>' where `get_*` returns null.
 */
import type { RouteContext } from '../../proxy/context.ts';
import type { ModuleDefinition } from '../../script/module.ts';
import { isParseError } from '../../sip/errors.ts';
import { type PvValue, pvSpec } from '../pv/pseudo_variables.ts';
import { type Defined, def, NULL_PRINT } from '../shared/define.ts';

function pvGetter(name: string): (ctx: RouteContext) => PvValue {
  const spec = pvSpec(name);
  if (spec === undefined) throw new Error(`kx: unknown pseudo-variable ${name}`);
  return (ctx) => spec.get(ctx);
}

function asString(v: PvValue): string | null {
  return v === null ? null : String(v);
}

type Get = (ctx: RouteContext) => string | null;

type GetS = (ctx: RouteContext) => string;
type Family<S extends string> = Record<`get_${S}`, Defined<Get>> &
  Record<`gete_${S}` | `getw_${S}`, Defined<GetS>>;

/** get_X, gete_X and getw_X for one string value. */
function family<S extends string>(suffix: S, get: Get): Family<S> {
  return {
    [`get_${suffix}`]: def('() => string | null', get),
    [`gete_${suffix}`]: def('() => string', (ctx: RouteContext): string => get(ctx) ?? ''),
    [`getw_${suffix}`]: def('() => string', (ctx: RouteContext): string => get(ctx) ?? NULL_PRINT),
  } as Family<S>;
}

function str(name: string): Get {
  const g = pvGetter(name);
  return (ctx) => asString(g(ctx));
}

function int(name: string, none: number): (ctx: RouteContext) => number {
  const g = pvGetter(name);
  return (ctx) => {
    const v = g(ctx);
    return typeof v === 'number' ? v : none;
  };
}

/** Kamailio's PROTO_* numbers. */
const PROTO_IDS: Readonly<Record<string, number>> = { udp: 1, tcp: 2, tls: 3, sctp: 4, ws: 5, wss: 6 };

function firstContactUri(ctx: RouteContext): string | null {
  const c = ctx.msg.contacts();
  if (c === undefined || isParseError(c)) return null;
  if (c.star) return '*';
  return c.contacts.length === 0 ? null : c.contacts[0].uriText;
}

function envInt(name: string): number {
  const v = typeof name === 'string' ? process.env[name] : undefined;
  const n = v === undefined ? Number.NaN : Number.parseInt(v, 10);
  return Number.isNaN(n) ? 0 : n;
}

const S0 = '() => string | null';
const N0 = '() => number';

const kx = {
  name: 'kx',
  summary: 'Direct getters for common message values (Kamailio kemix)',
  functions: {
    get_ruri: def(S0, str('$ru')),
    ...family('ruser', str('$rU')),
    ...family('rhost', str('$rd')),
    get_rport: def(
      N0,
      int('$rp', -1),
      undefined,
      'Port of the R-URI (its default when absent); -1 for a reply.',
    ),
    get_ouri: def(S0, str('$ou')),
    get_furi: def(S0, str('$fu')),
    ...family('fuser', str('$fU')),
    ...family('fhost', str('$fd')),
    get_turi: def(S0, str('$tu')),
    ...family('tuser', str('$tU')),
    ...family('thost', str('$td')),
    ...family('duri', str('$du')),
    ...family('cturi', firstContactUri),
    get_nhuri: def(
      S0,
      (ctx: RouteContext): string | null => ctx.dstUri ?? (ctx.msg.isRequest ? ctx.msg.ruri : null),
    ),
    get_srcuri: def(S0, str('$su')),
    ...family('ua', str('$ua')),
    get_srcip: def(S0, str('$si')),
    get_srcport: def(N0, int('$sp', -1)),
    get_rcvip: def(S0, str('$Ri')),
    get_rcvport: def(N0, int('$Rp', -1)),
    get_rcvadvip: def(S0, str('$RAi')),
    get_rcvadvport: def(S0, str('$RAp')),
    get_proto: def(S0, str('$pr'), undefined, 'Transport the message arrived on: udp, tcp, tls, ws, wss.'),
    get_protoid: def(N0, (ctx: RouteContext): number => PROTO_IDS[ctx.info.source.protocol] ?? 0),
    ...family('au', str('$au')),
    get_method: def(S0, str('$rm')),
    get_status: def(N0, (ctx: RouteContext): number => (ctx.msg.isRequest ? -1 : ctx.msg.status)),
    gets_status: def('() => string', (ctx: RouteContext): string =>
      ctx.msg.isRequest ? '' : String(ctx.msg.status),
    ),
    ...family('body', str('$rb')),
    get_bodylen: def(N0, (ctx: RouteContext): number => ctx.msg.bodyLength),
    get_timestamp: def(N0, (_ctx: RouteContext): number => Math.floor(Date.now() / 1000)),
    get_callid: def(S0, str('$ci')),
    get_conid: def(N0, int('$conid', -1)),
    get_msgbuf: def(S0, str('$mb')),
    get_msglen: def(N0, int('$ml', 0)),
    get_msgtype: def(N0, int('$mt', 0), undefined, '1 for a request, 2 for a reply.'),
    get_def: def(
      '(name: string) => string | null',
      (_ctx: RouteContext, _name: string): string | null => null,
      undefined,
      'Always null: Junction has no #!define (use environment variables: get_env).',
    ),
    get_defn: def('(name: string) => number', (_ctx: RouteContext, _name: string): number => 0),
    ifdef: def('(name: string) => boolean', (_ctx: RouteContext, _name: string): boolean => false),
    ifndef: def('(name: string) => boolean', (_ctx: RouteContext, _name: string): boolean => true),
    get_env: def('(name: string) => string | null', (_ctx: RouteContext, name: string): string | null =>
      typeof name === 'string' ? (process.env[name] ?? null) : null,
    ),
    get_envn: def('(name: string) => number', (_ctx: RouteContext, name: string): number => envInt(name)),
  },
} satisfies ModuleDefinition;

export default kx;
