/**
 * Unit-test a routing script without a network: feed it SIP messages and look at what it did.
 *
 *   import { createScriptHarness } from 'junction/testing';
 *   const h = await createScriptHarness({ script: 'routes/default.ts' });
 *   const r = await h.request(`OPTIONS sip:127.0.0.1 SIP/2.0 ...`);
 *   assert.equal(r.replies[0].code, 200);
 *   const f = await h.failure(r, 486);          // the failure handler the script set with t_on_failure
 *
 * The script runs through the same engine and KSR registry as in the server (the same modules,
 * the same route checks, KSR.x.exit semantics, error logging); only the RouteContext is the
 * harness's (harness_context.ts), which records replies, relays and forwards — with the message
 * bytes the proxy would send — instead of sending them.
 */
import type { RouteContext, RouteHandler, RouteKind } from '../proxy/context.ts';
import { LocalAddresses } from '../proxy/myself.ts';
import { isParseError } from '../sip/errors.ts';
import type { SipMessage } from '../sip/message.ts';
import { parseMessage } from '../sip/parse_message.ts';
import type { ListenerInfo, Protocol, ReceiveInfo } from '../transport/types.ts';
import { stampTopVia } from '../transport/via_stamp.ts';
import { type ReloadResult, ScriptEngine } from './engine.ts';
import { formatScriptError, type ScriptError } from './errors.ts';
import { wasExited } from './exit.ts';
import {
  type HandlerKind,
  HarnessContext,
  type HarnessEnv,
  type LogLevel,
  newTransactionState,
  type RecordedForward,
  type RecordedRelay,
  type RecordedReply,
  Recorder,
  type TransactionState,
} from './harness_context.ts';
import type { LoadedScript } from './loader.ts';
import type { ModuleDefinition } from './module.ts';
import { KsrRegistry } from './registry.ts';
import type { KSR } from './types.ts';

export type {
  Destination,
  HandlerKind,
  RecordedForward,
  RecordedRelay,
  RecordedReply,
  RecordedTarget,
  TransactionState,
} from './harness_context.ts';

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
  /** The transaction was canceled (t_is_canceled). */
  canceled?: boolean;
}

export interface ReplyOptions extends MessageOptions {
  /** The request's result: its transaction (t_on_reply handler, AVPs, flags) is continued. */
  transaction?: RouteResult;
}

export interface FailureOptions {
  /** Branch index the failure route runs for ($T_branch_idx). Default 0. */
  branchIndex?: number;
}

/** What the script did with one message (request, reply or failure). */
export interface RouteResult {
  readonly kind: RouteKind;
  /** The routed message, with the script's edits (serialize() shows them). */
  readonly msg: SipMessage;
  /** The transaction's request (the message itself for a request). */
  readonly request: SipMessage;
  readonly replies: readonly RecordedReply[];
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
  /** The route's context itself. */
  readonly context: RouteContext;
}

export interface ScriptHarness {
  readonly registry: KsrRegistry;
  readonly engine: ScriptEngine;
  /** The loaded script. */
  readonly script: LoadedScript;
  /** Run ksr_request_route for a request (SIP text: LF line ends are fine, a template literal's indentation is removed). */
  request(message: string | Buffer, opts?: RequestOptions): Promise<RouteResult>;
  /** Run ksr_reply_route, then the t_on_reply handler of `opts.transaction` when it set one. */
  reply(message: string | Buffer, opts?: ReplyOptions): Promise<RouteResult>;
  /**
   * Run the failure handler `of` set with t_on_failure, as if the transaction failed with this
   * reply (a status code, or a whole response).
   */
  failure(of: RouteResult, reply: number | string | Buffer, opts?: FailureOptions): Promise<RouteResult>;
  /** Reload the script from disk (as SIGHUP does). */
  reload(): Promise<ReloadResult>;
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

class Harness implements ScriptHarness {
  readonly registry: KsrRegistry;
  readonly engine: ScriptEngine;
  private readonly env: HarnessEnv;
  private readonly listeners: ListenerInfo[];
  private branchSeq = 0;

