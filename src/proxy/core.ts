/**
 * The proxy core: receives requests from the transaction layer, runs the routing script
 * (request_route), and carries out what it decided — local replies, stateful relay with forking,
 * stateless forwarding — then runs reply, branch, onsend and failure routes as responses arrive.
 * Lifecycle: receive → request_route → branch_route → onsend → reply_route → failure_route.
 */
import { buildResponse, localToTag, newBranch } from '../sip/build.ts';
import { EditList } from '../sip/edits.ts';
import { isParseError } from '../sip/errors.ts';
import { H } from '../sip/header_names.ts';
import type { SipMessage } from '../sip/message.ts';
import { parseMessage } from '../sip/parse_message.ts';
import type { Endpoint, ListenerInfo, ReceiveInfo, SendOptions } from '../transport/types.ts';
import type { BranchTarget, RouteContext, RouteHandler, RouteKind } from './context.ts';
import type { LocalAddresses } from './myself.ts';
import { type ProxyBranch, ProxyTransaction } from './proxy_transaction.ts';
import { addRecordRoute } from './routing.ts';
import { newRelayState, type RelayState, ScriptContext } from './script_context.ts';
import { nextHopOfVia, type Resolver } from './target.ts';

// ---- what the core needs from the layers around it (structural, so tests can fake them)

export interface ServerTxPort {
  readonly key: string;
  readonly request: SipMessage;
  readonly isInvite: boolean;
  readonly lastStatus: number;
  respond(data: Buffer, status: number, retain?: boolean): void;
}

export interface ClientTxPort {
  cancel(reason?: string): void;
}

export interface ClientHandlerPort {
  onProvisional(res: SipMessage, tx: unknown): void;
  onFinal(res: SipMessage, tx: unknown): void;
  onTimeout(tx: unknown): void;
  onTransportError(tx: unknown, err: Error): void;
}

export interface TransactionPort {
  sendRequest(
    data: Buffer,
    request: SipMessage,
    dest: Endpoint,
    handler: ClientHandlerPort,
    opts?: SendOptions & { reliable?: boolean; timerC?: number; frTimer?: number },
  ): ClientTxPort;
  /**
   * sendRequest for bytes whose method and top Via branch are known: the request is not parsed
   * to be sent (`request`, when the caller has it, is the parsed form of `data`).
   */
  sendRequestBytes(
    data: Buffer,
    method: string,
    branch: string,
    dest: Endpoint,
    handler: ClientHandlerPort,
    opts?: SendOptions & { reliable?: boolean; timerC?: number; frTimer?: number },
    request?: SipMessage,
  ): ClientTxPort;
  /** Forget a server transaction the script neither answered nor relayed (Kamailio drops it). */
  release?(tx: ServerTxPort): void;
}

export interface TransportPort {
  readonly listeners: readonly ListenerInfo[];
  send(data: Buffer, dest: Endpoint, opts?: SendOptions): void;
  sendResponse(data: Buffer, request: SipMessage, info: ReceiveInfo): void;
  selectListener(dest: Endpoint): ListenerInfo | undefined;
}

export interface ScriptPort {
  /** Run a route; a thenable when the script awaited something. */
  run(kind: RouteKind, ctx: RouteContext, handler?: RouteHandler): Promise<void> | void;
  /** Whether the loaded script exports ksr_reply_route / ksr_onsend_route. */
  has(kind: 'reply' | 'onsend'): boolean;
}

export interface CoreLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface CoreOptions {
  transport: TransportPort;
  local: LocalAddresses;
  resolver: Resolver;
  script: ScriptPort;
  log: CoreLogger;
  /** Every relay acts as stateless forward (config proxy.stateless). */
  stateless?: boolean;
  maxBranches?: number;
}

/**
 * Sees every request before the routing script (dialog tracking, the server's own UAC dialogs),
 * with the transaction state the script will get. Returns true when it consumed the request (it
 * answered it): the script does not run.
 */
export type RequestHook = (
  req: SipMessage,
  info: ReceiveInfo,
  tx: ServerTxPort | undefined,
  state: RelayState,
) => boolean;

export interface CoreStats {
  requests: number;
  replies: number;
  relayed: number;
  forwardedStateless: number;
  responsesForwardedStateless: number;
  dropped: number;
  relayFailures: number;
  scriptErrors: number;
  /** Branches retried at the next DNS target (RFC 3263 §4.3). */
  dnsFailovers: number;
}

const NO_ENDPOINTS: Endpoint[] = [];

