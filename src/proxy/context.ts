/**
 * What a routing script acts on. One RouteContext exists per message and per route invocation
 * (request_route, branch_route, onreply_route, failure_route, onsend_route); KSR functions are
 * thin adapters over it. The proxy core implements it; tests implement it without a network.
 */
import type { SipMessage } from '../sip/message.ts';
import type { Uri } from '../sip/types.ts';
import type { ReceiveInfo } from '../transport/types.ts';

/** The lifecycle, in order: receive → request_route → branch_route → onsend → reply_route → failure_route. */
export type RouteKind =
  | 'request'
  | 'branch'
  | 'onsend'
  | 'reply'
  | 'onreply'
  | 'failure'
  | 'branch_failure'
  | 'event';

/** A route handler given to t_on_branch / t_on_reply / t_on_failure: a function or an exported name. */
export type RouteHandler = string | ((KSR: unknown) => unknown);

/** One extra destination (Kamailio's append_branch). */
export interface BranchTarget {
  uri: string;
  dstUri?: string;
  q?: number;
  /** Route set for this branch (e.g. registrar Path), top first. */
  path?: string[];
  flags?: number;
}

export interface RouteContext {
  readonly kind: RouteKind;
  /** The message being routed: the request (request/branch/failure/onsend), or the response (reply/onreply). */
  readonly msg: SipMessage;
  /** The original request of the transaction, also in reply and failure routes. */
  readonly request: SipMessage;
  readonly info: ReceiveInfo;

  /** $du: destination URI (outbound proxy), undefined when unset. */
  dstUri: string | undefined;
  /** Extra branches added by append_branch / registrar lookup (branch 0 is the R-URI). */
  readonly branches: BranchTarget[];
  /** Route set of the R-URI branch (registrar lookup: the binding's Path); t_relay consumes it. */
  ruriPath?: string[] | undefined;
  /** Message/transaction flags (0-31) and branch flags of the current branch. */
  flags: number;
  bflags: number;
  /** Set by set_drop / KSR.x.drop: the branch or response is not forwarded. */
  dropped: boolean;
  /** Set by KSR.x.exit / KSR.x.drop: a route on this context ended early (script/exit.ts). */
  exited?: boolean;
  /** Force replies to the source port (force_rport). */
  forceRport: boolean;
  /** Per-message $var(...) and per-transaction $avp(...) storage. */
  readonly vars: Map<string, string | number>;
  readonly avps: Map<string, Array<string | number>>;
  /** Extra headers for the next locally generated reply (hdr.append_to_reply). */
  readonly replyHeaders: string[];

  /** Index of the branch a branch/onreply/failure route runs for ($T_branch_idx), -1 elsewhere. */
  readonly branchIndex: number;
  /** In failure/onreply routes: the winning/received reply status ($T_reply_code, $rs). */
  readonly replyCode: number;

  // ---- actions (stateful: the transaction layer and proxy; stateless: the core)
  /**
   * sl_send_reply / t_reply: answer the request. `stateful` (t_reply) or an earlier
   * keepTransaction() keeps the server transaction for retransmissions (Timer J); otherwise a
   * final reply to a non-INVITE request that was not relayed is stateless (Kamailio's sl).
   */
  reply(code: number, reason: string, stateful?: boolean): Promise<number> | number;
  /** t_newtran: later replies to this request are stateful. False when there is no transaction. */
  keepTransaction(): boolean;
  /** t_relay: forward statefully to $du / R-URI and every branch. Resolves to 1 on success, <0 on failure. */
  relay(opts?: { dstUri?: string }): Promise<number>;
  /** forward / forward_uri: stateless forwarding. */
  forwardStateless(uri?: string): Promise<number>;
  /** t_on_branch / t_on_reply / t_on_failure / t_on_branch_failure. */
  setHandler(
    kind: 'branch' | 'onreply' | 'failure' | 'branch_failure',
    handler: RouteHandler | undefined,
  ): void;
  /** Add Record-Route for this request (record_route / record_route_preset). */
  recordRoute(params?: string, preset?: string): number;
  /** loose_route(): RFC 3261 §16.4/§16.12 processing of Route headers. */
  looseRoute(): number;
  /** True when the URI's host (and port when given) is one of ours: listeners, advertised names, aliases. */
  isMyself(uri: string): boolean;
  /** isMyself for a URI parsed already (a Route or From / To entry): not parsed again. */
  isMyselfParsed(uri: Uri): boolean;
  /** Transaction helpers: whether a transaction exists for this request, and whether it was canceled. */
  hasTransaction(): boolean;
  isCanceled(): boolean;
  /** Per-transaction timers (t_set_fr), ms; 0 keeps the default. */
  setFinalResponseTimers(frInvMs: number, frMs: number): void;
  /** Logging with the server's logger (KSR.info/dbg/...). */
  log(level: 'dbg' | 'info' | 'notice' | 'warn' | 'err' | 'crit' | 'alert', text: string): void;
}
