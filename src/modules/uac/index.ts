/**
 * KSR.uac: requests sent by the server from a routing script (Kamailio uac: $uac_req(...) +
 * uac_req_send()), and the click-to-dial management command `ctd`. The UAC itself is client.ts;
 * see README.md in this folder.
 */
import { type MiCommand, MiError } from '../../mi/command.ts';
import { defineModuleStatistic } from '../../mi/statistics.ts';
import { parseHeaderLines } from '../../mi/uac.ts';
import type { RouteContext } from '../../proxy/context.ts';
import { ANY_ROUTE, type ModuleDefinition } from '../../script/module.ts';
import { registerPvClass } from '../pv/pseudo_variables.ts';
import { def } from '../shared/define.ts';
import { dialogFromResponse, type Uac, UacError, type UacOutcome, uac } from './client.ts';
import { type CtdResult, clickToDial } from './ctd.ts';
import './params.ts';

/** $uac_req(key) fields (Kamailio uac module). */
const UAC_REQ_KEYS = new Set(['method', 'ruri', 'furi', 'turi', 'ouri', 'hdrs', 'body', 'callid', 'all']);
const slot = (key: string): string => `.uac_req.${key}`;

registerPvClass('uac_req', (key, index) => {
  if (!UAC_REQ_KEYS.has(key) || index !== undefined) return undefined;
  return {
    get: (ctx) => ctx.vars.get(slot(key)) ?? null,
    set: (ctx, v) => {
      if (key === 'all') {
        // $uac_req(all) = $null resets every field.
        for (const k of UAC_REQ_KEYS) ctx.vars.delete(slot(k));
        return true;
      }
      if (v === null) ctx.vars.delete(slot(key));
      else ctx.vars.set(slot(key), String(v));
      return true;
    },
  };
});

/** What a script gives send_request (the idiomatic form of $uac_req + uac_req_send). */
export interface UacRequestSpec {
  method: string;
  ruri: string;
  from: string;
  to: string;
  /** Outbound proxy. */
  next_hop?: string;
  /** Extra header lines, `Name: value`, separated by CRLF (as $uac_req(hdrs)). */
  headers?: string;
  body?: string;
  callid?: string;
}

export interface UacReply {
  status: number;
  reason: string;
}

async function sendSpec(client: Uac, s: UacRequestSpec): Promise<UacOutcome> {
  // Header lines as t_uac_dlg takes them (MiError 400 on a bad line); Content-Type types the body.
  const pairs = parseHeaderLines(s.headers ?? '');
  const isCt = ([n]: [string, string]): boolean =>
    n.toLowerCase() === 'content-type' || n.toLowerCase() === 'c';
  const ct = pairs.find(isCt)?.[1];
  const method = String(s.method).toUpperCase();
  const out = await client.send({
    method,
    ruri: s.ruri,
    from: s.from.includes('<') ? s.from : `<${s.from}>`,
    to: s.to.includes('<') ? s.to : `<${s.to}>`,
    ...(s.callid === undefined || s.callid === '' ? {} : { callId: s.callid }),
    ...(s.next_hop === undefined || s.next_hop === '' ? {} : { nextHop: s.next_hop }),
    headers: pairs.filter((h) => !isCt(h)),
    ...(s.body === undefined || s.body === '' ? {} : { body: s.body, contentType: ct ?? 'text/plain' }),
  });
  if (method === 'INVITE' && out.status >= 200 && out.status < 300) {
    const d = dialogFromResponse(out);
    if (d !== undefined) client.sendAck(d, out);
  }
  return out;
}

/** KSR.uac.send_request: send and wait for the final response. */
async function sendRequest(ctx: RouteContext, spec: UacRequestSpec): Promise<UacReply> {
  const client = uac();
  if (client === undefined) return { status: 500, reason: 'no UAC in this process' };
  if (spec === null || typeof spec !== 'object' || !spec.method || !spec.ruri || !spec.from || !spec.to) {
    ctx.log('err', 'uac.send_request: method, ruri, from and to are required');
    return { status: 400, reason: 'method, ruri, from and to are required' };
  }
  try {
    const out = await sendSpec(client, spec);
    return { status: out.status, reason: out.reason };
  } catch (e) {
    const status = e instanceof UacError ? e.status : e instanceof MiError ? e.code : 500;
    ctx.log('err', `uac.send_request: ${(e as Error).message}`);
    return { status, reason: (e as Error).message };
  }
}