export class ProxyCore {
  readonly transport: TransportPort;
  readonly local: LocalAddresses;
  readonly resolver: Resolver;
  readonly script: ScriptPort;
  readonly log: CoreLogger;
  readonly stateless: boolean;
  readonly maxBranches: number;
  transactions: TransactionPort | undefined;
  readonly stats: CoreStats = {
    requests: 0,
    replies: 0,
    relayed: 0,
    forwardedStateless: 0,
    responsesForwardedStateless: 0,
    dropped: 0,
    relayFailures: 0,
    scriptErrors: 0,
    dnsFailovers: 0,
  };
  /**
   * Proxy transaction per server transaction key. (The server transaction of a request being routed
   * is kept on the request itself, `req.tuSlot`: see serverTxOf().)
   */
  private readonly proxyTxOf = new Map<string, ProxyTransaction>();
  private readonly canceledKeys = new Set<string>();
  /**
   * Keys of the server transactions whose termination already cleans the two tables above (and
   * this one): a Set of keys, not a WeakSet of transactions, for the same reason as `tuSlot`.
   */
  private readonly watched = new Set<string>();

  constructor(opts: CoreOptions) {
    this.transport = opts.transport;
    this.local = opts.local;
    this.resolver = opts.resolver;
    this.script = opts.script;
    this.log = opts.log;
    this.stateless = opts.stateless ?? false;
    this.maxBranches = opts.maxBranches ?? 12;
  }

  // ================================================================ TransactionUser

  /**
   * Set by a graceful stop: new dialogs and out-of-dialog requests are refused with 503 while
   * in-dialog requests (BYE of a running call) and transactions in progress still complete.
   */
  draining = false;

  /** Installed by the dialog / UAC services (src/modules/dialog/wire.ts); one check when unset. */
  requestHook: RequestHook | undefined = undefined;

  onRequest(req: SipMessage, info: ReceiveInfo, tx: ServerTxPort | undefined): void {
    this.stats.requests++;
    if (this.draining && req.toTag === undefined && req.method !== 'ACK') {
      const data = buildResponse(req, 503, 'Service Unavailable', {
        toTag: this.localTag(req),
        headers: [['Retry-After', '5']],
      });
      if (tx !== undefined) tx.respond(data, 503);
      else this.transport.sendResponse(data, req, info);
      return;
    }
    if (tx !== undefined) req.tuSlot = tx;
    const ctx = new ScriptContext(this, 'request', req, req, info, newRelayState());
    const hook = this.requestHook;
    if (hook?.(req, info, tx, ctx.state)) return;
    let r: Promise<void> | void;
    try {
      r = this.script.run('request', ctx);
    } catch (err) {
      this.routeFailed(err, 'request');
      r = undefined;
    }
    if (r === undefined) {
      this.afterRequestRoute(ctx, tx);
      return;
    }
    // One reaction for both outcomes (runRoute's catch and a then on it would be two Promises).
    r.then(
      () => this.afterRequestRoute(ctx, tx),
      (err: unknown) => {
        this.routeFailed(err, 'request');
        this.afterRequestRoute(ctx, tx);
      },
    );
  }

  private routeFailed(err: unknown, kind: RouteKind): void {
    this.stats.scriptErrors++;
    this.log.error({ err, route: kind }, 'routing script failed');
  }

  private afterRequestRoute(ctx: ScriptContext, tx: ServerTxPort | undefined): void {
    // A t_relay / forward the script started without awaiting it: decide once it has finished.
    if (ctx.inFlight > 0) {
      ctx.whenIdle(() => this.afterRequestRoute(ctx, tx));
      return;
    }
    if (ctx.replied || ctx.relayed || tx === undefined) return;
    const req = ctx.request;
    if (ctx.ptx !== undefined) {
      // t_relay failed (nothing went out) and the script did not answer: the best local outcome
      // goes upstream, as Kamailio's kill_transaction does after a failed t_relay.
      ctx.ptx.answerIfDone();
      return;
    }
    // Answered meanwhile (a CANCEL got its INVITE a 487 while the script awaited): the
    // transaction stays, to absorb the ACK and retransmissions.
    if (tx.lastStatus >= 200) return;
    if (req.method === 'CANCEL') {
      // §9.2: a CANCEL that matches no transaction is answered 481.
      ctx.reply(481, 'Call/Transaction Does Not Exist');
      return;
    }
    // The script ended without answering: drop, as Kamailio does (the UAC retransmits or times out).
    this.stats.dropped++;
    req.tuSlot = undefined;
    this.transactions?.release?.(tx);
  }

  onCancel(_cancel: SipMessage, _info: ReceiveInfo, invite: ServerTxPort): void {
    const ptx = this.proxyTxOf.get(invite.key);
    if (ptx !== undefined) {
      ptx.cancel();
      return;
    }
    // The script is still deciding (an awaited hook): answer the INVITE now; t_relay will refuse.
    this.canceledKeys.add(invite.key);
    this.forgetOnTermination(invite);
    if (invite.lastStatus < 200) {
      invite.respond(this.localReply(invite, 487), 487);
    }
  }

