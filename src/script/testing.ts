/**
 * Unit-test a routing script without a network: feed it SIP messages and look at what it did.
 *
 *   import { createScriptHarness } from 'junction/testing';
 *   const h = await createScriptHarness({ script: 'routes/default.ts' });
 *   const r = await h.request(`OPTIONS sip:127.0.0.1 SIP/2.0 ...`);
 *   assert.equal(r.replies[0].code, 200);
 *   const f = await h.failure(r, 486);          // the failure handler the script set with t_on_failure
 *
 * The script runs on the real proxy: ProxyCore and its ScriptContext, ProxyTransaction (forking,
 * response selection, failure route), the same engine and KSR registry as in the server. Only the
 * ports around the core are fakes (harness_ports.ts): the transport and the transaction layer
 * record what would be sent — the bytes the proxy would send — and host names are not resolved.
 */
import type { BranchTarget, RouteContext, RouteHandler, RouteKind } from '../proxy/context.ts';
import { type CoreOptions, ProxyCore, type ScriptPort } from '../proxy/core.ts';
import { LocalAddresses } from '../proxy/myself.ts';
import type { ProxyBranch, ProxyTransaction } from '../proxy/proxy_transaction.ts';
import { newRelayState, type RelayState, ScriptContext } from '../proxy/script_context.ts';
import { buildCancel } from '../sip/build.ts';
import { isParseError } from '../sip/errors.ts';
import type { SipMessage } from '../sip/message.ts';
import { parseMessage } from '../sip/parse_message.ts';
import type { Endpoint, ListenerInfo, Protocol, ReceiveInfo } from '../transport/types.ts';
import { stampTopVia } from '../transport/via_stamp.ts';
import { type ReloadResult, ScriptEngine } from './engine.ts';
import { formatScriptError, type ScriptError } from './errors.ts';
import { wasExited } from './exit.ts';
import {
  FakeClientTx,
  FakeServerTx,
  FakeTransactions,
  FakeTransport,
  LiteralResolver,
} from './harness_ports.ts';
import type { LoadedScript } from './loader.ts';
import type { ModuleDefinition } from './module.ts';
import { KsrRegistry } from './registry.ts';
import type { KSR } from './types.ts';

export { FakeClientTx, FakeServerTx, FakeTransactions, FakeTransport } from './harness_ports.ts';

export type HandlerKind = 'branch' | 'onreply' | 'failure' | 'branch_failure';
export type LogLevel = 'dbg' | 'info' | 'notice' | 'warn' | 'err' | 'crit' | 'alert';
/** What lives as long as the transaction (the proxy's RelayState): handlers, record-route, AVPs, flags, timers. */
export type TransactionState = RelayState;

/** The To tag the harness's proxy puts in the replies it generates (the server's is a hash of the request). */
export const HARNESS_TO_TAG = 'junction-test';

/** A response sent upstream. */
export interface RecordedResponse {
  readonly code: number;
  readonly reason: string;
  /** The whole response as it was sent. */
  readonly message: string;
}

/** A reply the proxy generated: the script's (sl_send_reply, t_reply, ...) or its own (500, 481, 487, ...). */
export interface RecordedReply extends RecordedResponse {
  /** Extra header lines added by hdr.append_to_reply, as the script wrote them ([] for the proxy's own). */
  readonly headers: readonly string[];
}

/** Where a request would go: the next hop named by the URI (no DNS in tests). */
export interface Destination {
  readonly protocol: Protocol;
  readonly host: string;
  readonly port: number;
}

/** One branch of a stateful relay. */
export interface RecordedTarget {
  readonly uri: string;
  readonly dstUri: string | undefined;
  /** undefined when the branch was not sent (dropped by its branch route, unroutable). */
  readonly destination: Destination | undefined;
  /** The request as it was sent on this branch ('' when not sent). */
  readonly message: string;
  /** Why the branch was not sent. */
  readonly failure: string | undefined;
}

/** A t_relay: the R-URI, $du and extra branches at the time of the call, and what each branch sent. */
export interface RecordedRelay {
  readonly ruri: string;
  readonly dstUri: string | undefined;
  /** Branches added by append_branch / registrar lookup (branch 0, the R-URI, not included). */
  readonly branches: readonly BranchTarget[];
  readonly targets: readonly RecordedTarget[];
  /** The first branch's request as it was sent ('' when nothing was sent). */
  readonly message: string;
}

