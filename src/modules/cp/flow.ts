/**
 * The softswitch call flow (M4): a call from a connection point gets its numbers localized, the
 * external script may reject it or rewrite them, then it goes to the connection point's
 * termination points in order — each with its own transformation rules — failing over on
 * timeout, 408, 5xx and capacity; 486 and 6xx end the call.
 */
import type { ConnectionPoint } from '../../config/types.ts';
import type { RouteContext, RouteHandler } from '../../proxy/context.ts';
import { replaceIdentity } from '../../proxy/identity.ts';
import { choiceMatches, routingPoints } from '../../routing_points/points.ts';
import { applyRules } from '../../routing_points/rules.ts';
import { isParseError } from '../../sip/errors.ts';
import type { SipMessage } from '../../sip/message.ts';
import { uriUser } from '../../sip/uri.ts';
import {
  AUTH_NO_CREDENTIALS,
  AUTH_OK,
  AUTH_STALE_NONCE,
  proxyAuthenticate,
  proxyChallenge,
} from '../auth/auth.ts';
import { extScriptService, type HookResult } from '../extscript/service.ts';
import { count } from '../extscript/stats.ts';
import { withUser } from '../shared/uri_edit.ts';
import { capacityFree, noteTp, setCallVar } from './dialog_hooks.ts';

/** What one call remembers between the request route and its failure routes. */
export interface CallState {
  readonly cp: ConnectionPoint;
  /** Numbers after localization and the hook, before a termination point's rules. */
  readonly src: string;
  readonly dst: string;
  readonly hook: HookResult;
  /** Index of the next entry of cp.termination_points to try. */
  next: number;
  /** Termination points tried, in order. */
  readonly tried: number[];
  /** The transaction's fr_inv / fr timers before the flow set a TP's no-answer timeout. */
  scriptTimers?: [number, number];
}

const calls = new WeakMap<SipMessage, CallState>();

export function callState(ctx: RouteContext): CallState | undefined {
  return calls.get(ctx.request);
}

/** From URI user (unescaped) of the request; '' when none. */
export function fromUser(msg: SipMessage): string {
  const f = msg.from();
  return isParseError(f) ? '' : (uriUser(f.uri) ?? '');
}

/** Request-URI user (unescaped); '' when none. */
export function ruriUser(msg: SipMessage): string {
  const u = msg.requestUri();
  return isParseError(u) ? '' : (uriUser(u) ?? '');
}

/** The connection point this request comes from, undefined for an unknown source. */
export function identify(ctx: RouteContext, username?: string): ConnectionPoint | undefined {
  const src = ctx.info.source;
  return routingPoints().identify({
    address: src.address,
    port: src.port,
    transport: ctx.info.listener.protocol,
    ...(username === undefined ? {} : { username }),
  });
}

/** The user name of the request's (checked) Proxy-Authorization credentials. */
function authUsername(msg: SipMessage): string | undefined {
  const creds = msg.proxyAuthorization();
  if (isParseError(creds)) return undefined;
  for (const c of creds) {
    const u = c.params.get('username');
    if (u !== undefined && u !== '') return u;
  }
  return undefined;
}

/** Status and reason of a failed termination point that lets the call move on. */
export function failsOver(status: number): boolean {
  return status === 408 || (status >= 500 && status < 600);
}

const FAILURE_HANDLER: RouteHandler = (K: unknown) =>
  (K as { cp: { failover(): Promise<number> } }).cp.failover();

/**
 * The whole flow for an initial INVITE: identify the connection point (unknown source: 403),
 * localize, run the hook (reject: the mapped status), relay to the first usable termination
 * point. 1 when relayed; -1 when answered here.
 */
export async function routeCall(ctx: RouteContext): Promise<number> {
  let cp = identify(ctx);
  if (cp === undefined && routingPoints().byUsername) {
    // Connection points recognised by user name: the caller proves it with digest credentials
    // (Proxy-Authorization, realm = the From domain, checked against the subscriber table).
    const rc = await proxyAuthenticate(ctx);
    if (rc === AUTH_OK) cp = identify(ctx, authUsername(ctx.request));
    else if (rc === AUTH_NO_CREDENTIALS || rc === AUTH_STALE_NONCE) {
      await proxyChallenge(ctx);
      return -1;
    }
  }
  if (cp === undefined) {
    count(0, 'unknown_source');
    ctx.log(
      'notice',
      `cp: call from unknown source ${ctx.info.source.address}:${ctx.info.source.port} refused\n`,
    );
    await ctx.reply(403, 'Forbidden');
    return -1;
  }
  return routeFrom(ctx, cp);
}

