/**
 * KSR.x.modf(fname, ...params): call a function by its kamailio.cfg name, with the string
 * parameters a cfg script would pass ("sl_send_reply", "404", "Not here"). Each cfg name maps to the
 * Junction function that implements it; the answer follows the cfg convention (booleans become
 * 1 / -1, functions without a result give 1).
 */
import type { RouteContext } from '../../proxy/context.ts';
import type { KsrFunction } from '../../script/module.ts';
import core from '../core/index.ts';
import corex from '../corex/index.ts';
import hdr from '../hdr/index.ts';
import maxfwd from '../maxfwd/index.ts';
import rr from '../rr/index.ts';
import sanity from '../sanity/index.ts';
import siputils from '../siputils/index.ts';
import sl from '../sl/index.ts';
import tm from '../tm/index.ts';

type Params = readonly string[];
type Entry = (ctx: RouteContext, p: Params) => unknown;

/** cfg parameters are strings; the KEMI functions take numbers where Kamailio's do. */
function num(v: string | undefined): number {
  return v === undefined || v === '' ? Number.NaN : Number(v);
}

function opt(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}

/** Run a KSR function as the registry would: refused (-1, logged) outside its route kinds. */
function run(name: string, f: KsrFunction, ctx: RouteContext, ...args: unknown[]): unknown {
  if (f.routes !== undefined && !f.routes.includes(ctx.kind)) {
    ctx.log('err', `modf: ${name}() cannot be used in this route (${ctx.kind})`);
    return -1;
  }
  return f.fn(ctx, ...args);
}

const C = core.functions;
const CX = corex.functions;
const H = hdr.functions;
const M = maxfwd.functions;
const R = rr.functions;
const S = sanity.functions;
const SU = siputils.functions;
const SL = sl.functions;
const T = tm.functions;

/** One cfg name whose parameters map one-to-one (strings) onto a KSR function. */
function same(name: string, f: KsrFunction): [string, Entry] {
  return [name, (ctx, p) => run(name, f, ctx, ...p)];
}

function numeric(name: string, f: KsrFunction): [string, Entry] {
  return [name, (ctx, p) => run(name, f, ctx, ...p.map(num))];
}

const maxfwdProcess: Entry = (ctx, p) => run('maxfwd_process', M.process_maxfwd, ctx, num(p[0]));

