/**
 * The RouteContext of the script test harness (testing.ts): what the proxy would do, recorded
 * instead of sent. It applies the same edits as the proxy core, through the same helpers
 * (SipMessage edit methods, addRecordRoute, looseRoute, buildResponse, statelessBranch), so the
 * recorded messages are the bytes the proxy would send — except that host names are not
 * resolved (the destination is the URI's host) and Via branches are predictable.
 */
import type { BranchTarget, RouteContext, RouteHandler, RouteKind } from '../proxy/context.ts';
import { statelessBranch } from '../proxy/core.ts';
import type { LocalAddresses } from '../proxy/myself.ts';
import { addRecordRoute, looseRoute, type RecordRouteRequest } from '../proxy/routing.ts';
import { nextHopOf } from '../proxy/target.ts';
import { buildResponse } from '../sip/build.ts';
import { EditList } from '../sip/edits.ts';
import { isParseError } from '../sip/errors.ts';
import type { SipMessage } from '../sip/message.ts';
import { parseMessage } from '../sip/parse_message.ts';
import type { ListenerInfo, Protocol, ReceiveInfo } from '../transport/types.ts';
import type { ScriptError } from './errors.ts';

export type HandlerKind = 'branch' | 'onreply' | 'failure' | 'branch_failure';
export type LogLevel = 'dbg' | 'info' | 'notice' | 'warn' | 'err' | 'crit' | 'alert';

/** A reply the script sent (sl_send_reply, t_reply, ...). */
export interface RecordedReply {
  readonly code: number;
  readonly reason: string;
  /** Extra header lines added by hdr.append_to_reply, as the script wrote them. */
  readonly headers: readonly string[];
  /** The whole response as it would be sent. */
  readonly message: string;
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
  /** The request as it would be sent on this branch ('' when not sent). */
  readonly message: string;
  /** Why the branch was not sent. */
  readonly failure: string | undefined;
}

/** A t_relay: the R-URI, $du and extra branches at the time of the call, and what each branch sends. */
export interface RecordedRelay {
  readonly ruri: string;
  readonly dstUri: string | undefined;
  /** Branches added by append_branch / registrar lookup (branch 0, the R-URI, not included). */
  readonly branches: readonly BranchTarget[];
  readonly targets: readonly RecordedTarget[];
  /** The first branch's request as it would be sent ('' when nothing was sent). */
  readonly message: string;
}

export interface RecordedForward {
  /** The URI the request was forwarded to (forward_uri's argument, $du or the R-URI). */
  readonly uri: string;
  readonly destination: Destination | undefined;
  readonly message: string;
}

/** What every route of one harness call did. */
export class Recorder {
  readonly replies: RecordedReply[] = [];
  readonly relays: RecordedRelay[] = [];
  readonly statelessForwards: RecordedForward[] = [];
  readonly logs: Array<{ level: LogLevel; text: string }> = [];
  /** Exceptions thrown by the script (the exit sentinel excluded), with their location when known. */
  readonly errors: Array<{ error: unknown; location: ScriptError | undefined }> = [];
}

/** What lives as long as the transaction: shared by request, branch, reply and failure routes. */
export interface TransactionState {
  readonly handlers: Partial<Record<HandlerKind, RouteHandler>>;
  recordRoute: RecordRouteRequest | undefined;
  readonly avps: Map<string, Array<string | number>>;
  flags: number;
  frInvMs: number;
  frMs: number;
  /** A server transaction exists (t_check_trans); false for ACK and unmatched CANCEL. */
  transaction: boolean;
  canceled: boolean;
}

export function newTransactionState(transaction: boolean, canceled = false): TransactionState {
  return {
    handlers: {},
    recordRoute: undefined,
    avps: new Map(),
    flags: 0,
    frInvMs: 0,
    frMs: 0,
    transaction,
    canceled,
  };
}

/** The environment a harness context works in. */
export interface HarnessEnv {
  readonly local: LocalAddresses;
  readonly listeners: readonly ListenerInfo[];
  /** Runs a route (the engine's run()). */
  run(kind: RouteKind, ctx: HarnessContext, handler?: RouteHandler): Promise<void> | void;
  /** Whether the script exports ksr_onsend_route. */
  hasOnsend(): boolean;
  /** A new Via branch (predictable in tests). */
  nextBranch(): string;
}

/** The To tag the harness puts in replies it generates (as the proxy's, stable per request). */
export const HARNESS_TO_TAG = 'junction-test';

function splitHeaderLine(line: string): [string, string] {
  const t = line.endsWith('\r\n') ? line.slice(0, -2) : line.endsWith('\n') ? line.slice(0, -1) : line;
  const colon = t.indexOf(':');
  return colon < 0 ? [t.trim(), ''] : [t.slice(0, colon).trim(), t.slice(colon + 1).trim()];
}