  /** Drop what the core keeps per server transaction once the transaction ends (once per tx). */
  private forgetOnTermination(tx: ServerTxPort): void {
    const key = tx.key;
    if (this.watched.has(key)) return;
    this.watched.add(key);
    const t = tx as { onTerminated?: () => void };
    const previous = t.onTerminated;
    t.onTerminated = () => {
      this.proxyTxOf.delete(key);
      this.canceledKeys.delete(key);
      this.watched.delete(key);
      previous?.();
    };
  }

  /** A non-INVITE proxy transaction answered upstream (ProxyTransaction.markFinal). */
  forgetProxyTx(ptx: ProxyTransaction): void {
    const key = ptx.serverTx.key;
    if (this.proxyTxOf.get(key) === ptx) this.proxyTxOf.delete(key);
  }

  private localReply(tx: ServerTxPort, code: number): Buffer {
    return buildResponse(tx.request, code, undefined, { toTag: this.localTag(tx.request) });
  }

  onStrayResponse(res: SipMessage, info: ReceiveInfo): void {
    // Responses with no client transaction: 2xx retransmissions after the INVITE transaction ended,
    // and every response in stateless mode. Forwarded by their Via (§16.7, RFC 6026).
    const ctx = new ScriptContext(this, 'reply', res, res, info, newRelayState());
    if (this.script.has('reply')) {
      const r = this.runRoute('reply', ctx);
      if (r !== undefined) {
        r.then(
          () => this.forwardResponseStateless(ctx),
          () => undefined,
        );
        return;
      }
    }
    this.forwardResponseStateless(ctx);
  }

  private forwardResponseStateless(ctx: ScriptContext): void {
    if (ctx.dropped) return;
    const res = ctx.msg;
    const vias = res.vias();
    if (isParseError(vias) || vias.length < 2) return; // for us, or unroutable
    const top = vias[0];
    if (!this.local.hasHost(top.host, top.port)) return; // not ours: never reflect
    res.removeTopVia();
    const hop = nextHopOfVia(vias[1]);
    const data = res.serialize();
    const sendTo = (ep: Endpoint | null): void => {
      if (ep === null) return;
      this.stats.responsesForwardedStateless++;
      this.transport.send(data, ep);
    };
    const ep = this.resolver.resolve(hop);
    if (ep instanceof Promise) ep.then(sendTo, () => undefined);
    else sendTo(ep);
  }

  // ================================================================ script plumbing

  runRoute(kind: RouteKind, ctx: ScriptContext, handler?: RouteHandler): Promise<void> | undefined {
    let r: Promise<void> | void;
    try {
      r = this.script.run(kind, ctx, handler);
    } catch (err) {
      this.routeFailed(err, kind);
      return undefined;
    }
    if (r === undefined) return undefined;
    return r.catch((err: unknown) => this.routeFailed(err, kind));
  }

  scriptLog(level: string, text: string): void {
    const t = text.endsWith('\n') ? text.slice(0, -1) : text;
    const obj = { script: true };
    if (level === 'dbg') this.log.debug(obj, t);
    else if (level === 'info' || level === 'notice') this.log.info(obj, t);
    else if (level === 'warn') this.log.warn(obj, t);
    else this.log.error(obj, t);
  }

  /** Stable To tag for replies the proxy generates to a request (retransmissions get the same). */
  localTag(req: SipMessage): string {
    return localToTag(req);
  }

  hasServerTransaction(req: SipMessage): boolean {
    return req.tuSlot !== undefined;
  }

  isCanceled(req: SipMessage): boolean {
    const tx = serverTxOf(req);
    return tx !== undefined && this.canceledKeys.has(tx.key);
  }

  /**
   * A reply the script generated. `stateful` (t_reply, or any reply after t_newtran) keeps the
   * server transaction to absorb retransmissions (Timer J); otherwise a final reply to a
   * non-INVITE request that was not relayed closes it at once, as Kamailio's sl_send_reply and
   * registrar replies do: the REGISTER / OPTIONS answered locally costs no retained state.
   */
  sendReply(req: SipMessage, info: ReceiveInfo, data: Buffer, code: number, stateful = false): boolean {
    this.stats.replies++;
    const tx = serverTxOf(req);
    if (tx !== undefined) {
      if (tx.lastStatus >= 200) return false;
      // The script answered after a relay (e.g. sl_reply_error after t_relay < 0): final is final.
      const ptx = this.proxyTxOf.get(tx.key);
      tx.respond(data, code, stateful || ptx !== undefined);
      if (ptx !== undefined && code >= 200) ptx.markFinal();
    } else {
      this.transport.sendResponse(data, req, info);
    }
    return true;
  }