  constructor(registry: KsrRegistry, opts: ScriptHarnessOptions) {
    this.registry = registry;
    this.listeners = listenerInfos(opts.config?.listen ?? ['udp:127.0.0.1:5060']);
    const local = new LocalAddresses(this.listeners, opts.config?.aliases ?? []);
    const quiet = (): void => undefined;
    this.engine = new ScriptEngine({
      path: opts.script,
      registry,
      log: { info: quiet, warn: quiet, error: quiet },
      check: opts.check ?? true,
      onError: (error, { ctx, location }) => {
        if (ctx instanceof HarnessContext) ctx.recorder.errors.push({ error, location });
      },
    });
    this.env = {
      local,
      listeners: this.listeners,
      run: (kind, ctx, handler) => this.engine.run(kind, ctx, handler),
      hasOnsend: () => this.engine.has('onsend'),
      nextBranch: () => `z9hG4bKjunctiontest${++this.branchSeq}`,
    };
  }

  get script(): LoadedScript {
    return this.engine.current!;
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
    // What the transport does before the script sees a request (RFC 3261 §18.2.1, RFC 3581).
    stampTopVia(msg, info.source.address, info.source.port);
    const transaction = opts.transaction ?? (msg.method !== 'ACK' && msg.method !== 'CANCEL');
    const state = newTransactionState(transaction, opts.canceled ?? false);
    const recorder = new Recorder();
    const ctx = new HarnessContext({
      kind: 'request',
      msg,
      request: msg,
      info,
      state,
      recorder,
      env: this.env,
    });
    await this.engine.run('request', ctx);
    return this.result(ctx, [ctx]);
  }

  async reply(message: string | Buffer, opts: ReplyOptions = {}): Promise<RouteResult> {
    const res = parseSip(message);
    if (res.isRequest) throw new Error('reply() needs a response; use request() for requests');
    const tx = opts.transaction;
    const info = tx?.context.info ?? this.receiveInfo(opts);
    const state = tx?.transaction ?? newTransactionState(false);
    const recorder = new Recorder();
    const request = tx?.request ?? res;
    const ctx = new HarnessContext({
      kind: 'reply',
      msg: res,
      request,
      info,
      state,
      recorder,
      env: this.env,
      branchIndex: 0,
      replyCode: res.status,
    });
    const contexts = [ctx];
    // As the proxy: the global reply route, then the transaction's onreply handler unless dropped.
    if (this.engine.has('reply')) await this.engine.run('reply', ctx);
    const onreply = state.handlers.onreply;
    if (!ctx.dropped && onreply !== undefined && tx !== undefined) {
      const octx = ctx.derive('onreply', res, 0, res.status);
      contexts.push(octx);
      await this.engine.run('onreply', octx, onreply);
    }
    return this.result(ctx, contexts);
  }

  async failure(
    of: RouteResult,
    reply: number | string | Buffer,
    opts: FailureOptions = {},
  ): Promise<RouteResult> {
    const handler = of.transaction.handlers.failure;
    if (handler === undefined)
      throw new Error('the script set no failure handler (KSR.tm.t_on_failure) for this transaction');
    let code: number;
    if (typeof reply === 'number') code = reply;
    else code = parseSip(reply).status;
    if (code < 300) throw new Error(`a failure route runs for a final reply >= 300, not ${code}`);
    const base = of.context as HarnessContext;
    const ctx = new HarnessContext({
      kind: 'failure',
      msg: of.request,
      request: of.request,
      info: base.info,
      state: of.transaction,
      recorder: new Recorder(),
      env: this.env,
      branchIndex: opts.branchIndex ?? 0,
      replyCode: code,
    });
    await this.engine.run('failure', ctx, handler);
    return this.result(ctx, [ctx]);
  }

  reload(): Promise<ReloadResult> {
    return this.engine.reload();
  }

  private result(ctx: HarnessContext, contexts: readonly HarnessContext[]): RouteResult {
    const rec = ctx.recorder;
    const registry = this.registry;
    const inspect = registry.createKsr(ctx);
    return {
      kind: ctx.kind,
      msg: ctx.msg,
      request: ctx.request,
      replies: rec.replies,
      relays: rec.relays,
      statelessForwards: rec.statelessForwards,
      vars: Object.fromEntries(ctx.vars),
      avps: Object.fromEntries(ctx.avps),
      logs: rec.logs,
      errors: rec.errors,
      dropped: contexts.some((c) => c.dropped),
      exited: contexts.some((c) => wasExited(c)),
      handlers: { ...ctx.state.handlers },
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