function viaValue(out: ListenerInfo, branch: string): string {
  const h = out.advertisedHost;
  const host = h.includes(':') && h.charCodeAt(0) !== 0x5b ? `[${h}]` : h;
  return `SIP/2.0/${out.protocol.toUpperCase()} ${host}:${out.advertisedPort};branch=${branch}`;
}

function stripAngle(v: string): string {
  const a = v.indexOf('<');
  const b = v.indexOf('>', a + 1);
  return a >= 0 && b > a ? v.slice(a + 1, b) : v;
}

export class HarnessContext implements RouteContext {
  readonly kind: RouteKind;
  readonly msg: SipMessage;
  readonly request: SipMessage;
  readonly info: ReceiveInfo;
  dstUri: string | undefined = undefined;
  readonly branches: BranchTarget[] = [];
  bflags = 0;
  dropped = false;
  forceRport = false;
  readonly vars: Map<string, string | number>;
  readonly replyHeaders: string[] = [];
  readonly branchIndex: number;
  readonly replyCode: number;
  replied = false;
  relayed = false;

  readonly state: TransactionState;
  readonly recorder: Recorder;
  private readonly env: HarnessEnv;

  constructor(init: {
    kind: RouteKind;
    msg: SipMessage;
    request: SipMessage;
    info: ReceiveInfo;
    state: TransactionState;
    recorder: Recorder;
    env: HarnessEnv;
    branchIndex?: number;
    replyCode?: number;
    vars?: Map<string, string | number>;
  }) {
    this.kind = init.kind;
    this.msg = init.msg;
    this.request = init.request;
    this.info = init.info;
    this.state = init.state;
    this.recorder = init.recorder;
    this.env = init.env;
    this.branchIndex = init.branchIndex ?? -1;
    this.replyCode = init.replyCode ?? 0;
    this.vars = init.vars ?? new Map();
  }

  get flags(): number {
    return this.state.flags;
  }
  set flags(v: number) {
    this.state.flags = v;
  }
  get avps(): Map<string, Array<string | number>> {
    return this.state.avps;
  }

  reply(code: number, reason: string): number {
    if (this.kind === 'reply' || this.kind === 'onreply' || !this.request.isRequest) return -1;
    if (this.request.method === 'ACK') return -1;
    const data = buildResponse(this.request, code, reason, {
      toTag: HARNESS_TO_TAG,
      headers: this.replyHeaders.map(splitHeaderLine),
    });
    this.replied = true;
    this.recorder.replies.push({
      code,
      reason,
      headers: this.replyHeaders.slice(),
      message: data.toString('utf8'),
    });
    return 1;
  }

  async relay(opts?: { dstUri?: string }): Promise<number> {
    if (opts?.dstUri !== undefined) this.dstUri = opts.dstUri;
    const req = this.request;
    if (!this.state.transaction || req.method === 'ACK') return this.forwardStateless();
    if (this.state.canceled) return -1;
    const first: BranchTarget = { uri: req.ruri };
    if (this.dstUri !== undefined) first.dstUri = this.dstUri;
    const branches = this.branches.slice();
    const targets = [first, ...branches];
    // As the proxy: t_relay consumes the destination set.
    this.branches.length = 0;
    this.dstUri = undefined;
    const recorded: RecordedTarget[] = [];
    for (let i = 0; i < targets.length; i++) recorded.push(await this.sendBranch(targets[i], i));
    const sent = recorded.find((t) => t.failure === undefined);
    this.recorder.relays.push({
      ruri: first.uri,
      dstUri: first.dstUri,
      branches,
      targets: recorded,
      message: sent?.message ?? '',
    });
    if (sent === undefined) return -1;
    this.relayed = true;
    return 1;
  }

