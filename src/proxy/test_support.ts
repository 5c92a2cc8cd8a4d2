/**
 * Test helpers for the proxy core: a message builder, fake transport / transaction / script ports
 * that record what the core does and let a test answer for the network, and a one-call setup.
 * Not a test file itself (no `.test.ts`).
 */
import { isIP } from 'node:net';
import { isParseError } from '../sip/errors.ts';
import type { SipMessage } from '../sip/message.ts';
import { parseMessage } from '../sip/parse_message.ts';
import type { Endpoint, ListenerInfo, Protocol, ReceiveInfo, SendOptions } from '../transport/types.ts';
import type { RouteContext, RouteHandler, RouteKind } from './context.ts';
import {
  type CoreLogger,
  ProxyCore,
  type ScriptPort,
  type ServerTxPort,
  type TransportPort,
} from './core.ts';
import { LocalAddresses } from './myself.ts';
import type { ScriptContext } from './script_context.ts';
import { Resolver } from './target.ts';

export function parse(data: string | Buffer): SipMessage {
  const m = parseMessage(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  if (isParseError(m)) throw new Error(`test message does not parse: ${m.phrase}\n${String(data)}`);
  return m;
}

// ---------------------------------------------------------------- listeners and receive info

function listenerInfo(id: number, protocol: Protocol, address: string, port = 5060): ListenerInfo {
  return {
    id,
    protocol,
    address,
    port,
    family: isIP(address) === 6 ? 6 : 4,
    advertisedHost: address,
    advertisedPort: port,
  };
}

export const UDP = listenerInfo(1, 'udp', '192.0.2.10');
export const TCP = listenerInfo(2, 'tcp', '192.0.2.10');
export const UDP6 = listenerInfo(3, 'udp', '2001:db8::10');
export const LISTENERS: readonly ListenerInfo[] = [UDP, TCP, UDP6];

export function recvInfo(listener: ListenerInfo = UDP, address = '10.0.0.1', port = 5060): ReceiveInfo {
  return {
    source: { protocol: listener.protocol, address, port },
    listener,
    connectionId: listener.protocol === 'udp' ? 0 : 9,
    receivedAt: 0,
  };
}

// ---------------------------------------------------------------- messages

export interface ReqSpec {
  method?: string;
  ruri?: string;
  /** Via values, top first. */
  vias?: string[];
  /** null: no Max-Forwards header. */
  maxForwards?: number | null;
  fromTag?: string;
  toTag?: string;
  callId?: string;
  cseq?: number;
  routes?: string[];
  headers?: string[];
  body?: string;
  /** false: no Content-Length header. */
  contentLength?: boolean;
}

export const UAC_VIA = 'SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKuac1';

export function reqText(spec: ReqSpec = {}): string {
  const method = spec.method ?? 'INVITE';
  const body = spec.body ?? '';
  const lines = [`${method} ${spec.ruri ?? 'sip:bob@10.0.0.2'} SIP/2.0`];
  for (const v of spec.vias ?? [UAC_VIA]) lines.push(`Via: ${v}`);
  if (spec.maxForwards !== null) lines.push(`Max-Forwards: ${spec.maxForwards ?? 70}`);
  for (const r of spec.routes ?? []) lines.push(`Route: ${r}`);
  lines.push(`From: "Alice" <sip:alice@a.example>;tag=${spec.fromTag ?? 'f1'}`);
  lines.push(`To: <sip:bob@b.example>${spec.toTag === undefined ? '' : `;tag=${spec.toTag}`}`);
  lines.push(`Call-ID: ${spec.callId ?? 'c1@10.0.0.1'}`);
  lines.push(`CSeq: ${spec.cseq ?? 1} ${method}`);
  lines.push(...(spec.headers ?? []));
  if (spec.contentLength !== false) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

export function req(spec: ReqSpec = {}): SipMessage {
  return parse(reqText(spec));
}

// ---------------------------------------------------------------- transport

export interface SentRecord {
  data: Buffer;
  msg: SipMessage;
  dest: Endpoint;
  opts: SendOptions | undefined;
}

export interface SentResponseRecord {
  data: Buffer;
  msg: SipMessage;
  request: SipMessage;
  info: ReceiveInfo;
}

/** Records sends; satisfies both the core's and the transaction layer's transport ports. */
export class FakeTransport implements TransportPort {
  readonly listeners: ListenerInfo[];
  readonly sent: SentRecord[] = [];
  readonly responses: SentResponseRecord[] = [];

  constructor(listeners: readonly ListenerInfo[] = LISTENERS) {
    this.listeners = [...listeners];
  }

  send(data: Buffer, dest: Endpoint, opts?: SendOptions): void {
    this.sent.push({ data, msg: parse(data), dest, opts });
  }

  sendResponse(data: Buffer, request: SipMessage, info: ReceiveInfo): void {
    this.responses.push({ data, msg: parse(data), request, info });
  }

  selectListener(dest: Endpoint): ListenerInfo | undefined {
    const family = isIP(dest.address) === 6 ? 6 : 4;
    return this.listeners.find((l) => l.protocol === dest.protocol && l.family === family);
  }

  /** Requests handed to send(), by method. */
  requests(method?: string): SentRecord[] {
    return this.sent.filter((s) => s.msg.isRequest && (method === undefined || s.msg.method === method));
  }

  statuses(): number[] {
    return this.responses.map((r) => r.msg.status);
  }
}

// ---------------------------------------------------------------- transactions

export class FakeServerTx implements ServerTxPort {
  readonly key: string;
  readonly request: SipMessage;
  readonly isInvite: boolean;
  lastStatus = 0;
  readonly responses: SipMessage[] = [];
  onTerminated: (() => void) | undefined = undefined;

  constructor(request: SipMessage) {
    this.request = request;
    this.isInvite = request.method === 'INVITE';
    this.key = `${request.topVia.branch ?? ''}:${request.method}`;
  }

  respond(data: Buffer, status: number): void {
    const msg = parse(data);
    assert(msg.status === status, `respond(): status ${status} but the bytes say ${msg.status}`);
    this.responses.push(msg);
    this.lastStatus = status;
  }

  statuses(): number[] {
    return this.responses.map((r) => r.status);
  }

  /** Final responses sent (status >= 200). */
  finals(): SipMessage[] {
    return this.responses.filter((r) => r.status >= 200);
  }

  terminate(): void {
    const cb = this.onTerminated;
    this.onTerminated = undefined;
    cb?.();
  }
}

function assert(ok: boolean, text: string): void {
  if (!ok) throw new Error(text);
}

// The fake client side is the script harness's: one set of fake ports for both.
import { FakeClientTx, FakeTransactions, type ReplyOptions } from '../script/harness_ports.ts';

export { FakeClientTx, FakeTransactions, type ReplyOptions };

// ---------------------------------------------------------------- script

/** A route as a plain function of the RouteContext (the core's ScriptContext). */
export type Route = (ctx: ScriptContext) => unknown;

/** A test route as a t_on_* handler (the FnScript calls it with the context, not a KSR). */
export function asHandler(fn: Route): RouteHandler {
  return fn as RouteHandler;
}

export interface Routes {
  request?: Route;
  reply?: Route;
  onsend?: Route;
  /** Handlers given by name (`t_on_failure('name')`). */
  named?: Record<string, Route>;
}

/** Runs plain functions as routes; records every run. */
export class FnScript implements ScriptPort {
  routes: Routes;
  readonly runs: Array<{ kind: RouteKind; ctx: RouteContext }> = [];

  constructor(routes: Routes = {}) {
    this.routes = routes;
  }

  run(kind: RouteKind, ctx: RouteContext, handler?: RouteHandler): Promise<void> | void {
    this.runs.push({ kind, ctx });
    let fn: Route | undefined;
    if (kind === 'request') fn = this.routes.request;
    else if (kind === 'reply' && handler === undefined) fn = this.routes.reply;
    else if (kind === 'onsend' && handler === undefined) fn = this.routes.onsend;
    else if (typeof handler === 'function') fn = handler as Route;
    else if (typeof handler === 'string') fn = this.routes.named?.[handler];
    if (fn === undefined) return;
    const r = fn(ctx as ScriptContext);
    if (r !== null && typeof r === 'object' && typeof (r as Promise<unknown>).then === 'function') {
      return (r as Promise<unknown>).then(() => undefined);
    }
  }

  has(kind: 'reply' | 'onsend'): boolean {
    return kind === 'reply' ? this.routes.reply !== undefined : this.routes.onsend !== undefined;
  }

  kinds(): RouteKind[] {
    return this.runs.map((r) => r.kind);
  }
}

// ---------------------------------------------------------------- logger

export class MemoryLog implements CoreLogger {
  readonly lines: Array<{ level: string; obj: object; msg: string | undefined }> = [];
  debug(obj: object, msg?: string): void {
    this.lines.push({ level: 'debug', obj, msg });
  }
  info(obj: object, msg?: string): void {
    this.lines.push({ level: 'info', obj, msg });
  }
  warn(obj: object, msg?: string): void {
    this.lines.push({ level: 'warn', obj, msg });
  }
  error(obj: object, msg?: string): void {
    this.lines.push({ level: 'error', obj, msg });
  }
  at(level: string): string[] {
    return this.lines.filter((l) => l.level === level).map((l) => l.msg ?? '');
  }
}

// ---------------------------------------------------------------- setup

export interface CoreSetupOptions {
  routes?: Routes;
  stateless?: boolean;
  maxBranches?: number;
  resolver?: Resolver;
  aliases?: string[];
  listeners?: readonly ListenerInfo[];
}

export interface CoreSetup {
  core: ProxyCore;
  transport: FakeTransport;
  txs: FakeTransactions;
  script: FnScript;
  log: MemoryLog;
  local: LocalAddresses;
}

export function setupCore(o: CoreSetupOptions = {}): CoreSetup {
  const transport = new FakeTransport(o.listeners);
  const local = new LocalAddresses(transport.listeners, o.aliases ?? [], []);
  const script = new FnScript(o.routes);
  const log = new MemoryLog();
  const core = new ProxyCore({
    transport,
    local,
    resolver: o.resolver ?? new Resolver(),
    script,
    log,
    stateless: o.stateless,
    maxBranches: o.maxBranches,
  });
  const txs = new FakeTransactions();
  core.transactions = txs;
  return { core, transport, txs, script, log, local };
}

/** Let pending promise chains (awaited routes, relay) run to completion. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
}

/**
 * Hand a request to the core as the transaction layer would (with a server transaction, except
 * for ACK and `stateless`), and wait for the routes to finish.
 */
export async function deliver(
  s: CoreSetup,
  msg: SipMessage | string | Buffer,
  o: { info?: ReceiveInfo; tx?: boolean } = {},
): Promise<{ req: SipMessage; tx: FakeServerTx | undefined }> {
  const r = typeof msg === 'string' || Buffer.isBuffer(msg) ? parse(msg) : msg;
  const withTx = o.tx ?? (r.method !== 'ACK' && !s.core.stateless);
  const tx = withTx ? new FakeServerTx(r) : undefined;
  s.core.onRequest(r, o.info ?? recvInfo(), tx);
  await settle();
  return { req: r, tx };
}

/** The header values of a message called `name`, each comma element separately. */
export function headerList(msg: SipMessage, name: string): string[] {
  const out: string[] = [];
  for (const v of msg.getHeaders(name)) {
    let depth = 0;
    let start = 0;
    for (let i = 0; i < v.length; i++) {
      const c = v[i];
      if (c === '<') depth++;
      else if (c === '>') depth--;
      else if (c === ',' && depth === 0) {
        out.push(v.slice(start, i).trim());
        start = i + 1;
      }
    }
    out.push(v.slice(start).trim());
  }
  return out;
}