export interface RecordedForward {
  /** The URI the request was forwarded to (forward_uri's argument, $du or the R-URI). */
  readonly uri: string;
  readonly destination: Destination | undefined;
  readonly message: string;
}

export interface ScriptHarnessOptions {
  /** Path of the routing script. */
  script: string;
  /** KSR modules (default: every Junction module). */
  modules?: readonly ModuleDefinition[];
  config?: HarnessConfig;
  /** Check KSR references at load as the server does (default true). */
  check?: boolean;
}

export interface HarnessConfig {
  /** Listeners, `proto:host:port` as in the config file. Default `udp:127.0.0.1:5060`. */
  listen?: readonly string[];
  /** Extra names that are "us" (is_myself, loose_route). */
  aliases?: readonly string[];
}

export interface MessageOptions {
  /** Where the message comes from: `10.0.0.1:5060/udp`, `tcp:10.0.0.1:5060`, `[2001:db8::1]:5060/tcp`. Default `10.0.0.1:5060/udp`. */
  source?: string;
}

export interface RequestOptions extends MessageOptions {
  /** A server transaction exists (t_check_trans > 0). Default: true except for ACK and CANCEL. */
  transaction?: boolean;
  /**
   * A CANCEL arrived before the script ran (t_is_canceled): the proxy already answered 487
   * (it is in `replies`) and t_relay refuses.
   */
  canceled?: boolean;
}

export interface ReplyOptions extends MessageOptions {
  /**
   * The request's result: the response is delivered to its proxy transaction (reply route,
   * t_on_reply handler, forwarding upstream). Without it, or when the request was not relayed
   * statefully, the response is a stray one (reply route, then stateless forwarding by Via).
   */
  transaction?: RouteResult;
  /** The branch that receives the response. Default: the one whose Via branch it carries, else the first pending one. */
  branchIndex?: number;
}

export interface FailureOptions {
  /**
   * The branch that fails with the reply; the other pending branches time out (408). Default:
   * every pending branch fails with it. The failure route runs for the branch the proxy selects
   * (RFC 3261 §16.7; $T_branch_idx, the earliest among equals).
   */
  branchIndex?: number;
}

/** What the script did with one message (request, reply or failure). */
export interface RouteResult {
  readonly kind: RouteKind;
  /** The routed message, with the script's edits (serialize() shows them). */
  readonly msg: SipMessage;
  /** The transaction's request (the message itself for a request). */
  readonly request: SipMessage;
  /** Replies the proxy generated for the request: the script's and its own (e.g. 500 when every branch failed). */
  readonly replies: readonly RecordedReply[];
  /** Responses from downstream the proxy passed on (upstream, or statelessly by Via). */
  readonly forwardedReplies: readonly RecordedResponse[];
  readonly relays: readonly RecordedRelay[];
  readonly statelessForwards: readonly RecordedForward[];
  /** $var(...) values after the route. */
  readonly vars: Readonly<Record<string, string | number>>;
  /** $avp(...) values after the route (shared by the routes of the transaction). */
  readonly avps: Readonly<Record<string, ReadonlyArray<string | number>>>;
  /** KSR.info/dbg/... lines and module messages, in order. */
  readonly logs: ReadonlyArray<{ level: LogLevel; text: string }>;
  /** Exceptions the script threw (logged by the engine in the server). */
  readonly errors: ReadonlyArray<{ error: unknown; location: ScriptError | undefined }>;
  /** KSR.x.drop() or KSR.set_drop(). */
  readonly dropped: boolean;
  /** The route ended with KSR.x.exit() or KSR.x.drop(). */
  readonly exited: boolean;
  /** Handlers set with t_on_branch / t_on_reply / t_on_failure / t_on_branch_failure. */
  readonly handlers: Readonly<Partial<Record<HandlerKind, RouteHandler>>>;
  /** Message flags after the route. */
  readonly flags: number;
  /** $du after the route (t_relay consumes it, as in the proxy). */
  readonly dstUri: string | undefined;
  /** The Request-URI after the route ('' for a reply). */
  readonly ruri: string;
  /** The message with its edits, as text. */
  readonly serialized: string;
  /** The transaction state, continued by reply() and failure(). */
  readonly transaction: TransactionState;
  /** A fresh KSR object on the route's context, to inspect it: `r.ksr.pv.get('$du')`. */
  readonly ksr: KSR;
  /** KSR.pv.get(name) on the route's context. */
  pv(name: string): unknown;
  /** The route's context itself (the proxy's ScriptContext). */
  readonly context: RouteContext;
}

