/**
 * A stateful proxy transaction (RFC 3261 §16): one server transaction upstream, one client
 * transaction per branch downstream; forking, response forwarding and selection, failure route
 * (serial forking), CANCEL of pending branches.
 */
import { buildResponse } from '../sip/build.ts';
import { H } from '../sip/header_names.ts';
import type { SipMessage } from '../sip/message.ts';
import type { Endpoint, ReceiveInfo } from '../transport/types.ts';
import type { BranchTarget } from './context.ts';
import type { ClientTxPort, ProxyCore, ServerTxPort } from './core.ts';
import { selectBest } from './response_selection.ts';
import { type RelayState, ScriptContext, splitHeaderLine } from './script_context.ts';

export interface ProxyBranch {
  readonly index: number;
  readonly target: BranchTarget;
  clientTx: ClientTxPort | undefined;
  /** Where the branch's request was sent (its responses come from there); set once sent. */
  dest?: Endpoint;
  /** A DNS failover branch: the targets left to try (RFC 3263 §4.3), first one first. */
  failover?: Endpoint[];
  /** Highest provisional seen (0 none). */
  provisional: number;
  /** Final outcome: a received response or a locally generated status. */
  final: { status: number; res: SipMessage | undefined } | undefined;
}

export class ProxyTransaction {
  readonly core: ProxyCore;
  readonly serverTx: ServerTxPort;
  readonly request: SipMessage;
  readonly info: ReceiveInfo;
  readonly state: RelayState;
  readonly branches: ProxyBranch[] = [];
  canceled = false;
  /** A final response went upstream (for INVITE: the first 2xx, further 2xx still flow). */
  finalSent = false;
  private inFailureRoute = false;
  /** > 0 while t_relay sends branches: no outcome is decided meanwhile (see hold()). */
  private holds = 0;

  constructor(
    core: ProxyCore,
    serverTx: ServerTxPort,
    request: SipMessage,
    info: ReceiveInfo,
    state: RelayState,
  ) {
    this.core = core;
    this.serverTx = serverTx;
    this.request = request;
    this.info = info;
    this.state = state;
  }

  /**
   * A final response went upstream. A non-INVITE transaction has nothing left to decide (late
   * responses reach it through its branches' handlers, retransmissions are absorbed by the server
   * transaction), so the core forgets it now rather than when Timer J ends, 32 s later.
   */
  markFinal(): void {
    this.finalSent = true;
    if (!this.isInvite) this.core.forgetProxyTx(this);
  }

  get isInvite(): boolean {
    return this.request.method === 'INVITE';
  }

  pendingCount(): number {
    let n = 0;
    for (const b of this.branches) if (b.final === undefined) n++;
    return n;
  }

  newBranch(target: BranchTarget): ProxyBranch {
    const b: ProxyBranch = {
      index: this.branches.length,
      target,
      clientTx: undefined,
      provisional: 0,
      final: undefined,
    };
    this.branches.push(b);
    return b;
  }

  /** Defer checkDone() while branches are being sent (t_relay with several targets). */
  hold(): void {
    this.holds++;
  }

  unhold(): void {
    if (this.holds > 0) this.holds--;
  }

  /** A branch could not be sent or timed out: record a local outcome. */
  branchFailed(b: ProxyBranch, status: number): void {
    if (b.final !== undefined) return;
    b.final = { status, res: undefined };
    // A branch that went out and failed (timeout, transport error) runs the branch-failure route.
    if (b.clientTx !== undefined) this.runBranchFailure(b, status);
    this.checkDone();
  }

  /** t_on_branch_failure: runs for every branch that ends with a failure, before the failure route. */
  private runBranchFailure(b: ProxyBranch, status: number): void {
    const handler = this.state.handlers.branch_failure;
    if (handler === undefined) return;
    const ctx = new ScriptContext(
      this.core,
      'branch_failure',
      this.request,
      this.request,
      this.info,
      this.state,
      this,
      b.index,
      status,
    );
    // Like reply routes, it runs synchronously: the outcome is not held for an awaited script.
    this.core.runRoute('branch_failure', ctx, handler);
  }

  onResponse(b: ProxyBranch, res: SipMessage): void {
    const status = res.status;
    const dlg = this.state.dlg;
    if (dlg !== undefined) dlg.onReply(res);
    if (status < 200) {
      if (b.final !== undefined) return;
      if (status > b.provisional) b.provisional = status;
    }
    const forward = this.core.runReplyRoutes(this, b, res);
    if (status < 200) {
      // 100 is hop by hop (§16.7 step 5); other provisionals go up until a final was sent.
      if (status !== 100 && !this.finalSent && forward) this.forward(res);
      return;
    }
    if (status < 300) {
      // §16.7 step 10: after a final went upstream only 2xx to INVITE are still forwarded.
      if (this.finalSent && !this.isInvite) {
        b.final ??= { status, res: undefined };
        return;
      }
      b.final = { status, res };
      if (forward || this.isInvite) this.forward(res);
      if (!this.finalSent) {
        this.markFinal();
        this.cancelPending(b, 'SIP;cause=200;text="Call completed elsewhere"');
      }
      this.releaseResponses();
      return;
    }
    if (b.final !== undefined) return;
    // After a final went upstream (a 2xx on another branch) the response is never selected: not kept.
    b.final = { status, res: forward && !this.finalSent ? res : undefined };
    if (status >= 600) this.cancelPending(b);
    this.runBranchFailure(b, status);
    this.checkDone();
  }

  /** CANCEL from upstream (§16.10): cancel every pending branch. */
  cancel(): void {
    this.canceled = true;
    this.cancelPending(undefined);
    this.checkDone();
  }