  /** Reply routes for a response on a branch; false when the script dropped it. */
  runReplyRoutes(ptx: ProxyTransaction, b: ProxyBranch, res: SipMessage): boolean {
    const onreply = ptx.state.handlers.onreply;
    const hasReply = this.script.has('reply');
    if (!hasReply && onreply === undefined) return true;
    let dropped = false;
    // Reply routes run synchronously: a response is never held for an awaited script.
    if (hasReply) {
      const ctx = this.replyContext('reply', ptx, b, res);
      this.runRoute('reply', ctx);
      dropped = ctx.dropped;
    }
    if (!dropped && onreply !== undefined) {
      const octx = this.replyContext('onreply', ptx, b, res);
      this.runRoute('onreply', octx, onreply);
      return !octx.dropped;
    }
    return !dropped;
  }

  private replyContext(
    kind: 'reply' | 'onreply',
    ptx: ProxyTransaction,
    b: ProxyBranch,
    res: SipMessage,
  ): ScriptContext {
    return new ScriptContext(this, kind, res, ptx.request, ptx.info, ptx.state, ptx, b.index, res.status);
  }

  // ================================================================ relay

  private targetsOf(ctx: ScriptContext): BranchTarget[] {
    const first: BranchTarget = { uri: ctx.msg.ruri };
    if (ctx.bflags !== 0) first.flags = ctx.bflags;
    if (ctx.dstUri !== undefined) first.dstUri = ctx.dstUri;
    if (ctx.ruriPath !== undefined && ctx.ruriPath.length > 0) first.path = ctx.ruriPath;
    ctx.ruriPath = undefined;
    ctx.dstUri = undefined;
    // Nearly always one target (no append_branch): no spread nor copy for it.
    if (ctx.branches.length === 0 && this.maxBranches >= 1) return [first];
    const all = [first, ...ctx.branches];
    ctx.branches.length = 0;
    return all.slice(0, this.maxBranches);
  }

  /**
   * t_relay: stateful when a server transaction exists, else (ACK, stateless mode) stateless. The
   * outcome is a number when every branch went out synchronously (no branch route or name
   * resolution pending, the common case): no Promise, no microtask hop; else a Promise.
   */
  relay(ctx: ScriptContext): number | Promise<number> {
    const req = ctx.request;
    const tx = serverTxOf(req);
    if (this.stateless || tx === undefined || req.method === 'ACK') return this.forwardStateless(ctx);
    if (this.canceledKeys.has(tx.key)) return -1;
    if (ctx.ptx === undefined && this.isLoop(req)) {
      ctx.reply(482, 'Loop Detected');
      return -1;
    }
    let ptx = ctx.ptx ?? this.proxyTxOf.get(tx.key);
    if (ptx === undefined) {
      ptx = new ProxyTransaction(this, tx, req, ctx.info, ctx.state);
      this.proxyTxOf.set(tx.key, ptx);
      this.forgetOnTermination(tx);
    }
    // §16.10: once canceled, no new branches (a failure route that was running when the CANCEL came).
    if (ptx.canceled) return -1;
    ctx.ptx = ptx;
    const targets = this.targetsOf(ctx);
    // No outcome is decided while the branches go out: a first target that fails at once must not
    // answer upstream (or run the failure route) before the next one was tried.
    ptx.hold();
    return this.sendTargets(ctx, ptx, targets, 0, 0);
  }

  /** Send the branches from targets[i] on, one after the other; then the outcome (unholds once). */
  private sendTargets(
    ctx: ScriptContext,
    ptx: ProxyTransaction,
    targets: BranchTarget[],
    from: number,
    sentBefore: number,
  ): number | Promise<number> {
    let sent = sentBefore;
    try {
      for (let i = from; i < targets.length; i++) {
        if (ptx.canceled || ptx.finalSent) break;
        const b = ptx.newBranch(targets[i]);
        const ok = this.sendBranch(ptx, b, ctx);
        if (ok instanceof Promise) {
          return ok.then(
            (went) => this.sendTargets(ctx, ptx, targets, i + 1, went ? sent + 1 : sent),
            (err: unknown) => {
              ptx.unhold();
              throw err;
            },
          );
        }
        if (ok) sent++;
      }
    } catch (err) {
      ptx.unhold();
      throw err;
    }
    ptx.unhold();
    if (sent === 0) {
      this.stats.relayFailures++;
      // Nothing went out: t_relay < 0 and the script decides what to answer. Unanswered, the
      // request route's end (afterRequestRoute) or the failure route's sends the best outcome.
      if (ctx.kind !== 'request') ptx.answerIfDone();
      return -1;
    }
    ctx.relayed = true;
    this.stats.relayed++;
    // A CANCEL, 2xx or 6xx may have ended every branch meanwhile.
    ptx.checkDone();
    return 1;
  }