export interface ScriptHarness {
  readonly registry: KsrRegistry;
  readonly engine: ScriptEngine;
  /** The loaded script. */
  readonly script: LoadedScript;
  /** Run ksr_request_route for a request (SIP text: LF line ends are fine, a template literal's indentation is removed). */
  request(message: string | Buffer, opts?: RequestOptions): Promise<RouteResult>;
  /** A response: ksr_reply_route, then the t_on_reply handler of `opts.transaction`, as the proxy runs them. */
  reply(message: string | Buffer, opts?: ReplyOptions): Promise<RouteResult>;
  /**
   * Run the failure handler `of` set with t_on_failure, as if the transaction failed with this
   * reply (a status code, or a whole response).
   */
  failure(of: RouteResult, reply: number | string | Buffer, opts?: FailureOptions): Promise<RouteResult>;
  /** Reload the script from disk (as SIGHUP does). */
  reload(): Promise<ReloadResult>;
  /** The proxy the script runs on, and its fake ports (client transactions take timeouts, responses). */
  readonly core: ProxyCore;
  readonly transport: FakeTransport;
  readonly transactions: FakeTransactions;
  /** Wait until the routes and relays started by a direct call on the fake ports are done. */
  settle(): Promise<void>;
}

/** SIP text from a test: indentation of a template literal removed, line ends made CRLF. */
export function sipText(text: string): Buffer {
  let lines = text.replace(/\r\n/g, '\n').split('\n');
  while (lines.length > 0 && lines[0].trim() === '') lines.shift();
  // The first line may follow the opening backtick directly: it then does not set the indentation.
  const indented = /^[ \t]/.test(lines[0] ?? '') ? lines : lines.slice(1);
  const indents = indented.filter((l) => l.trim() !== '').map((l) => /^[ \t]*/.exec(l)![0].length);
  const cut = indents.length === 0 ? 0 : Math.min(...indents);
  lines = lines.map((l) => l.slice(Math.min(cut, /^[ \t]*/.exec(l)![0].length)));
  // Header lines end at the first empty line; everything after it is the body, kept as written.
  const blank = lines.findIndex((l) => l.trim() === '');
  const head = blank < 0 ? lines : lines.slice(0, blank);
  const body = blank < 0 ? '' : lines.slice(blank + 1).join('\r\n');
  return Buffer.from(`${head.join('\r\n')}\r\n\r\n${body}`);
}

function parseSip(message: string | Buffer): SipMessage {
  const buf = typeof message === 'string' ? sipText(message) : message;
  const m = parseMessage(buf);
  if (isParseError(m)) throw new Error(`the test message does not parse: ${m.phrase}`);
  return m;
}

const PROTOCOLS: readonly Protocol[] = ['udp', 'tcp', 'tls', 'ws', 'wss'];

/** `10.0.0.1:5060/udp`, `udp:10.0.0.1:5060`, `[::1]:5060/tcp`, `10.0.0.1`. */
export function parseSource(text: string): { protocol: Protocol; address: string; port: number } {
  let s = text.trim();
  let protocol: Protocol = 'udp';
  const slash = s.lastIndexOf('/');
  if (slash > 0) {
    protocol = s.slice(slash + 1).toLowerCase() as Protocol;
    s = s.slice(0, slash);
  } else {
    const colon = s.indexOf(':');
    const p = s.slice(0, colon).toLowerCase();
    if (colon > 0 && (PROTOCOLS as readonly string[]).includes(p)) {
      protocol = p as Protocol;
      s = s.slice(colon + 1);
    }
  }
  if (!PROTOCOLS.includes(protocol)) throw new Error(`unknown protocol in source ${text}`);
  let address = s;
  let port = protocol === 'tls' || protocol === 'wss' ? 5061 : 5060;
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    address = s.slice(1, close);
    if (s[close + 1] === ':') port = Number(s.slice(close + 2));
  } else if (s.split(':').length === 2) {
    const colon = s.indexOf(':');
    address = s.slice(0, colon);
    port = Number(s.slice(colon + 1));
  }
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`bad port in source ${text}`);
  return { protocol, address, port };
}