  private cancelPending(except: ProxyBranch | undefined, reason?: string): void {
    for (const b of this.branches) {
      if (b === except || b.final !== undefined) continue;
      b.clientTx?.cancel(reason);
      // No provisional yet: nothing to CANCEL downstream yet (the client transaction will send it
      // if a 1xx arrives); answer the branch as 487 now, as Kamailio's cancel_b_method=1 does.
      if (b.provisional === 0 || b.clientTx === undefined) b.final = { status: 487, res: undefined };
    }
  }

  /** Send a received response upstream without our Via; `status` when it was rewritten (503 → 500). */
  private forward(res: SipMessage, status = res.status): void {
    // §16.7 step 3: with our Via gone, no Via may be left (a broken downstream element echoed only
    // ours): such a response cannot go up as it is. A final is answered locally with its status.
    if (!res.hasViaAfterTop()) {
      if (status >= 200) {
        const toTag = res.toTag ?? this.core.localTag(this.request);
        this.serverTx.respond(buildResponse(this.request, status, res.reason, { toTag }), status);
      }
      return;
    }
    res.removeTopVia();
    this.state.fixResponse?.(res);
    this.serverTx.respond(res.serialize(), status);
  }

  /** Every branch answered and nothing sent upstream yet: failure route, then the best response. */
  checkDone(): void {
    // A CANCEL does not wait for the branches still being sent: they will not go out.
    if (
      this.finalSent ||
      this.inFailureRoute ||
      (this.holds > 0 && !this.canceled) ||
      this.pendingCount() > 0
    ) {
      return;
    }
    const outcomes = this.branches.map((b) =>
      b.final === undefined ? undefined : { status: b.final.status, local: b.final.res === undefined },
    );
    const best = selectBest(outcomes);
    if (best < 0) return;
    const failure = this.state.handlers.failure;
    // Also for a canceled transaction, as in Kamailio (scripts test t_is_canceled() there); t_relay
    // then refuses new branches.
    if (failure !== undefined) {
      // The failure route runs once per arming (Kamailio: t_on_failure must be set again there).
      this.state.handlers.failure = undefined;
      this.inFailureRoute = true;
      const bestStatus = this.branches[best].final!.status;
      const ctx = new ScriptContext(
        this.core,
        'failure',
        this.request,
        this.request,
        this.info,
        this.state,
        this,
        best,
        bestStatus,
      );
      const done = (): void => {
        this.inFailureRoute = false;
        if (!this.finalSent && this.pendingCount() === 0) this.sendBest();
      };
      const r = this.core.runRoute('failure', ctx, failure);
      if (r !== undefined && typeof (r as Promise<void>).then === 'function')
        (r as Promise<void>).then(done, done);
      else done();
      return;
    }
    this.sendBest();
  }

  /**
   * Every branch ended and nothing went upstream, outside a failure route: send the best outcome
   * now. For a t_relay that sent nothing and a script that did not answer (Kamailio's
   * kill_transaction).
   */
  answerIfDone(): void {
    if (this.finalSent || this.inFailureRoute || this.holds > 0 || this.pendingCount() > 0) return;
    this.sendBest();
  }

  private sendBest(): void {
    const outcomes = this.branches.map((b) =>
      b.final === undefined ? undefined : { status: b.final.status, local: b.final.res === undefined },
    );
    const best = selectBest(outcomes);
    if (best < 0 || this.finalSent) return;
    this.markFinal();
    const final = this.branches[best].final!;
    const res = final.res;
    if (res === undefined) {
      const code = final.status === 503 ? 500 : final.status;
      this.serverTx.respond(
        buildResponse(this.request, code, undefined, { toTag: this.core.localTag(this.request) }),
        code,
      );
      return;
    }
    if (res.status === 401 || res.status === 407) this.aggregateChallenges(res);
    // §16.7 step 6: a selected 503 becomes 500 (the 503 was about the downstream element).
    if (res.status === 503) {
      res.setStatus(500, 'Server Internal Error');
      this.forward(res, 500);
    } else {
      this.forward(res);
    }
    this.releaseResponses();
  }

  /**
   * Once a final response went upstream, response selection is over and nothing reads the
   * branches' responses again (only their status): drop them. An INVITE proxy transaction lives as
   * long as its transactions' wait timers (Timers L/M, wt_timer), and a parsed response (bytes,
   * header table, decoded headers) kept that long is pure garbage-collector load; so are the
   * request's decoded headers.
   */
  private releaseResponses(): void {
    if (!this.finalSent) return;
    for (const b of this.branches) if (b.final !== undefined) b.final.res = undefined;
    // Routing of the request is over too: what was decoded of it is decoded again if read.
    this.request.releaseDecoded();
  }

  /** §16.7 step 7: every WWW-/Proxy-Authenticate of every 401/407 goes into the one forwarded. */
  private aggregateChallenges(chosen: SipMessage): void {
    for (const b of this.branches) {
      const r = b.final?.res;
      if (r === undefined || r === chosen || (r.status !== 401 && r.status !== 407)) continue;
      for (const id of [H.WWW_AUTHENTICATE, H.PROXY_AUTHENTICATE]) {
        for (let i = r.findHeader(id); i >= 0; i = r.findHeader(id, i + 1)) {
          chosen.appendHeader(
            id === H.WWW_AUTHENTICATE ? 'WWW-Authenticate' : 'Proxy-Authenticate',
            r.headerValue(i),
          );
        }
      }
    }
  }

  /** t_reply from a failure route: answer upstream now. */
  replyLocally(code: number, reason: string, headers: readonly string[]): boolean {
    if (this.finalSent) return false;
    if (code >= 200) this.markFinal();
    const data = buildResponse(this.request, code, reason, {
      toTag: this.core.localTag(this.request),
      headers: headers.map(splitHeaderLine),
    });
    this.serverTx.respond(data, code);
    return true;
  }
}