  /** One branch: branch route, next hop, edits, client transaction. Sync unless something is awaited. */
  private sendBranch(ptx: ProxyTransaction, b: ProxyBranch, rctx: ScriptContext): boolean | Promise<boolean> {
    const req = ptx.request;
    const edits = new EditList();
    const target = b.target;
    const path = target.path !== undefined && target.path.length > 0 ? target.path : undefined;
    if (path !== undefined) {
      for (let i = path.length - 1; i >= 0; i--) req.prependHeader('Route', path[i], edits);
    }
    const ruri = target.uri;
    // Max-Forwards is decremented in each branch's copy (setMaxForwards marks the message as
    // processed; the mark is the request route's, not a branch's).
    const mfBefore = req.maxForwardsProcessed;
    const branchHandler = ptx.state.handlers.branch;
    if (branchHandler === undefined) {
      if (ruri !== req.ruri) req.setRuri(ruri, edits);
      return this.branchNextHop(ptx, b, rctx, edits, path, ruri, target.dstUri, mfBefore);
    }
    const bctx = new ScriptContext(this, 'branch', req, req, ptx.info, ptx.state, ptx, b.index);
    bctx.dstUri = target.dstUri;
    const savedRuri = req.ruri;
    req.editTarget = edits;
    let r: Promise<void> | undefined;
    try {
      // The branch route reads and edits this branch: $ru is its R-URI, edits go to its list.
      if (ruri !== savedRuri) req.setRuri(ruri);
      r = this.runRoute('branch', bctx, branchHandler);
    } catch (err) {
      this.endBranchRoute(req, savedRuri);
      throw err;
    }
    if (r === undefined) return this.afterBranchRoute(ptx, b, rctx, bctx, edits, path, savedRuri, mfBefore);
    return r.then(
      () => this.afterBranchRoute(ptx, b, rctx, bctx, edits, path, savedRuri, mfBefore),
      (err: unknown) => {
        this.endBranchRoute(req, savedRuri);
        throw err;
      },
    );
  }

  /** Reads go back to what the request route left; this edit goes to a scratch list. */
  private endBranchRoute(req: SipMessage, savedRuri: string): void {
    req.editTarget = new EditList();
    if (req.ruri !== savedRuri) req.setRuri(savedRuri);
    req.editTarget = null;
  }

  private afterBranchRoute(
    ptx: ProxyTransaction,
    b: ProxyBranch,
    rctx: ScriptContext,
    bctx: ScriptContext,
    edits: EditList,
    path: string[] | undefined,
    savedRuri: string,
    mfBefore: boolean,
  ): boolean | Promise<boolean> {
    const req = ptx.request;
    const ruri = req.ruri;
    this.endBranchRoute(req, savedRuri);
    if (bctx.dropped) {
      req.maxForwardsProcessed = mfBefore;
      ptx.branchFailed(b, 500);
      return false;
    }
    return this.branchNextHop(ptx, b, rctx, edits, path, ruri, bctx.dstUri, mfBefore);
  }

  private branchNextHop(
    ptx: ProxyTransaction,
    b: ProxyBranch,
    rctx: ScriptContext,
    edits: EditList,
    path: string[] | undefined,
    ruri: string,
    dstUri: string | undefined,
    mfBefore: boolean,
  ): boolean | Promise<boolean> {
    const req = ptx.request;
    const mfDone = req.maxForwardsProcessed;
    req.maxForwardsProcessed = mfBefore;
    const hopUri = dstUri ?? (path !== undefined ? stripAngle(path[0]) : ruri);
    // RFC 3263: every target of the next hop, in failover order (a failover branch brings the rest).
    const targets = b.failover;
    // Edits that may break the message (free header text from the script, a path's Routes):
    // the bytes are then parsed once before they go out. The proxy's own edits below are sound.
    const check = (req.edits !== null && req.edits.unsound > 0) || edits.unsound > 0;
    if (targets !== undefined)
      return this.branchOut(ptx, b, rctx, edits, ruri, targets, mfDone, mfBefore, check);
    const r = this.resolver.resolveUri(hopUri);
    if (r instanceof Promise)
      return r.then((t) => this.branchOut(ptx, b, rctx, edits, ruri, t, mfDone, mfBefore, check));
    return this.branchOut(ptx, b, rctx, edits, ruri, r, mfDone, mfBefore, check);
  }

