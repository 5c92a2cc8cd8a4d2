/**
 * The RouteContext the proxy gives to routing scripts: one per message and route invocation.
 * State that belongs to the transaction (AVPs, flags, handlers) lives on the ProxyTransaction
 * and is shared by every route of that transaction.
 */
import { buildResponse } from '../sip/build.ts';
import { isParseError } from '../sip/errors.ts';
import type { SipMessage } from '../sip/message.ts';
import type { Uri } from '../sip/types.ts';
import type { Endpoint, ReceiveInfo } from '../transport/types.ts';
import type { BranchTarget, RouteContext, RouteHandler, RouteKind } from './context.ts';
import type { ProxyCore } from './core.ts';
import type { ProxyTransaction } from './proxy_transaction.ts';
import { looseRoute, looseRouteCallbacks, type RecordRouteRequest } from './routing.ts';

/**
 * State a request route builds up for t_relay (handlers, record-route) and keeps per transaction.
 * A class of fixed shape; the AVP map is made on first use (most transactions never touch one).
 */
export class RelayState {
  handlers: {
    branch?: RouteHandler;
    onreply?: RouteHandler;
    failure?: RouteHandler;
    branch_failure?: RouteHandler;
  } = {};
  recordRoute: RecordRouteRequest | undefined = undefined;
  flags = 0;
  frInvMs = 0;
  frMs = 0;
  /** Applied to every response before it goes upstream (identity restore, see identity.ts). */
  fixResponse: ((res: SipMessage) => void) | undefined = undefined;
  /** The dialog this request belongs to or creates (dialog module), undefined when untracked. */
  dlg: DialogSlot | undefined = undefined;
  private avpMap: Map<string, Array<string | number>> | undefined = undefined;

  get avps(): Map<string, Array<string | number>> {
    this.avpMap ??= new Map();
    return this.avpMap;
  }
}

/**
 * What the proxy knows of a tracked dialog (the dialog module's Dialog implements it): it sees
 * every response received for the transaction that carries it.
 */
export interface DialogSlot {
  onReply(res: SipMessage): void;
}

export function newRelayState(): RelayState {
  return new RelayState();
}

export class ScriptContext implements RouteContext {
  readonly kind: RouteKind;
  readonly msg: SipMessage;
  readonly request: SipMessage;
  readonly info: ReceiveInfo;
  dstUri: string | undefined = undefined;
  readonly branches: BranchTarget[] = [];
  ruriPath: string[] | undefined = undefined;
  private ownBflags = 0;
  dropped = false;
  exited = false;
  forceRport = false;
  // Created on first use: most messages never touch $var() or add reply headers.
  private varsMap: Map<string, string | number> | undefined = undefined;
  private replyHeaderList: string[] | undefined = undefined;
  branchIndex: number;
  replyCode: number;
  /** Set once the request was answered or relayed by the script. */
  replied = false;
  /** t_newtran was called: replies keep the server transaction (see reply). */
  private keptTransaction = false;
  relayed = false;

  readonly core: ProxyCore;
  /** The proxy transaction once t_relay created it (or the one a reply/failure route runs in). */
  ptx: ProxyTransaction | undefined;
  readonly state: RelayState;

  constructor(
    core: ProxyCore,
    kind: RouteKind,
    msg: SipMessage,
    request: SipMessage,
    info: ReceiveInfo,
    state: RelayState,
    ptx?: ProxyTransaction,
    branchIndex = -1,
    replyCode = 0,
  ) {
    this.core = core;
    this.kind = kind;
    this.msg = msg;
    this.request = request;
    this.info = info;
    this.state = state;
    this.ptx = ptx;
    this.branchIndex = branchIndex;
    this.replyCode = replyCode;
  }

  get flags(): number {
    return this.state.flags;
  }

  /**
   * Branch flags: in branch, reply and failure routes of a branch, that branch's (saved with its
   * target, so a flag set in the branch route is seen by its replies); elsewhere this context's.
   */
  get bflags(): number {
    const b = this.branchIndex >= 0 ? this.ptx?.branches[this.branchIndex] : undefined;
    return b === undefined ? this.ownBflags : (b.target.flags ?? 0);
  }
  set bflags(v: number) {
    const b = this.branchIndex >= 0 ? this.ptx?.branches[this.branchIndex] : undefined;
    if (b === undefined) this.ownBflags = v;
    else b.target.flags = v;
  }
  set flags(v: number) {
    this.state.flags = v;
  }
  get avps(): Map<string, Array<string | number>> {
    return this.state.avps;
  }
  get vars(): Map<string, string | number> {
    if (this.varsMap === undefined) this.varsMap = new Map();
    return this.varsMap;
  }
  get replyHeaders(): string[] {
    if (this.replyHeaderList === undefined) this.replyHeaderList = [];
    return this.replyHeaderList;
  }

