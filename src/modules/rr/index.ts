/**
 * KSR.rr: Record-Route for initial requests and loose routing of in-dialog requests (RFC 3261
 * §16.6 step 4, §16.12). ctx.recordRoute asks the proxy to add our Record-Route (with `;lr` and
 * `;ftag=`) to every branch it sends, double when the request leaves by another transport or
 * address family; ctx.looseRoute consumes our Route entries and sets $du. See README.md.
 */
import type { RouteContext } from '../../proxy/context.ts';
import { ANY_ROUTE, type ModuleDefinition, REQUEST_ROUTES } from '../../script/module.ts';
import { extras } from '../shared/context_extras.ts';
import { def, N_STR, N0, REQUEST_FAILURE, REQUEST_ONLY } from '../shared/define.ts';
import { checkRouteParam, isDirection, nextHopRoute } from './route_params.ts';

/** `;name=value` form: Kamailio documents the leading `;`, scripts often forget it. */
function param(p: string): string {
  return p === '' || p.charCodeAt(0) === 0x3b ? p : `;${p}`;
}

/**
 * Per transaction (fields of its request): whether record-routing was asked for, and add_rr_param()
 * parameters given before it was (Kamailio keeps them until record_route() runs; they must not
 * turn it on).
 */
function recordRoute(ctx: RouteContext, params: string, preset?: string): number {
  const s = ctx.request;
  const all = s.rrPending + param(params);
  s.rrPending = '';
  s.rrRequested = true;
  return ctx.recordRoute(all === '' ? undefined : all, preset);
}

function addRrParam(ctx: RouteContext, p: string): number {
  if (typeof p !== 'string' || p === '' || p === ';') return -1;
  const s = ctx.request;
  if (s.rrRequested) return ctx.recordRoute(param(p));
  s.rrPending += param(p);
  return 1;
}

function sipPreset(addr: string): string {
  return addr.startsWith('sip:') || addr.startsWith('sips:') ? addr : `sip:${addr}`;
}

/**
 * record_route_preset(outbound, inbound): two Record-Route entries written by the script (double
 * record-routing done by hand). They go into the request as edits, with `;r2=on;lr;ftag=`, outbound
 * on top — the proxy's own Record-Route is not used for these.
 */
function presetTwo(ctx: RouteContext, addr1: string, addr2: string): number {
  const s = ctx.request;
  const extra = s.rrPending;
  s.rrPending = '';
  s.rrRequested = true;
  const ftag = ctx.request.fromTag === undefined ? '' : `;ftag=${ctx.request.fromTag}`;
  // prependHeader puts each line on top: the inbound entry first, then the outbound one above it.
  ctx.msg.prependHeader('Record-Route', `<${sipPreset(addr2)};r2=on;lr${ftag}${extra}>`);
  ctx.msg.prependHeader('Record-Route', `<${sipPreset(addr1)};r2=on;lr${ftag}${extra}>`);
  return 1;
}

function removeRecordRoute(ctx: RouteContext): number {
  const s = ctx.request;
  s.rrPending = '';
  const undo = extras(ctx).removeRecordRoute;
  if (undo !== undefined) {
    undo.call(ctx);
    s.rrRequested = false;
    return 1;
  }
  if (!s.rrRequested) return 1;
  ctx.log('err', 'remove_record_route: this proxy cannot undo record_route() yet');
  return -1;
}

const rr = {
  name: 'rr',
  summary: 'Record-Route and loose routing',
  functions: {
    record_route: def(N0, (ctx: RouteContext): number => recordRoute(ctx, ''), REQUEST_ROUTES),
    record_route_params: def(
      N_STR('params'),
      (ctx: RouteContext, params: string): number =>
        recordRoute(ctx, typeof params === 'string' ? params : ''),
      REQUEST_ROUTES,
    ),
    record_route_preset_one: def(
      N_STR('addr'),
      (ctx: RouteContext, addr: string): number => recordRoute(ctx, '', addr),
      REQUEST_ROUTES,
      'Record-Route with this address ("host:port" or a SIP URI) instead of the interface address.',
    ),
    record_route_preset: def(
      '(addr1: string, addr2?: string) => number',
      (ctx: RouteContext, addr1: string, addr2?: string): number => {
        if (typeof addr1 !== 'string' || addr1 === '') return -1;
        if (typeof addr2 === 'string' && addr2 !== '') return presetTwo(ctx, addr1, addr2);
        return recordRoute(ctx, '', addr1);
      },
      REQUEST_ROUTES,
      'Record-Route with this address; with two, addr1 is the outbound and addr2 the inbound entry.',
    ),
    record_route_advertised_address: def(
      N_STR('addr'),
      (ctx: RouteContext, addr: string): number =>
        typeof addr === 'string' && addr !== '' ? recordRoute(ctx, '', addr) : -1,
      REQUEST_ROUTES,
    ),
    add_rr_param: def(N_STR('param'), addRrParam, REQUEST_ROUTES),
    remove_record_route: def(N0, removeRecordRoute, REQUEST_FAILURE),
    loose_route: def(N0, (ctx: RouteContext): number => ctx.looseRoute(), REQUEST_ONLY),
    loose_route_preloaded: def(
      N0,
      (ctx: RouteContext): number => (ctx.request.toTag !== undefined ? -1 : ctx.looseRoute()),
      REQUEST_ONLY,
      'loose_route() for requests outside a dialog (pre-loaded Route set); -1 for in-dialog requests.',
    ),
    next_hop_route: def(N0, nextHopRoute, REQUEST_ONLY, '1 when a Route entry other than ours is present.'),
    check_route_param: def(
      N_STR('text'),
      checkRouteParam,
      REQUEST_ROUTES,
      '1 when the parameters of our Route entry contain `text` (a substring; Kamailio takes a regex).',
    ),
    is_direction: def("(dir: 'downstream' | 'upstream') => number", isDirection, ANY_ROUTE),
  },
} satisfies ModuleDefinition;

export default rr;