  private branchOut(
    ptx: ProxyTransaction,
    b: ProxyBranch,
    rctx: ScriptContext,
    edits: EditList,
    ruri: string,
    targets: Endpoint[],
    mfDone: boolean,
    mfBefore: boolean,
    check: boolean,
  ): boolean {
    const req = ptx.request;
    const ep = targets.length === 0 ? null : targets[0];
    // Nearly every hop has one target (an IP literal, an A record): no copy for it.
    const rest = targets.length > 1 ? targets.slice(1) : NO_ENDPOINTS;
    // The transaction moved on while the branch route ran or the name resolved (CANCEL, a 2xx or
    // 6xx elsewhere, an answer sent upstream): sending now would ring a phone nobody cancels.
    if (b.final !== undefined) return false;
    if (ptx.finalSent || ptx.canceled) {
      ptx.branchFailed(b, 487);
      return false;
    }
    if (ep === null) {
      ptx.branchFailed(b, 478);
      return false;
    }
    const out = this.transport.selectListener(ep);
    if (out === undefined) {
      ptx.branchFailed(b, 503);
      return false;
    }
    if (!mfDone) {
      req.setMaxForwards(req.maxForwards < 0 ? 70 : Math.max(0, req.maxForwards - 1), edits);
      req.maxForwardsProcessed = mfBefore;
    }
    if (ptx.state.recordRoute !== undefined && req.method !== 'REGISTER') {
      addRecordRoute(req, ptx.state.recordRoute, ptx.info.listener, out, edits);
    }
    const branch = loopBranch(req, ruri);
    req.prependHeader('Via', viaValue(out, branch), edits);
    if (ep.protocol !== 'udp') req.ensureContentLength(edits);
    const data = req.serialize(edits);
    // Unless the script's edits must be checked or onsend_route reads the message as sent, the
    // bytes are not parsed again: the client transaction knows the method and branch and
    // parses them itself only for an ACK to a non-2xx or a CANCEL.
    const onsend = this.script.has('onsend');
    let sent: SipMessage | undefined;
    if (check || onsend) {
      const parsed = parseMessage(data);
      if (isParseError(parsed)) {
        this.log.error({ reason: parsed.phrase }, 'relayed request does not parse');
        ptx.branchFailed(b, 500);
        return false;
      }
      sent = parsed;
    }
    if (onsend && sent !== undefined) {
      const sctx = new ScriptContext(this, 'onsend', sent, req, ptx.info, ptx.state, ptx, b.index);
      this.runRoute('onsend', sctx);
      if (sctx.dropped) {
        ptx.branchFailed(b, 500);
        return false;
      }
    }
    const txs = this.transactions;
    if (txs === undefined) {
      ptx.branchFailed(b, 500);
      return false;
    }
    const isInvite = ptx.isInvite;
    const handler = new BranchHandler(this, ptx, b, rest, rest.length > 0 ? rctx : undefined);
    const opts: SendOptions & { timerC?: number; frTimer?: number } = { listenerId: out.id };
    if (isInvite && ptx.state.frInvMs > 0) opts.timerC = ptx.state.frInvMs;
    if (ptx.state.frMs > 0) opts.frTimer = ptx.state.frMs;
    b.dest = ep;
    b.clientTx = txs.sendRequestBytes(data, req.method, branch, ep, handler, opts, sent);
    rctx.relayed = true;
    return true;
  }

  /**
   * RFC 3263 §4.3: a branch whose target answered 503, timed out without answering, or could not
   * be reached is retried at the next target of the same hop, as a new branch (new transaction);
   * the failed one keeps its outcome for response selection if every target fails.
   */
  failover(
    ptx: ProxyTransaction,
    b: ProxyBranch,
    rctx: ScriptContext,
    rest: Endpoint[],
    status: number,
    res?: SipMessage,
  ): void {
    if (ptx.canceled || ptx.finalSent) {
      if (res === undefined) ptx.branchFailed(b, status);
      else ptx.onResponse(b, res);
      return;
    }
    this.stats.dnsFailovers++;
    ptx.hold();
    const next = ptx.newBranch(b.target);
    next.failover = rest;
    if (res === undefined) ptx.branchFailed(b, status);
    else ptx.onResponse(b, res);
    Promise.resolve(this.sendBranch(ptx, next, rctx)).then(
      () => {
        ptx.unhold();
        ptx.checkDone();
      },
      (err: unknown) => {
        this.log.error({ err }, 'failover branch failed');
        ptx.unhold();
        ptx.checkDone();
      },
    );
  }

  /**
   * RFC 3261 §16.3 step 4: the request carries a Via of ours whose branch was made for this very
   * request with this Request-URI — it came back unchanged, a loop (a spiral changes the R-URI).
   */
  private isLoop(req: SipMessage): boolean {
    const vias = req.vias();
    if (isParseError(vias)) return false;
    let key: string | undefined;
    for (const v of vias) {
      const b = v.branch;
      if (b === undefined || b.length < 7 + LOOP_KEY_LEN || !this.local.hasHost(v.host, v.port)) continue;
      key ??= loopKey(req, req.originalRuri);
      if (b.startsWith(key, 7)) return true;
    }
    return false;
  }

  // ================================================================ stateless

