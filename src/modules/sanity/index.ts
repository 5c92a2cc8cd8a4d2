/**
 * KSR.sanity: Kamailio's sanity_check — the checks selected by the msg_checks / uri_checks bit
 * masks, in Kamailio's order; the first that fails sends its reply (400 with the reason, 416, 420
 * with Unsupported) and sanity_check returns -1. See README.md for the bits and the differences.
 */
import type { RouteContext, RouteKind } from '../../proxy/context.ts';
import type { ModuleDefinition } from '../../script/module.ts';
import type { SipMessage } from '../../sip/message.ts';
import { def, N0 } from '../shared/define.ts';
import * as c from './checks.ts';

/** Module parameters, with Kamailio's names and defaults. */
export const sanityConfig = {
  /** Checks run by sanity_check() without arguments (Kamailio's default_checks). */
  defaultChecks: 3047,
  /** URIs checked by the "parse uris" check (Kamailio's uri_checks): R-URI, From, To. */
  uriChecks: 7,
  /** Extensions accepted in Proxy-Require (Kamailio's proxy_require). */
  proxyRequire: [] as string[],
  /** 1: do not reply; sanity_reply() sends the reply later (Kamailio's noreply). */
  noreply: 0,
};

/** Kamailio accepts masks below SANITY_MAX_CHECKS; bits Junction does not know are ignored. */
const MAX_CHECKS = 1 << 17;
const MAX_URI_CHECKS = 16;

/** The failure sanity_check found for a request, for sanity_reply() (noreply mode). */
const failures = new WeakMap<SipMessage, c.Failure>();

type Check = (msg: SipMessage, uriChecks: number) => c.Failure | undefined;

/** Kamailio's order (sanity_mod.c). */
const ORDER: ReadonlyArray<[number, Check]> = [
  [c.CHECK.RURI_SCHEME, c.ruriScheme],
  [c.CHECK.REQUIRED_HEADERS, c.requiredHeaders],
  [c.CHECK.VIA1_HEADER, c.via1Header],
  [c.CHECK.CSEQ_METHOD, c.cseqMethod],
  [c.CHECK.CSEQ_VALUE, c.cseqValue],
  [c.CHECK.CL, c.contentLength],
  [c.CHECK.EXPIRES_VALUE, c.expiresValue],
  [c.CHECK.PROXY_REQUIRE, (m) => c.proxyRequire(m, sanityConfig.proxyRequire)],
  [c.CHECK.PARSE_URIS, c.parseUris],
  [c.CHECK.DIGEST, (m) => c.credentials(m, true)],
  [c.CHECK.AUTHORIZATION, (m) => c.credentials(m, false)],
  [c.CHECK.DUPTAGS, c.duplicateTags],
];

/** Run the selected checks; the first failure, or undefined. */
export function runChecks(msg: SipMessage, msgChecks: number, uriChecks: number): c.Failure | undefined {
  for (let i = 0; i < ORDER.length; i++) {
    const o = ORDER[i];
    if ((msgChecks & o[0]) === 0) continue;
    const f = o[1](msg, uriChecks);
    if (f !== undefined) return f;
  }
  return undefined;
}

/** Send the failure's reply — never for a response or an ACK, which cannot be answered. */
function reply(ctx: RouteContext, f: c.Failure): void {
  const msg = ctx.msg;
  if (!msg.isRequest || msg.method === 'ACK' || f.reply === false) return;
  if (f.headers !== undefined) ctx.replyHeaders.push(...f.headers);
  const r = ctx.reply(f.code, f.reason);
  if (r instanceof Promise) r.catch((err: unknown) => ctx.log('err', `sanity reply failed: ${String(err)}`));
}

function sanityCheck(ctx: RouteContext, msgChecks?: number, uriChecks?: number): number {
  const m = msgChecks ?? sanityConfig.defaultChecks;
  const u = uriChecks ?? sanityConfig.uriChecks;
  if (
    !Number.isInteger(m) ||
    m < 1 ||
    m >= MAX_CHECKS ||
    !Number.isInteger(u) ||
    u < 1 ||
    u >= MAX_URI_CHECKS
  ) {
    ctx.log('err', `sanity_check: checks out of range (${String(msgChecks)}, ${String(uriChecks)})`);
    return -1;
  }
  const f = runChecks(ctx.msg, m, u);
  if (f === undefined) return 1;
  ctx.log('warn', `sanity check failed: ${f.code} ${f.reason}`);
  if (sanityConfig.noreply !== 0) failures.set(ctx.msg, f);
  else reply(ctx, f);
  return -1;
}

/** sanity_reply(): in noreply mode, send the reply of the failed check. */
function sanityReply(ctx: RouteContext): number {
  if (sanityConfig.noreply === 0) return 1;
  const f = failures.get(ctx.msg);
  if (f === undefined) return -1;
  failures.delete(ctx.msg);
  reply(ctx, f);
  return 1;
}

/** Kamailio allows sanity checks on requests and replies. */
const SANITY_ROUTES: readonly RouteKind[] = ['request', 'reply', 'onreply'];

const sanity = {
  name: 'sanity',
  summary: "Kamailio's sanity checks on the message",
  functions: {
    sanity_check: def(
      '(msgChecks?: number, uriChecks?: number) => number',
      sanityCheck,
      SANITY_ROUTES,
      'Run the checks (bit masks as in Kamailio; defaults 3047 and 7): 1 when they pass, else -1 after the reply.',
    ),
    sanity_check_defaults: def(N0, (ctx: RouteContext): number => sanityCheck(ctx), SANITY_ROUTES),
    sanity_reply: def(N0, sanityReply, ['request']),
  },
} satisfies ModuleDefinition;

export default sanity;
