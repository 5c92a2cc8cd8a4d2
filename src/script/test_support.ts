/**
 * Small KSR modules and helpers for the script engine's own tests, so they test the engine and not
 * the real modules (which have their own tests). Not used by the server.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_LISTENER } from '../modules/testing/fake_context.ts';
import type { RouteContext, RouteHandler } from '../proxy/context.ts';
import { isParseError } from '../sip/errors.ts';
import type { SipMessage } from '../sip/message.ts';
import { parseMessage } from '../sip/parse_message.ts';
import { ANY_ROUTE, type ModuleDefinition, REQUEST_ROUTES } from './module.ts';

function headerLine(line: string): [string, string] {
  const t = line.replace(/\r?\n$/, '');
  const colon = t.indexOf(':');
  return [t.slice(0, colon).trim(), t.slice(colon + 1).trim()];
}

function pvGet(ctx: RouteContext, name: string): string | number | null {
  const m = /^\$(var|avp)\((.+)\)$/.exec(name);
  if (m !== null) {
    if (m[1] === 'var') return ctx.vars.get(m[2]) ?? null;
    const a = ctx.avps.get(m[2]);
    return a === undefined || a.length === 0 ? null : a[0];
  }
  switch (name) {
    case '$ru':
      return ctx.msg.ruri;
    case '$du':
      return ctx.dstUri ?? null;
    case '$rm':
      return ctx.msg.method;
    case '$si':
      return ctx.info.source.address;
    case '$T_reply_code':
      return ctx.replyCode;
    case '$T_branch_idx':
      return ctx.branchIndex;
    default:
      return null;
  }
}

function pvSet(ctx: RouteContext, name: string, value: string | number): number {
  const m = /^\$(var|avp)\((.+)\)$/.exec(name);
  if (m !== null) {
    if (m[1] === 'var') ctx.vars.set(m[2], value);
    else ctx.avps.set(m[2], [value]);
    return 1;
  }
  if (name === '$du') {
    ctx.dstUri = String(value);
    return 1;
  }
  if (name === '$ru') {
    ctx.msg.setRuri(String(value));
    return 1;
  }
  return -1;
}

function onRoute(kind: 'failure' | 'branch' | 'onreply'): (ctx: RouteContext, h: RouteHandler) => number {
  return (ctx, h) => {
    ctx.setHandler(kind, h);
    return 1;
  };
}

/** Enough of core, sl, tm, pv, hdr and rr for the engine's tests, plus `test.wait(ms)` (async). */
export const TEST_MODULES: readonly ModuleDefinition[] = [
  {
    name: '',
    functions: {
      info: { fn: (ctx, msg: string) => ctx.log('info', String(msg)) },
      err: { fn: (ctx, msg: string) => ctx.log('err', String(msg)) },
      is_method: { fn: (ctx, m: string) => ctx.msg.method === m },
      is_INVITE: { fn: (ctx) => ctx.msg.method === 'INVITE' },
      is_ACK: { fn: (ctx) => ctx.msg.method === 'ACK' },
      seturi: {
        routes: REQUEST_ROUTES,
        fn: (ctx, uri: string) => {
          ctx.msg.setRuri(uri);
          return 1;
        },
      },
      setdsturi: {
        fn: (ctx, uri: string) => {
          ctx.dstUri = uri;
          return 1;
        },
      },
      forward: { routes: ['request', 'failure'], fn: (ctx) => ctx.forwardStateless() },
      set_drop: {
        fn: (ctx) => {
          ctx.dropped = true;
          return 1;
        },
      },
    },
  },
  {
    name: 'sl',
    functions: {
      send_reply: {
        routes: ['request', 'failure'],
        fn: (ctx, code: number, reason: string) => ctx.reply(code, reason),
      },
      sl_send_reply: {
        routes: ['request', 'failure'],
        fn: (ctx, code: number, reason: string) => ctx.reply(code, reason),
      },
    },
  },
  {
    name: 'tm',
    functions: {
      t_relay: { routes: ['request', 'failure'], fn: (ctx) => ctx.relay() },
      t_reply: {
        routes: ['request', 'failure'],
        fn: (ctx, code: number, reason: string) => ctx.reply(code, reason),
      },
      t_on_failure: { routes: REQUEST_ROUTES, fn: onRoute('failure') },
      t_on_branch: { routes: REQUEST_ROUTES, fn: onRoute('branch') },
      t_on_reply: { routes: REQUEST_ROUTES, fn: onRoute('onreply') },
      t_check_trans: { fn: (ctx) => (ctx.hasTransaction() ? 1 : -1) },
    },
  },
  {
    name: 'pv',
    functions: {
      get: { routes: ANY_ROUTE, fn: pvGet },
      sets: { fn: (ctx, n: string, v: string) => pvSet(ctx, n, String(v)) },
      seti: { fn: (ctx, n: string, v: number) => pvSet(ctx, n, Number(v)) },
    },
  },
  {
    name: 'hdr',
    functions: {
      append: {
        fn: (ctx, line: string) => {
          const [n, v] = headerLine(line);
          ctx.msg.appendHeader(n, v);
          return 1;
        },
      },
      append_to_reply: {
        fn: (ctx, line: string) => {
          ctx.replyHeaders.push(line);
          return 1;
        },
      },
    },
  },
  { name: 'rr', functions: { record_route: { routes: REQUEST_ROUTES, fn: (ctx) => ctx.recordRoute() } } },
  {
    name: 'test',
    summary: 'test helpers',
    functions: {
      wait: { fn: (_ctx, ms: number) => new Promise<number>((r) => setTimeout(() => r(1), ms)) },
      ctx: { fn: (ctx) => ctx },
    },
  },
];