  reply(code: number, reason: string, stateful = this.keptTransaction): number | Promise<number> {
    if (this.kind === 'reply' || this.kind === 'onreply' || !this.request.isRequest) return -1;
    if (this.request.method === 'ACK') return -1;
    this.replied = true;
    if (this.ptx !== undefined && (this.kind === 'failure' || this.kind === 'branch_failure')) {
      return this.ptx.replyLocally(code, reason, this.replyHeaders) ? 1 : -1;
    }
    const extra = this.replyHeaderList;
    const data = buildResponse(this.request, code, reason, {
      toTag: this.core.localTag(this.request),
      ...(extra === undefined || extra.length === 0 ? {} : { headers: extra.map(splitHeaderLine) }),
    });
    return this.core.sendReply(this.request, this.info, data, code, stateful) ? 1 : -1;
  }

  relay(opts?: { dstUri?: string }): Promise<number> {
    if (opts?.dstUri !== undefined) this.dstUri = opts.dstUri;
    return this.track(this.core.relay(this));
  }

  forwardStateless(uri?: string): Promise<number> {
    return this.track(this.core.forwardStateless(this, uri));
  }

  /** Relays and forwards started by this route and not finished yet (the script may not await them). */
  inFlight = 0;
  private idle: (() => void) | undefined = undefined;

  /** Run `fn` once nothing is in flight (at once when nothing is). */
  whenIdle(fn: () => void): void {
    if (this.inFlight === 0) fn();
    else this.idle = fn;
  }

  private track(outcome: number | Promise<number>): Promise<number> {
    // An outcome known at once (every branch went out in this tick) still counts as in flight
    // until the script can see it (a microtask later), as an awaited one does.
    const p = typeof outcome === 'number' ? Promise.resolve(outcome) : outcome;
    this.inFlight++;
    return p.then(
      (r) => {
        this.settled();
        return r;
      },
      (err: unknown) => {
        this.settled();
        throw err;
      },
    );
  }

  /** A tracked relay or forward finished: the waiting continuation runs once none is left. */
  private settled(): void {
    if (--this.inFlight > 0) return;
    const fn = this.idle;
    this.idle = undefined;
    fn?.();
  }

  setHandler(
    kind: 'branch' | 'onreply' | 'failure' | 'branch_failure',
    handler: RouteHandler | undefined,
  ): void {
    this.state.handlers[kind] = handler;
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

  /** The handler t_on_* installed for this transaction (t_is_set). */
  getHandler(kind: 'branch' | 'onreply' | 'failure' | 'branch_failure'): RouteHandler | undefined {
    return this.state.handlers[kind];
  }

  /** remove_record_route(): undo record_route() for this transaction. */
  /** In reply routes: where the response came from (the endpoint its branch was sent to). */
  replySource(): Endpoint | undefined {
    if (this.msg.isRequest || this.ptx === undefined) return undefined;
    return this.ptx.branches[this.branchIndex]?.dest;
  }

  removeRecordRoute(): boolean {
    const had = this.state.recordRoute !== undefined;
    this.state.recordRoute = undefined;
    return had;
  }

  looseRoute(): number {
    const r = looseRoute(this.request, this.core.local);
    if (r.code > 0 && r.dstUri !== undefined) this.dstUri = r.dstUri;
    if (r.code > 0 && looseRouteCallbacks.length > 0) {
      // Route headers read as received (memoized): our entry is the first that names us.
      const routes = this.request.routes();
      const ours = isParseError(routes) ? undefined : routes.find((x) => this.isMyselfParsed(x.uri));
      if (ours !== undefined && 'params' in ours.uri) {
        for (const cb of looseRouteCallbacks) cb(this, ours.uri.params);
      }
    }
    return r.code;
  }

  isMyselfParsed(uri: Uri): boolean {
    return this.core.local.isMyselfParsed(uri);
  }

  isMyself(uri: string): boolean {
    const m = this.msg;
    // The Request-URI (is_myself_ruri, the common question) is parsed once per message.
    if (m.isRequest && uri === m.ruri) return this.core.local.isMyselfParsed(m.requestUri());
    return this.core.local.isMyselfUri(uri);
  }

  hasTransaction(): boolean {
    return this.ptx !== undefined || this.core.hasServerTransaction(this.request);
  }

  keepTransaction(): boolean {
    if (!this.hasTransaction()) return false;
    this.keptTransaction = true;
    return true;
  }

  isCanceled(): boolean {
    return this.ptx?.canceled === true || this.core.isCanceled(this.request);
  }

  setFinalResponseTimers(frInvMs: number, frMs: number): void {
    if (frInvMs > 0) this.state.frInvMs = frInvMs;
    if (frMs > 0) this.state.frMs = frMs;
  }

  log(level: 'dbg' | 'info' | 'notice' | 'warn' | 'err' | 'crit' | 'alert', text: string): void {
    this.core.scriptLog(level, text);
  }
}

/** `Name: value\r\n` (as Kamailio scripts write header lines) → [name, value]. */
export function splitHeaderLine(line: string): [string, string] {
  let end = line.length;
  while (end > 0 && (line.charCodeAt(end - 1) === 0x0a || line.charCodeAt(end - 1) === 0x0d)) end--;
  const colon = line.indexOf(':');
  if (colon < 0) return [line.slice(0, end).trim(), ''];
  return [line.slice(0, colon).trim(), line.slice(colon + 1, end).trim()];
}