  /** forward / forward_uri, and t_relay in stateless mode (RFC 3261 §16.11). */
  forwardStateless(ctx: ScriptContext, uri?: string): number | Promise<number> {
    const req = ctx.request;
    const hopUri = uri ?? ctx.dstUri ?? req.ruri;
    // The first RFC 3263 target (stateless forwarding has no failover). Synchronous when it is
    // known (IP literal, cached): an ACK must not fall behind the BYE read after it (both go out
    // in the tick they were read in, in order), and no Promise is made.
    const r = this.resolver.resolveUri(hopUri);
    if (r instanceof Promise) return r.then((eps) => this.forwardTo(ctx, eps[0]));
    return this.forwardTo(ctx, r[0]);
  }

  private forwardTo(ctx: ScriptContext, ep: Endpoint | undefined): number {
    const req = ctx.request;
    if (ep === undefined) return -1;
    const out = this.transport.selectListener(ep);
    if (out === undefined) return -1;
    const edits = new EditList();
    if (!req.maxForwardsProcessed && req.method !== 'ACK') {
      req.setMaxForwards(req.maxForwards < 0 ? 70 : Math.max(0, req.maxForwards - 1), edits);
      // Each copy decrements its own (forward() may be called for several destinations).
      req.maxForwardsProcessed = false;
    }
    if (ctx.state.recordRoute !== undefined && req.method !== 'ACK') {
      addRecordRoute(req, ctx.state.recordRoute, ctx.info.listener, out, edits);
    }
    req.prependHeader('Via', viaValue(out, statelessBranch(req)), edits);
    if (ep.protocol !== 'udp') req.ensureContentLength(edits);
    this.transport.send(req.serialize(edits), ep, { listenerId: out.id });
    this.stats.forwardedStateless++;
    ctx.relayed = true;
    const tx = serverTxOf(req);
    if (tx !== undefined) {
      req.tuSlot = undefined;
      this.transactions?.release?.(tx);
    }
    return 1;
  }
}

/** The server transaction of a request being routed (set by onRequest, see SipMessage.tuSlot). */
function serverTxOf(req: SipMessage): ServerTxPort | undefined {
  return req.tuSlot as ServerTxPort | undefined;
}

const LOOP_KEY_LEN = 10;

/**
 * A fast non-cryptographic 64-bit hash (two 32-bit multiply-xorshift lanes, cyrb53's mixing) of
 * strings fed with hashPart(), read as 16 hex digits by hashHex(). Loop keys and stateless
 * branches only need a value that is stable for the same input and well spread across inputs;
 * a SHA-1 (a native Hash object, one C++ call per part, a hex digest) cost about 3 % of the CPU
 * of a relayed call. Module-level state: every use is synchronous (start, parts, hex).
 */
let hashA = 0;
let hashB = 0;

function hashStart(seed: number): void {
  hashA = 0xdeadbeef ^ seed;
  hashB = 0x41c6ce57 ^ seed;
}

/**
 * The client-transaction handler of one branch: one object of fixed shape rather than four
 * closures and their context (it lives as long as the client transaction, Timer M / K). The route
 * context is kept only when a failover target remains (failover needs it).
 */
class BranchHandler implements ClientHandlerPort {
  private readonly core: ProxyCore;
  private readonly ptx: ProxyTransaction;
  private readonly b: ProxyBranch;
  private readonly rest: Endpoint[];
  private readonly rctx: ScriptContext | undefined;

  constructor(
    core: ProxyCore,
    ptx: ProxyTransaction,
    b: ProxyBranch,
    rest: Endpoint[],
    rctx: ScriptContext | undefined,
  ) {
    this.core = core;
    this.ptx = ptx;
    this.b = b;
    this.rest = rest;
    this.rctx = rctx;
  }

  onProvisional(res: SipMessage): void {
    this.ptx.onResponse(this.b, res);
  }

  onFinal(res: SipMessage): void {
    if (res.status === 503 && this.rctx !== undefined)
      this.core.failover(this.ptx, this.b, this.rctx, this.rest, 503, res);
    else this.ptx.onResponse(this.b, res);
  }

  onTimeout(): void {
    if (this.b.provisional === 0 && this.rctx !== undefined)
      this.core.failover(this.ptx, this.b, this.rctx, this.rest, 408);
    else this.ptx.branchFailed(this.b, 408);
  }

  onTransportError(): void {
    if (this.rctx !== undefined) this.core.failover(this.ptx, this.b, this.rctx, this.rest, 503);
    else this.ptx.branchFailed(this.b, 503);
  }
}

/** Feed one string, then a separator (so "ab"+"c" and "a"+"bc" differ). */
function hashPart(s: string): void {
  let a = hashA;
  let b = hashB;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 2654435761);
    b = Math.imul(b ^ c, 1597334677);
  }
  hashA = Math.imul(a ^ 0x1f, 2654435761);
  hashB = Math.imul(b ^ 0x1f, 1597334677);
}