function listenerInfos(listen: readonly string[]): ListenerInfo[] {
  return listen.map((l, i) => {
    const ep = parseSource(l);
    return {
      id: i + 1,
      protocol: ep.protocol,
      address: ep.address,
      port: ep.port,
      family: ep.address.includes(':') ? 6 : 4,
      advertisedHost: ep.address,
      advertisedPort: ep.port,
    };
  });
}

async function defaultModules(): Promise<readonly ModuleDefinition[]> {
  const { MODULES } = await import('../modules/index.ts');
  return MODULES;
}

/** What the routes of one harness call did. */
interface CallRecord {
  readonly replies: RecordedReply[];
  readonly forwardedReplies: RecordedResponse[];
  readonly relays: RecordedRelay[];
  readonly statelessForwards: RecordedForward[];
  readonly logs: Array<{ level: LogLevel; text: string }>;
  readonly errors: Array<{ error: unknown; location: ScriptError | undefined }>;
  /** Every context a route ran on, in order. */
  readonly contexts: ScriptContext[];
}

function newRecord(): CallRecord {
  return {
    replies: [],
    forwardedReplies: [],
    relays: [],
    statelessForwards: [],
    logs: [],
    errors: [],
    contexts: [],
  };
}

function destinationOf(ep: Endpoint): Destination {
  return { protocol: ep.protocol, host: ep.address, port: ep.port };
}

function isResponse(data: Buffer): boolean {
  return data.subarray(0, 8).toString('latin1') === 'SIP/2.0 ';
}

function reasonOf(message: string): string {
  const eol = message.indexOf('\r\n');
  const line = eol < 0 ? message : message.slice(0, eol);
  const sp = line.indexOf(' ', 8);
  return sp < 0 ? '' : line.slice(sp + 1);
}

/** Why a branch of a relay was not sent, from the status the proxy gave it. */
function branchFailure(b: ProxyBranch): string {
  const status = b.final?.status;
  if (status === 478) return `cannot route to ${b.target.dstUri ?? b.target.uri}`;
  if (status === 503) return 'no listener for the transport of the next hop';
  if (status === 500) return 'the relayed request does not parse';
  return status === undefined ? 'not sent' : `failed with ${status}`;
}

/** The proxy the harness runs: the real core, with the harness's To tag and logs kept per call. */
class HarnessCore extends ProxyCore {
  private readonly harness: Harness;

  constructor(opts: CoreOptions, harness: Harness) {
    super(opts);
    this.harness = harness;
  }

  override localTag(): string {
    return HARNESS_TO_TAG;
  }

  override scriptLog(level: string, text: string): void {
    this.harness.record.logs.push({
      level: level as LogLevel,
      text: text.endsWith('\n') ? text.slice(0, -1) : text,
    });
  }

  // relay and forwardStateless are observed, not changed: the arguments are noted, then the core acts.
  override async relay(ctx: ScriptContext): Promise<number> {
    const call = { ruri: ctx.msg.ruri, dstUri: ctx.dstUri, branches: ctx.branches.slice() };
    const r = await super.relay(ctx);
    if (ctx.ptx !== undefined) this.harness.relayed(ctx.ptx, call);
    return r;
  }

  override async forwardStateless(ctx: ScriptContext, uri?: string): Promise<number> {
    const hopUri = uri ?? ctx.dstUri ?? ctx.request.ruri;
    const transport = this.transport as FakeTransport;
    const from = transport.sent.length;
    const r = await super.forwardStateless(ctx, uri);
    const sent = transport.sent.slice(from).find((m) => !isResponse(m.data));
    if (sent !== undefined) {
      this.harness.record.statelessForwards.push({
        uri: hopUri,
        destination: destinationOf(sent.dest),
        message: sent.data.toString('utf8'),
      });
    }
    return r;
  }
}