  private async sendBranch(target: BranchTarget, index: number): Promise<RecordedTarget> {
    const req = this.request;
    const edits = new EditList();
    const failed = (failure: string): RecordedTarget => ({
      uri: target.uri,
      dstUri: target.dstUri,
      destination: undefined,
      message: '',
      failure,
    });
    if (target.uri !== req.ruri) req.setRuri(target.uri, edits);
    const path = target.path ?? [];
    for (let i = path.length - 1; i >= 0; i--) req.prependHeader('Route', path[i], edits);
    const hopUri = target.dstUri ?? (path.length > 0 ? stripAngle(path[0]) : target.uri);
    const branchHandler = this.state.handlers.branch;
    if (branchHandler !== undefined) {
      const bctx = this.derive('branch', req, index);
      bctx.dstUri = target.dstUri;
      req.editTarget = edits;
      try {
        const r = this.env.run('branch', bctx, branchHandler);
        if (r !== undefined) await r;
      } finally {
        req.editTarget = null;
      }
      if (bctx.dropped) return failed('dropped by the branch route');
    }
    const hop = nextHopOf(hopUri);
    if (isParseError(hop)) return failed(`cannot route to ${hopUri}: ${hop.phrase}`);
    const out = this.env.listeners.find((l) => l.protocol === hop.protocol);
    if (out === undefined) return failed(`no ${hop.protocol} listener`);
    if (!req.maxForwardsProcessed)
      req.setMaxForwards(req.maxForwards < 0 ? 70 : Math.max(0, req.maxForwards - 1), edits);
    if (this.state.recordRoute !== undefined && req.method !== 'REGISTER') {
      addRecordRoute(req, this.state.recordRoute, this.info.listener, out, edits);
    }
    req.prependHeader('Via', viaValue(out, this.env.nextBranch()), edits);
    if (hop.protocol !== 'udp') req.ensureContentLength(edits);
    const data = req.serialize(edits);
    const sent = parseMessage(data);
    if (isParseError(sent)) return failed(`relayed request does not parse: ${sent.phrase}`);
    if (this.env.hasOnsend()) {
      const sctx = new HarnessContext({
        kind: 'onsend',
        msg: sent,
        request: req,
        info: this.info,
        state: this.state,
        recorder: this.recorder,
        env: this.env,
        branchIndex: index,
      });
      const r = this.env.run('onsend', sctx);
      if (r !== undefined) await r;
      if (sctx.dropped) return failed('dropped by the onsend route');
    }
    return {
      uri: target.uri,
      dstUri: target.dstUri,
      destination: { protocol: hop.protocol, host: hop.host, port: hop.port },
      message: data.toString('utf8'),
      failure: undefined,
    };
  }

  forwardStateless(uri?: string): Promise<number> {
    const req = this.request;
    const hopUri = uri ?? this.dstUri ?? req.ruri;
    const hop = nextHopOf(hopUri);
    if (isParseError(hop)) return Promise.resolve(-1);
    const out = this.env.listeners.find((l) => l.protocol === hop.protocol);
    if (out === undefined) return Promise.resolve(-1);
    const edits = new EditList();
    if (!req.maxForwardsProcessed && req.method !== 'ACK') {
      req.setMaxForwards(req.maxForwards < 0 ? 70 : Math.max(0, req.maxForwards - 1), edits);
    }
    if (this.state.recordRoute !== undefined && req.method !== 'ACK') {
      addRecordRoute(req, this.state.recordRoute, this.info.listener, out, edits);
    }
    req.prependHeader('Via', viaValue(out, statelessBranch(req)), edits);
    if (hop.protocol !== 'udp') req.ensureContentLength(edits);
    this.recorder.statelessForwards.push({
      uri: hopUri,
      destination: { protocol: hop.protocol, host: hop.host, port: hop.port },
      message: req.serialize(edits).toString('utf8'),
    });
    this.relayed = true;
    return Promise.resolve(1);
  }

  setHandler(kind: HandlerKind, handler: RouteHandler | undefined): void {
    if (handler === undefined) delete this.state.handlers[kind];
    else this.state.handlers[kind] = handler;
  }

  /** Optional RouteContext extra (t_is_set). */
  getHandler(kind: HandlerKind): RouteHandler | undefined {
    return this.state.handlers[kind];
  }

  recordRoute(params?: string, preset?: string): number {
    if (!this.request.isRequest) return -1;
    const p = params === undefined || params === '' ? '' : params.startsWith(';') ? params : `;${params}`;
    const rr = this.state.recordRoute;
    if (rr === undefined) this.state.recordRoute = { params: p, preset };
    else {
      rr.params += p;
      if (preset !== undefined) rr.preset = preset;
    }
    return 1;
  }

  /** Optional RouteContext extra (remove_record_route). */
  removeRecordRoute(): boolean {
    const had = this.state.recordRoute !== undefined;
    this.state.recordRoute = undefined;
    return had;
  }

  looseRoute(): number {
    const r = looseRoute(this.request, this.env.local);
    if (r.code > 0 && r.dstUri !== undefined) this.dstUri = r.dstUri;
    return r.code;
  }

  isMyself(uri: string): boolean {
    return this.env.local.isMyselfUri(uri);
  }

  hasTransaction(): boolean {
    return this.state.transaction;
  }

  isCanceled(): boolean {
    return this.state.canceled;
  }

  setFinalResponseTimers(frInvMs: number, frMs: number): void {
    if (frInvMs > 0) this.state.frInvMs = frInvMs;
    if (frMs > 0) this.state.frMs = frMs;
  }

  log(level: LogLevel, text: string): void {
    this.recorder.logs.push({ level, text: text.endsWith('\n') ? text.slice(0, -1) : text });
  }

  /** A context for another route of the same transaction and harness call. */
  derive(kind: RouteKind, msg: SipMessage, branchIndex = -1, replyCode = 0): HarnessContext {
    return new HarnessContext({
      kind,
      msg,
      request: this.request,
      info: this.info,
      state: this.state,
      recorder: this.recorder,
      env: this.env,
      branchIndex,
      replyCode,
    });
  }
}