/** Kamailio's uac_req_send(): the request described by $uac_req(...); 1 once it went out. */
async function uacReqSend(ctx: RouteContext): Promise<number> {
  const get = (k: string): string | undefined => {
    const v = ctx.vars.get(slot(k));
    return v === undefined ? undefined : String(v);
  };
  const method = get('method');
  const ruri = get('ruri');
  const furi = get('furi');
  if (method === undefined || ruri === undefined || furi === undefined) {
    ctx.log('err', 'uac_req_send: $uac_req(method), $uac_req(ruri) and $uac_req(furi) are required');
    return -1;
  }
  const client = uac();
  if (client === undefined) return -1;
  const spec: UacRequestSpec = { method, ruri, from: furi, to: get('turi') ?? ruri };
  const ouri = get('ouri');
  const hdrs = get('hdrs');
  const body = get('body');
  const callid = get('callid');
  if (ouri !== undefined) spec.next_hop = ouri;
  if (hdrs !== undefined) spec.headers = hdrs;
  if (body !== undefined) spec.body = body;
  if (callid !== undefined) spec.callid = callid;
  // Kamailio returns once the request is sent; the final response is logged.
  const started = sendSpec(client, spec).then(
    (out) => ctx.log('info', `uac_req_send: ${method} ${ruri}: ${out.status} ${out.reason}`),
    (e: unknown) => {
      ctx.log('err', `uac_req_send: ${(e as Error).message}`);
      throw e;
    },
  );
  // Refused before going out (bad URI, no route): -1 now; otherwise 1 without waiting.
  const early = await Promise.race([
    started.then(
      () => 0,
      () => -1,
    ),
    new Promise<number>((r) => setImmediate(() => r(1))),
  ]);
  return early === 0 ? 1 : early;
}

export const ctdCommand: MiCommand = {
  name: 'ctd',
  aliases: ['uac.ctd'],
  help: 'Click-to-dial: call the caller (on hold), then REFER it to the callee; reports each step.',
  mutating: false,
  recipes: [
    [
      { name: 'caller', type: 'string' },
      { name: 'callee', type: 'string' },
      { name: 'from', type: 'string', optional: true },
      { name: 'timeout', type: 'int', optional: true, doc: 'Seconds the caller may ring (default 30).' },
    ],
  ],
  text: {
    lines: ['caller', 'callee', 'from', 'timeout'],
    reply(result) {
      const r = result as CtdResult;
      return { code: 200, reason: 'OK', lines: r.steps.map((s) => `${s.step}: ${s.status}`) };
    },
  },
  async handler(p) {
    const client = uac();
    if (client === undefined) throw new MiError(500, 'no UAC in this process');
    const timeout = p.timeout === undefined ? 30 : Number(p.timeout);
    if (!Number.isInteger(timeout) || timeout < 1 || timeout > 600)
      throw new MiError(400, 'timeout must be 1..600 s');
    return clickToDial(client, {
      caller: String(p.caller),
      callee: String(p.callee),
      ...(p.from === undefined || p.from === '' || p.from === '.' ? {} : { from: String(p.from) }),
      ringTimeoutMs: timeout * 1000,
    });
  },
};

for (const name of ['requests', 'finals_2xx', 'finals_failed', 'auth_retries', 'timeouts'] as const) {
  defineModuleStatistic({
    group: 'uac',
    name,
    kind: 'counter',
    help: `Requests sent by the server: ${name.replace('_', ' ')}.`,
    read: () => uac()?.stats[name] ?? 0,
  });
}

const uacModule = {
  name: 'uac',
  summary: 'Requests sent by the server (uac_req_send, send_request) and click-to-dial (ctd)',
  functions: {
    uac_req_send: def(
      '() => Promise<number>',
      uacReqSend,
      ANY_ROUTE,
      'Send the request described by $uac_req(method|ruri|furi|turi|ouri|hdrs|body|callid) (Kamailio); 1 once sent.',
    ),
    send_request: def(
      '(req: { method: string; ruri: string; from: string; to: string; next_hop?: string; headers?: string; body?: string; callid?: string }) => Promise<{ status: number; reason: string }>',
      sendRequest,
      ANY_ROUTE,
      'Send a request and wait for its final response (401/407 answered with the configured credentials).',
    ),
  },
  commands: [ctdCommand],
} satisfies ModuleDefinition;

export default uacModule;