class Harness implements ScriptHarness {
  readonly registry: KsrRegistry;
  readonly engine: ScriptEngine;
  readonly core: ProxyCore;
  readonly transport: FakeTransport;
  readonly transactions: FakeTransactions;
  /** The record of the call in progress (request(), reply(), failure()). */
  record: CallRecord = newRecord();
  private readonly listeners: ListenerInfo[];
  /** Contexts whose route is running (a reply is attributed to the latest one of its request). */
  private readonly active: ScriptContext[] = [];
  private readonly pending = new Set<Promise<void>>();
  /** Branches dropped by their branch or onsend route, per proxy transaction. */
  private readonly dropped = new WeakMap<ProxyTransaction, Map<number, string>>();
  /** How many branches of a proxy transaction are already in a RecordedRelay. */
  private readonly recordedBranches = new WeakMap<ProxyTransaction, number>();
  /** Responses the harness delivered: when the proxy passes one on, it is a forwarded reply. */
  private readonly delivered = new Set<SipMessage>();
  private txSeq = 0;

  constructor(registry: KsrRegistry, opts: ScriptHarnessOptions) {
    this.registry = registry;
    this.listeners = listenerInfos(opts.config?.listen ?? ['udp:127.0.0.1:5060']);
    const quiet = (): void => undefined;
    this.engine = new ScriptEngine({
      path: opts.script,
      registry,
      log: { info: quiet, warn: quiet, error: quiet },
      check: opts.check ?? true,
      onError: (error, { location }) => {
        this.record.errors.push({ error, location });
      },
    });
    this.transport = new FakeTransport(this.listeners);
    this.transport.onResponse = (r) =>
      this.upstream(r.request, r.data, Number(r.data.subarray(8, 11).toString()));
    this.transport.onSend = (m) => {
      if (isResponse(m.data)) this.upstream(undefined, m.data, Number(m.data.subarray(8, 11).toString()));
    };
    this.transactions = new FakeTransactions();
    const script: ScriptPort = {
      run: (kind, ctx, handler) => this.runRoute(kind, ctx as ScriptContext, handler),
      has: (kind) => this.engine.has(kind),
    };
    this.core = new HarnessCore(
      {
        transport: this.transport,
        local: new LocalAddresses(this.listeners, opts.config?.aliases ?? []),
        resolver: new LiteralResolver(),
        script,
        log: { debug: quiet, info: quiet, warn: quiet, error: quiet },
      },
      this,
    );
    this.core.transactions = this.transactions;
  }

  get script(): LoadedScript {
    return this.engine.current!;
  }

  /** The ScriptPort: the engine, with every context and pending route noted. */
  private runRoute(
    kind: RouteKind,
    ctx: ScriptContext,
    handler: RouteHandler | undefined,
  ): Promise<void> | void {
    this.record.contexts.push(ctx);
    this.active.push(ctx);
    let r: Promise<void> | void;
    try {
      r = this.engine.run(kind, ctx, handler);
    } catch (err) {
      this.finished(ctx);
      throw err;
    }
    if (r === undefined) {
      this.finished(ctx);
      return undefined;
    }
    const p = r.finally(() => this.finished(ctx));
    this.pending.add(p);
    p.then(
      () => this.pending.delete(p),
      () => this.pending.delete(p),
    );
    return p;
  }

  private finished(ctx: ScriptContext): void {
    const i = this.active.lastIndexOf(ctx);
    if (i >= 0) this.active.splice(i, 1);
    if (ctx.dropped && ctx.ptx !== undefined && (ctx.kind === 'branch' || ctx.kind === 'onsend')) {
      let m = this.dropped.get(ctx.ptx);
      if (m === undefined) {
        m = new Map();
        this.dropped.set(ctx.ptx, m);
      }
      m.set(
        ctx.branchIndex,
        ctx.kind === 'branch' ? 'dropped by the branch route' : 'dropped by the onsend route',
      );
    }
  }

  async settle(): Promise<void> {
    for (;;) {
      // Relays continue in microtasks after the route that started them: let them run.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.pending.size === 0) return;
      await Promise.allSettled([...this.pending]);
    }
  }

  /** A response went upstream: one the harness delivered (forwarded), or one the proxy generated. */
  private upstream(request: SipMessage | undefined, data: Buffer, code: number): void {
    const message = data.toString('utf8');
    const reason = reasonOf(message);
    for (const m of this.delivered) {
      if (data.equals(m.serialize())) {
        this.record.forwardedReplies.push({ code, reason, message });
        return;
      }
    }
    let ctx: ScriptContext | undefined;
    for (let i = this.active.length - 1; i >= 0 && ctx === undefined; i--) {
      const c = this.active[i];
      if (c.request === request && c.replied && c.kind !== 'reply' && c.kind !== 'onreply') ctx = c;
    }
    this.record.replies.push({
      code,
      reason,
      headers: ctx === undefined ? [] : ctx.replyHeaders.slice(),
      message,
    });
  }

