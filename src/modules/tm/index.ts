/**
 * KSR.tm: stateful relaying and the transaction's route handlers. Junction's transaction layer
 * runs before the script: it creates the server transaction, absorbs retransmissions and matches
 * CANCEL to its INVITE, so the script only ever sees new requests (see README.md).
 */
import type { RouteContext, RouteKind } from '../../proxy/context.ts';
import { ANY_ROUTE, type ModuleDefinition, REQUEST_ROUTES } from '../../script/module.ts';
import { isIPv4 } from '../../sip/uri.ts';
import { def, N0, REPLY_ROUTES, REQUEST_FAILURE, REQUEST_ONLY } from '../shared/define.ts';
import { replyWith } from '../sl/index.ts';
import { isSet, onRoute } from './handlers.ts';
import { checkStatus, statusOf, timedOut } from './status.ts';

/** Where t_on_* may arm a handler (Kamailio: request, failure, branch and onreply routes). */
const HANDLER_ROUTES: readonly RouteKind[] = ['request', 'failure', 'branch', 'onreply'];
const FAILURE_ROUTES: readonly RouteKind[] = ['failure', 'branch_failure'];
const PROTOCOLS = new Set(['udp', 'tcp', 'tls', 'ws', 'wss']);

/**
 * t_check_trans: 1 when a transaction exists for the request. Retransmissions never reach the
 * script (the transaction layer absorbs them) and a CANCEL that matched its INVITE was handled
 * there too, so a CANCEL seen here matched nothing: -1, and the default script lets the core
 * answer it 481.
 */
function checkTrans(ctx: RouteContext): number {
  if (ctx.request.method === 'CANCEL') return -1;
  return ctx.hasTransaction() ? 1 : -1;
}

/** `sip:host:port;transport=proto` for t_relay_to_*; undefined when a part is invalid. */
function proxyUri(proto: string, host: string, port: number | string): string | undefined {
  const p = String(proto).toLowerCase();
  const n = typeof port === 'number' ? port : Number(port);
  if (!PROTOCOLS.has(p) || typeof host !== 'string' || host === '') return undefined;
  if (!Number.isInteger(n) || n <= 0 || n > 65535) return undefined;
  const h = host.includes(':') && !isIPv4(host) && host.charCodeAt(0) !== 0x5b ? `[${host}]` : host;
  return `sip:${h}:${n}${p === 'udp' ? '' : `;transport=${p}`}`;
}

function relayTo(ctx: RouteContext, uri: string | undefined): Promise<number> {
  if (uri === undefined) {
    ctx.log('err', 't_relay_to: invalid protocol, host or port');
    return Promise.resolve(-1);
  }
  return ctx.relay({ dstUri: uri });
}

/** "udp:1.2.3.4:5060" → its parts (IPv6 hosts in brackets). */
function splitProxy(proxy: string): [string, string, string] | undefined {
  if (typeof proxy !== 'string') return undefined;
  const first = proxy.indexOf(':');
  const last = proxy.lastIndexOf(':');
  if (first <= 0 || last <= first) return undefined;
  let host = proxy.slice(first + 1, last);
  if (host.charCodeAt(0) === 0x5b && host.charCodeAt(host.length - 1) === 0x5d) host = host.slice(1, -1);
  return [proxy.slice(0, first), host, proxy.slice(last + 1)];
}

function setFr(ctx: RouteContext, frInv: number, fr: number): number {
  const a = Number(frInv);
  const b = Number(fr);
  if (!Number.isFinite(a) || !Number.isFinite(b) || a < 0 || b < 0) return -1;
  ctx.setFinalResponseTimers(Math.trunc(a), Math.trunc(b));
  return 1;
}

const HANDLER = '(handler: RouteHandler) => number';
const REPLY = '(code: number, reason: string) => number | Promise<number>';

/** t_reply: the transaction is kept to absorb retransmissions (Timer J). */
function sendStateful(ctx: RouteContext, code: number | string, reason?: string): number | Promise<number> {
  return replyWith(ctx, code, reason, true);
}

const tm = {
  name: 'tm',
  summary: 'Stateful relay, transaction route handlers, transaction tests',
  functions: {
    t_relay: def(
      '() => Promise<number>',
      (ctx: RouteContext): Promise<number> => ctx.relay(),
      REQUEST_FAILURE,
    ),
    t_relay_to_proto_addr: def(
      '(proto: string, host: string, port: number) => Promise<number>',
      (ctx: RouteContext, proto: string, host: string, port: number): Promise<number> =>
        relayTo(ctx, proxyUri(proto, host, port)),
      REQUEST_FAILURE,
      'Relay statefully to this address (udp, tcp, tls, ws, wss) instead of $du / the R-URI.',
    ),
    t_relay_to_proxy: def(
      '(proxy: string) => Promise<number>',
      (ctx: RouteContext, proxy: string): Promise<number> => {
        const parts = splitProxy(proxy);
        return relayTo(ctx, parts === undefined ? undefined : proxyUri(parts[0], parts[1], parts[2]));
      },
      REQUEST_FAILURE,
      'Relay statefully to "proto:host:port".',
    ),
    t_on_branch: def(HANDLER, onRoute('branch'), HANDLER_ROUTES),
    t_on_reply: def(HANDLER, onRoute('onreply'), HANDLER_ROUTES),
    t_on_failure: def(HANDLER, onRoute('failure'), HANDLER_ROUTES),
    t_on_branch_failure: def(HANDLER, onRoute('branch_failure'), HANDLER_ROUTES),
    t_is_set: def(
      "(target: 'branch_route' | 'failure_route' | 'onreply_route' | 'branch_failure_route') => number",
      isSet,
      ANY_ROUTE,
    ),
    t_reply: def(REPLY, sendStateful, REPLY_ROUTES, 'Reply statefully.'),
    t_send_reply: def(
      REPLY,
      sendStateful,
      REPLY_ROUTES,
      'Reply statefully (the transaction already exists).',
    ),
    t_check_trans: def(N0, checkTrans, REQUEST_ONLY),
    t_newtran: def(
      N0,
      (ctx: RouteContext): number => (ctx.keepTransaction() ? 1 : -1),
      REQUEST_ONLY,
      '1: the transaction Junction opened before the script ran is kept: later replies are stateful (-1 for ACK and in stateless mode).',
    ),
    t_is_canceled: def(N0, (ctx: RouteContext): number => (ctx.isCanceled() ? 1 : -1), ANY_ROUTE),
    t_set_fr: def('(frInvMs: number, frMs: number) => number', setFr, REQUEST_ROUTES),
    t_set_fr_inv: def(
      '(frInvMs: number) => number',
      (ctx: RouteContext, frInv: number): number => setFr(ctx, frInv, 0),
      REQUEST_ROUTES,
      'Per-transaction INVITE final response timer, ms.',
    ),
    t_check_status: def('(regex: string) => number', checkStatus, ANY_ROUTE),
    t_get_status_code: def(N0, (ctx: RouteContext): number => statusOf(ctx) || -1, ANY_ROUTE),
    t_get_branch_index: def(N0, (ctx: RouteContext): number => ctx.branchIndex, ANY_ROUTE),
    t_branch_timeout: def(
      N0,
      timedOut,
      FAILURE_ROUTES,
      '1 when the failed branch got no final reply (a local 408).',
    ),
    t_any_timeout: def(
      N0,
      timedOut,
      ANY_ROUTE,
      '1 when the winning status is a local 408 (see the tm README).',
    ),
  },
} satisfies ModuleDefinition;

export default tm;