export const INVITE = [
  'INVITE sip:bob@example.com SIP/2.0',
  'Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK776asdhds',
  'Max-Forwards: 70',
  'To: Bob <sip:bob@example.com>',
  'From: Alice <sip:alice@atlanta.example.com>;tag=1928301774',
  'Call-ID: a84b4c76e66710@pc33.atlanta.example.com',
  'CSeq: 314159 INVITE',
  'Contact: <sip:alice@10.0.0.1>',
  'Content-Length: 0',
  '',
  '',
].join('\r\n');

export function parseSip(text: string): SipMessage {
  const m = parseMessage(Buffer.from(text));
  if (isParseError(m)) throw new Error(`test message does not parse: ${m.phrase}`);
  return m;
}

/** A temporary directory with files; `path(name)` and `write(name, text)`; remove() when done. */
export function tempScripts(files: Record<string, string> = {}): {
  dir: string;
  path(name: string): string;
  write(name: string, text: string): string;
  remove(): void;
} {
  const dir = mkdtempSync(join(tmpdir(), 'junction-script-'));
  const write = (name: string, text: string): string => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  for (const [n, t] of Object.entries(files)) write(n, t);
  return {
    dir,
    path: (n) => join(dir, n),
    write,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A minimal RouteContext recording logs, replies, relays and handlers (for registry/engine tests). */
export interface SimpleContext extends RouteContext {
  readonly logs: Array<{ level: string; text: string }>;
  readonly replies: Array<{ code: number; reason: string }>;
  relays: number;
  readonly handlers: Map<string, unknown>;
}

export function simpleContext(
  kind: RouteContext['kind'] = 'request',
  msg: SipMessage = parseSip(INVITE),
): SimpleContext {
  const logs: SimpleContext['logs'] = [];
  const replies: SimpleContext['replies'] = [];
  const handlers = new Map<string, unknown>();
  const ctx: SimpleContext = {
    kind,
    msg,
    request: msg,
    info: {
      source: { protocol: 'udp', address: '10.0.0.1', port: 5060 },
      listener: { ...TEST_LISTENER },
      connectionId: 0,
      receivedAt: 0,
    },
    dstUri: undefined,
    branches: [],
    flags: 0,
    bflags: 0,
    dropped: false,
    forceRport: false,
    vars: new Map(),
    avps: new Map(),
    replyHeaders: [],
    branchIndex: -1,
    replyCode: 0,
    logs,
    replies,
    relays: 0,
    handlers,
    reply(code, reason) {
      replies.push({ code, reason });
      return 1;
    },
    relay() {
      ctx.relays++;
      return Promise.resolve(1);
    },
    forwardStateless: () => Promise.resolve(1),
    keepTransaction: () => true,
    setHandler(k, h) {
      handlers.set(k, h);
    },
    recordRoute: () => 1,
    looseRoute: () => -1,
    isMyself: () => false,
    isMyselfParsed: () => false,
    hasTransaction: () => true,
    isCanceled: () => false,
    setFinalResponseTimers: () => undefined,
    log(level, text) {
      logs.push({ level, text });
    },
  };
  return ctx;
}