  /** Called by the core after t_relay: the branches it created, as a RecordedRelay. */
  relayed(
    ptx: ProxyTransaction,
    call: { ruri: string; dstUri: string | undefined; branches: BranchTarget[] },
  ): void {
    const from = this.recordedBranches.get(ptx) ?? 0;
    const created = ptx.branches.slice(from);
    this.recordedBranches.set(ptx, ptx.branches.length);
    if (created.length === 0) return;
    const targets = created.map((b): RecordedTarget => {
      const tx = b.clientTx;
      if (tx instanceof FakeClientTx) {
        return {
          uri: b.target.uri,
          dstUri: b.target.dstUri,
          destination: destinationOf(tx.dest),
          message: tx.data.toString('utf8'),
          failure: undefined,
        };
      }
      const failure = this.dropped.get(ptx)?.get(b.index) ?? branchFailure(b);
      return { uri: b.target.uri, dstUri: b.target.dstUri, destination: undefined, message: '', failure };
    });
    const sent = targets.find((t) => t.failure === undefined);
    this.record.relays.push({ ...call, targets, message: sent?.message ?? '' });
  }

  private receiveInfo(opts: MessageOptions | undefined): ReceiveInfo {
    const source = parseSource(opts?.source ?? '10.0.0.1:5060/udp');
    const listener = this.listeners.find((l) => l.protocol === source.protocol) ?? this.listeners[0];
    return { source, listener, connectionId: 0, receivedAt: performance.now() };
  }

  async request(message: string | Buffer, opts: RequestOptions = {}): Promise<RouteResult> {
    const msg = parseSip(message);
    if (!msg.isRequest) throw new Error('request() needs a request; use reply() for responses');
    const info = this.receiveInfo(opts);
    // What the transport does before the proxy sees a request (RFC 3261 §18.2.1, RFC 3581).
    stampTopVia(msg, info.source.address, info.source.port);
    const transaction = opts.transaction ?? (msg.method !== 'ACK' && msg.method !== 'CANCEL');
    const record = this.begin();
    let tx: FakeServerTx | undefined;
    if (transaction) {
      tx = new FakeServerTx(`harness-${++this.txSeq}`, msg, (t, data, status) =>
        this.upstream(t.request, data, status),
      );
      if (opts.canceled === true) this.core.onCancel(parseSip(buildCancel(msg)), info, tx);
    }
    this.core.onRequest(msg, info, tx);
    await this.settle();
    return this.result(
      record,
      ['request'],
      () => new ScriptContext(this.core, 'request', msg, msg, info, newRelayState()),
    );
  }

  async reply(message: string | Buffer, opts: ReplyOptions = {}): Promise<RouteResult> {
    const res = parseSip(message);
    if (res.isRequest) throw new Error('reply() needs a response; use request() for requests');
    const of = opts.transaction;
    const ptx = of === undefined ? undefined : (of.context as ScriptContext).ptx;
    const info = of?.context.info ?? this.receiveInfo(opts);
    const record = this.begin();
    this.delivered.add(res);
    const tx = ptx === undefined ? undefined : this.clientTxFor(ptx, res, opts.branchIndex);
    if (tx !== undefined) tx.receive(res);
    else this.core.onStrayResponse(res, info);
    await this.settle();
    return this.result(
      record,
      ['reply', 'onreply'],
      () =>
        new ScriptContext(
          this.core,
          'reply',
          res,
          of?.request ?? res,
          info,
          ptx?.state ?? newRelayState(),
          ptx,
          0,
          res.status,
        ),
    );
  }

  /** The client transaction a response belongs to: by Via branch, else the first pending branch. */
  private clientTxFor(
    ptx: ProxyTransaction,
    res: SipMessage,
    branchIndex: number | undefined,
  ): FakeClientTx | undefined {
    const sent = ptx.branches.filter((b) => b.clientTx instanceof FakeClientTx);
    const txOf = (b: ProxyBranch | undefined): FakeClientTx | undefined =>
      b?.clientTx as FakeClientTx | undefined;
    if (branchIndex !== undefined) return txOf(sent.find((b) => b.index === branchIndex));
    const branch = res.topVia?.branch;
    return txOf(
      sent.find((b) => txOf(b)?.branch === branch) ?? sent.find((b) => b.final === undefined) ?? sent[0],
    );
  }