export async function routeFrom(ctx: RouteContext, cp: ConnectionPoint): Promise<number> {
  const req = ctx.request;
  let src = applyRules(cp.localization.src.rules, fromUser(req));
  let dst = applyRules(cp.localization.dst.rules, ruriUser(req));
  setCallVar(ctx, 'cp_id', String(cp.id));
  let hook: HookResult = 'none';
  const svc = extScriptService();
  if (cp.external_script !== undefined && svc !== undefined) {
    const d = await svc.execute(cp.external_script, cp.external_script_mode, {
      cp_id: cp.id,
      user_id: cp.user_id,
      src,
      dst,
    });
    hook = d.result;
    setCallVar(ctx, 'hook', hook);
    if (ctx.isCanceled()) {
      // The CANCEL got the INVITE its 487 while the hook ran: the late answer is dropped.
      ctx.log('info', `cp: call canceled while the external script ran; its answer is dropped\n`);
      return -1;
    }
    if (d.action === 'reject') {
      await ctx.reply(d.status, d.reason);
      return -1;
    }
    src = d.src;
    dst = d.dst;
  } else setCallVar(ctx, 'hook', hook);
  const state: CallState = { cp, src, dst, hook, next: 0, tried: [] };
  calls.set(req, state);
  const rc = await relayNext(ctx, state);
  if (rc < 0 && !ctx.isCanceled()) await ctx.reply(503, 'No Termination Point Available');
  return rc;
}

/** Send the call to the next usable termination point; -1 when none is left. */
export async function relayNext(ctx: RouteContext, state: CallState): Promise<number> {
  const points = routingPoints();
  const list = state.cp.termination_points;
  const update = extScriptService()?.updateTo ?? true;
  while (state.next < list.length) {
    const choice = list[state.next++]!;
    const tp = points.tp(choice.id);
    if (tp === undefined || !tp.config.active || !tp.alive) continue;
    if (!choiceMatches(choice, state.dst)) continue;
    if (!capacityFree(ctx, tp.config)) {
      ctx.log('info', `cp: termination point ${tp.config.id} at capacity (${tp.config.capacity})\n`);
      continue;
    }
    const src = applyRules(tp.config.transformation.src.rules, state.src);
    const dst = applyRules(tp.config.transformation.dst.rules, state.dst);
    const ruri = withUser(tp.config.uri, dst === '' ? '' : dst);
    if (ruri === undefined) continue;
    ctx.msg.setRuri(ruri);
    replaceIdentity(ctx, src, update ? dst : undefined);
    // No reply at all, or no final answer, within the no-answer timeout: the next TP.
    const na = tp.config.no_answer_timeout_ms;
    const timers = (ctx as RouteContext & { state?: { frInvMs: number; frMs: number } }).state;
    if (timers !== undefined) {
      // Each termination point its own timeout: what the script set before, unless the TP has one.
      state.scriptTimers ??= [timers.frInvMs, timers.frMs];
      timers.frInvMs = na > 0 ? na : state.scriptTimers[0];
      timers.frMs = na > 0 ? na : state.scriptTimers[1];
    }
    ctx.setHandler('failure', FAILURE_HANDLER);
    noteTp(ctx, tp.config, state.tried[state.tried.length - 1]);
    state.tried.push(tp.config.id);
    if ((await ctx.relay()) > 0) return 1;
  }
  return -1;
}

/** The failure route of the flow: next termination point, when the failure allows it. */
export async function failover(ctx: RouteContext): Promise<number> {
  const state = callState(ctx);
  if (state === undefined || ctx.isCanceled()) return -1;
  if (!failsOver(ctx.replyCode)) return -1;
  return relayNext(ctx, state);
}