const TABLE = new Map<string, Entry>([
  // sl / tm replies
  ['sl_send_reply', (ctx, p) => run('sl_send_reply', SL.sl_send_reply, ctx, num(p[0]), p[1])],
  ['send_reply', (ctx, p) => run('send_reply', SL.send_reply, ctx, num(p[0]), p[1])],
  same('sl_reply_error', SL.sl_reply_error),
  ['t_reply', (ctx, p) => run('t_reply', T.t_reply, ctx, num(p[0]), p[1])],
  ['t_send_reply', (ctx, p) => run('t_send_reply', T.t_send_reply, ctx, num(p[0]), p[1])],
  // tm
  [
    't_relay',
    (ctx, p) =>
      p.length >= 2
        ? run('t_relay', T.t_relay_to_proto_addr, ctx, 'udp', p[0], num(p[1]))
        : run('t_relay', T.t_relay, ctx),
  ],
  same('t_relay_to_proxy', T.t_relay_to_proxy),
  same('t_on_branch', T.t_on_branch),
  same('t_on_reply', T.t_on_reply),
  same('t_on_failure', T.t_on_failure),
  same('t_on_branch_failure', T.t_on_branch_failure),
  same('t_check_trans', T.t_check_trans),
  same('t_newtran', T.t_newtran),
  same('t_is_canceled', T.t_is_canceled),
  same('t_check_status', T.t_check_status),
  same('t_is_set', T.t_is_set),
  numeric('t_set_fr', T.t_set_fr),
  same('t_branch_timeout', T.t_branch_timeout),
  same('t_any_timeout', T.t_any_timeout),
  // rr
  [
    'record_route',
    (ctx, p) =>
      opt(p[0]) === undefined
        ? run('record_route', R.record_route, ctx)
        : run('record_route', R.record_route_params, ctx, p[0]),
  ],
  same('record_route_preset', R.record_route_preset),
  same('record_route_advertised_address', R.record_route_advertised_address),
  same('add_rr_param', R.add_rr_param),
  same('remove_record_route', R.remove_record_route),
  same('loose_route', R.loose_route),
  same('loose_route_preloaded', R.loose_route_preloaded),
  same('check_route_param', R.check_route_param),
  same('is_direction', R.is_direction),
  // textops / kemi hdr
  [
    'append_hf',
    (ctx, p) =>
      opt(p[1]) === undefined
        ? run('append_hf', H.append, ctx, p[0])
        : run('append_hf', H.append_after, ctx, p[0], p[1]),
  ],
  [
    'insert_hf',
    (ctx, p) =>
      opt(p[1]) === undefined
        ? run('insert_hf', H.insert, ctx, p[0])
        : run('insert_hf', H.insert_before, ctx, p[0], p[1]),
  ],
  same('remove_hf', H.remove),
  same('is_present_hf', H.is_present),
  same('append_to_reply', H.append_to_reply),
  // maxfwd
  ['maxfwd_process', maxfwdProcess],
  ['mf_process_maxfwd_header', maxfwdProcess],
  ['process_maxfwd', maxfwdProcess],
  numeric('is_maxfwd_lt', M.is_maxfwd_lt),
  numeric('maxfwd_at_least', M.is_maxfwd_lt),
  numeric('mf_lowlimit', M.is_maxfwd_lt),
  // sanity
  [
    'sanity_check',
    (ctx, p) =>
      run(
        'sanity_check',
        S.sanity_check,
        ctx,
        opt(p[0]) === undefined ? undefined : num(p[0]),
        opt(p[1]) === undefined ? undefined : num(p[1]),
      ),
  ],
  same('sanity_reply', S.sanity_reply),
  // siputils
  same('has_totag', SU.has_totag),
  same('is_request', SU.is_request),
  same('is_reply', SU.is_reply),
  same('is_first_hop', SU.is_first_hop),
  same('is_user', SU.is_user),
  same('is_uri_user_e164', SU.is_uri_user_e164),
  same('is_e164', SU.is_e164),
  same('uri_param', SU.uri_param),
  same('add_uri_param', SU.add_uri_param),
  same('uri_param_rm', SU.uri_param_rm),
  same('tel2sip', SU.tel2sip),
  same('options_reply', SU.options_reply),
  same('cmp_uri', SU.cmp_uri),
  same('cmp_aor', SU.cmp_aor),
  // corex
  [
    'append_branch',
    (ctx, p) =>
      run('append_branch', CX.append_branch, ctx, opt(p[0]), opt(p[1]) === undefined ? undefined : p[1]),
  ],
  // core
  same('is_method', C.is_method),
  numeric('setflag', C.setflag),
  numeric('resetflag', C.resetflag),
  numeric('isflagset', C.isflagset),
  numeric('setbflag', C.setbflag),
  numeric('resetbflag', C.resetbflag),
  numeric('isbflagset', C.isbflagset),
  numeric('setsflag', C.setsflag),
  numeric('resetsflag', C.resetsflag),
  numeric('issflagset', C.issflagset),
  same('force_rport', C.force_rport),
  same('add_local_rport', C.add_local_rport),
  same('set_advertised_address', C.set_advertised_address),
  same('set_advertised_port', C.set_advertised_port),
  same('seturi', C.seturi),
  same('rewriteuri', C.seturi),
  same('setuser', C.setuser),
  same('rewriteuser', C.setuser),
  same('sethost', C.sethost),
  same('rewritehost', C.sethost),
  same('setdsturi', C.setdsturi),
  same('resetdsturi', C.resetdsturi),
  same('isdsturiset', C.isdsturiset),
  [
    'forward',
    (ctx, p) =>
      opt(p[0]) === undefined ? run('forward', C.forward, ctx) : run('forward', C.forward_uri, ctx, p[0]),
  ],
]);

/** The cfg function names modf knows, for docs and tests. */
export function modfNames(): string[] {
  return [...TABLE.keys()].sort();
}

/** Kamailio cfg convention: >0 true, <0 false; no result counts as success. */
function cfgResult(r: unknown): unknown {
  if (r === true || r === undefined) return 1;
  if (r === false) return -1;
  if (r instanceof Promise) return r.then(cfgResult);
  return r;
}

export function modf(ctx: RouteContext, fname: string, ...params: Array<string | number>): unknown {
  const entry = typeof fname === 'string' ? TABLE.get(fname) : undefined;
  if (entry === undefined) {
    ctx.log('err', `modf: unknown function ${String(fname)}`);
    return -1;
  }
  return cfgResult(
    entry(
      ctx,
      params.map((p) => String(p)),
    ),
  );
}