  async failure(
    of: RouteResult,
    reply: number | string | Buffer,
    opts: FailureOptions = {},
  ): Promise<RouteResult> {
    const handler = of.transaction.handlers.failure;
    if (handler === undefined)
      throw new Error('the script set no failure handler (KSR.tm.t_on_failure) for this transaction');
    const code = typeof reply === 'number' ? reply : parseSip(reply).status;
    if (code < 300) throw new Error(`a failure route runs for a final reply >= 300, not ${code}`);
    const ptx = (of.context as ScriptContext).ptx;
    if (ptx === undefined)
      throw new Error('the request was not relayed statefully: there is no branch to fail');
    const pending = ptx.branches.filter((b) => b.final === undefined);
    if (pending.length === 0) throw new Error('every branch of the transaction already has a final reply');
    const record = this.begin();
    for (const b of pending) {
      const tx = b.clientTx instanceof FakeClientTx ? b.clientTx : undefined;
      if (opts.branchIndex !== undefined && b.index !== opts.branchIndex) {
        if (tx !== undefined) tx.timeout();
        else ptx.branchFailed(b, 408);
      } else if (typeof reply === 'number' || tx === undefined) {
        // A status alone: the branch ends without a response (no reply route runs), as a timeout does.
        ptx.branchFailed(b, code);
      } else {
        const res = parseSip(reply);
        this.delivered.add(res);
        tx.receive(res);
      }
    }
    await this.settle();
    return this.result(
      record,
      ['failure'],
      () =>
        new ScriptContext(
          this.core,
          'failure',
          ptx.request,
          ptx.request,
          ptx.info,
          ptx.state,
          ptx,
          opts.branchIndex ?? 0,
          code,
        ),
    );
  }

  reload(): Promise<ReloadResult> {
    return this.engine.reload();
  }

  private begin(): CallRecord {
    this.record = newRecord();
    return this.record;
  }

  /** The result of a call: its first context of `kinds` (else `fallback()`, a route that did not run). */
  private result(
    record: CallRecord,
    kinds: readonly RouteKind[],
    fallback: () => ScriptContext,
  ): RouteResult {
    const contexts = record.contexts.filter((c) => kinds.includes(c.kind));
    const ctx = contexts[0] ?? fallback();
    const registry = this.registry;
    const inspect = registry.createKsr(ctx);
    const handlers: Partial<Record<HandlerKind, RouteHandler>> = {};
    for (const [k, v] of Object.entries(ctx.state.handlers))
      if (v !== undefined) handlers[k as HandlerKind] = v;
    return {
      kind: ctx.kind,
      msg: ctx.msg,
      request: ctx.request,
      replies: record.replies,
      forwardedReplies: record.forwardedReplies,
      relays: record.relays,
      statelessForwards: record.statelessForwards,
      vars: Object.fromEntries(ctx.vars),
      avps: Object.fromEntries(ctx.avps),
      logs: record.logs,
      errors: record.errors,
      dropped: contexts.some((c) => c.dropped),
      exited: contexts.some((c) => wasExited(c)),
      handlers,
      flags: ctx.flags,
      dstUri: ctx.dstUri,
      ruri: ctx.msg.ruri,
      serialized: ctx.msg.serialize().toString('utf8'),
      transaction: ctx.state,
      ksr: inspect,
      pv(name: string): unknown {
        if (!registry.has(['pv', 'get'])) throw new Error('the pv module is not loaded');
        return (inspect as unknown as { pv: { get(n: string): unknown } }).pv.get(name);
      },
      context: ctx,
    };
  }
}

/** Load a routing script for tests; throws with file:line:column when it does not load. */
export async function createScriptHarness(opts: ScriptHarnessOptions): Promise<ScriptHarness> {
  const registry = new KsrRegistry(opts.modules ?? (await defaultModules()));
  const h = new Harness(registry, opts);
  const loaded = await h.engine.load();
  if (Array.isArray(loaded)) {
    throw new Error(
      `routing script ${opts.script} does not load:\n${(loaded as ScriptError[]).map(formatScriptError).join('\n')}`,
    );
  }
  return h;
}