/** Feed a non-negative integer as its decimal digits (what hashPart(String(n)) feeds, without the string). */
function hashDecimal(n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) {
    hashPart(String(n));
    return;
  }
  let a = hashA;
  let b = hashB;
  let div = 1;
  while (div * 10 <= n) div *= 10;
  for (; div >= 1; div /= 10) {
    const c = 0x30 + (Math.floor(n / div) % 10);
    a = Math.imul(a ^ c, 2654435761);
    b = Math.imul(b ^ c, 1597334677);
  }
  hashA = Math.imul(a ^ 0x1f, 2654435761);
  hashB = Math.imul(b ^ 0x1f, 1597334677);
}

const HEX_DIGITS = '0123456789abcdef';

/** The first `len` (1-16) of the hash's 16 hex digits, in one string (no pieces to join or cut). */
function hashHex(len: number): string {
  let a = hashA;
  let b = hashB;
  a = Math.imul(a ^ (a >>> 16), 2246822507) ^ Math.imul(b ^ (b >>> 13), 3266489909);
  b = Math.imul(b ^ (b >>> 16), 2246822507) ^ Math.imul(a ^ (a >>> 13), 3266489909);
  const codes = HEX_CODES;
  for (let i = 0; i < len; i++) {
    const word = i < 8 ? b : a;
    codes[i] = HEX_DIGITS.charCodeAt((word >>> (28 - 4 * (i & 7))) & 15);
  }
  return String.fromCharCode.apply(null, len === 16 ? codes : codes.slice(0, len));
}

const HEX_CODES: number[] = new Array<number>(16).fill(0);

/**
 * What identifies a request for loop detection (§16.6 step 8): R-URI, tags, Call-ID, CSeq, and the
 * Route set as the request reached us (§16.6: "any header fields affecting the request's ... routing").
 * Without the Route set, a spiral through an application server that sends the request back with
 * the same R-URI and a Route to us would be refused as a loop. Reads see the received Route lines
 * (edits are not visible), so the key of what we send and of what comes back compare the routing
 * state the request had on arrival.
 */
function loopKey(req: SipMessage, ruri: string): string {
  hashStart(0);
  hashPart(ruri);
  hashPart(req.fromTag ?? '');
  hashPart(req.toTag ?? '');
  hashPart(req.callId);
  hashDecimal(req.cseq);
  for (let i = req.findHeader(H.ROUTE); i >= 0; i = req.findHeader(H.ROUTE, i + 1)) {
    hashPart(req.headerValue(i));
  }
  return hashHex(LOOP_KEY_LEN);
}

/** A unique branch that also carries the loop key of the request as sent to `ruri`. */
function loopBranch(req: SipMessage, ruri: string): string {
  return `z9hG4bK${loopKey(req, ruri)}${newBranch().slice(7)}`;
}

function stripAngle(v: string): string {
  const a = v.indexOf('<');
  const b = v.indexOf('>', a + 1);
  return a >= 0 && b > a ? v.slice(a + 1, b) : v;
}

/** Our Via; over TLS with `;alias` (RFC 5923: the peer may send its requests back over our connection). */
function viaValue(out: ListenerInfo, branch: string): string {
  const h = out.advertisedHost;
  const host = h.includes(':') && h.charCodeAt(0) !== 0x5b ? `[${h}]` : h;
  const alias = out.protocol === 'tls' ? ';alias' : '';
  return `SIP/2.0/${out.protocol.toUpperCase()} ${host}:${out.advertisedPort};branch=${branch}${alias}`;
}

/**
 * §16.11: a stateless proxy's branch must be the same for retransmissions of a request and differ
 * between transactions. It is derived from what identifies the transaction upstream: the received
 * top Via branch, or for RFC 2543 peers the top Via, From tag, Call-ID, CSeq number and Request-URI
 * (§16.11's recipe without the To tag). Not the method: a CANCEL and the ACK for a non-2xx carry
 * their INVITE's branch (§9.1, §17.1.1.3), and so must their forwarded copies, or the stateful
 * element downstream cannot match them to the INVITE (481 to the CANCEL, the final response
 * retransmitted until Timer H).
 */
export function statelessBranch(req: SipMessage): string {
  const v = req.topVia;
  const br = v.branch;
  let hex = '';
  // Two seeds: 20 hex digits (80 bits) as with the former SHA-1 prefix.
  for (let seed = 0; seed < 2; seed++) {
    hashStart(seed);
    if (br?.startsWith('z9hG4bK') && br.length > 7) hashPart(br);
    else {
      hashPart(v.raw);
      hashPart(req.fromTag ?? '');
      hashPart(req.callId);
      hashDecimal(req.cseq);
      hashPart(req.originalRuri);
    }
    hex += hashHex(seed === 0 ? 16 : 4);
  }
  return `z9hG4bKsl${hex}`;
}
