/**
 * The transaction layer (RFC 3261 §17): matches every received message to a server or client
 * transaction, creates server transactions for new requests, starts client transactions for the
 * TU, answers CANCEL (§9.2), absorbs retransmissions, and bounds its tables.
 *
 * Flow: transport 'message' → receive() → request: server table (§17.2.3) → existing tx absorbs
 * the retransmission, or a new tx is created and handed to tu.onRequest; response: client table
 * (§17.1.3) → its tx → ClientHandler, or tu.onStrayResponse.
 *
 * Every transaction that reaches Terminated leaves its table at once with its timers cleared, so
 * memory follows the live transaction count (size()). Nothing thrown by the TU, a handler or the
 * transport escapes receive() or a timer callback: it is counted and reported to `onError`.
 */
import { buildCancel, buildResponse, newTag } from '../sip/build.ts';
import { isParseError } from '../sip/errors.ts';
import type { SipMessage } from '../sip/message.ts';
import { parseMessage } from '../sip/parse_message.ts';
import type { Endpoint, ReceiveInfo, SendOptions } from '../transport/types.ts';
import { type ErrorSink, resolveTimers, type TimerOptions, type Timers } from './timers.ts';
import {
  type CancelSource,
  type ClientHandler,
  type ClientTransaction,
  newStats,
  type ServerTransaction,
  type TransactionStats,
  type TransactionUser,
  type TransportPort,
  type TxHost,
  TxState,
} from './transaction.ts';
import { type ClientTransactionBase, type ClientTxParams, IGNORE_HANDLER } from './transaction_client.ts';
import { ClientInviteTransaction } from './transaction_client_invite.ts';
import { ClientNonInviteTransaction } from './transaction_client_noninvite.ts';
import { clientKey, flatKey, isLegacy, legacyKey, ownKey, serverKey } from './transaction_key.ts';
import {
  newRetainedTimers,
  RetainedClient,
  type RetainedServer,
  type RetainedTimers,
} from './transaction_retained.ts';
import { ServerTransactionBase } from './transaction_server.ts';
import { type AutoTrying, ServerInviteTransaction } from './transaction_server_invite.ts';
import { ServerNonInviteTransaction } from './transaction_server_noninvite.ts';

export type { TimerOptions } from './timers.ts';
export type {
  ClientHandler,
  ClientTransaction,
  ServerTransaction,
  TransactionStats,
  TransactionUser,
  TransportPort,
} from './transaction.ts';
export { TxState } from './transaction.ts';
export type { AutoTrying } from './transaction_server_invite.ts';

export interface TransactionLayerOptions extends TimerOptions {
  /**
   * Bound on live transactions (server + client). A new request arriving beyond it is answered
   * 503 statelessly and not passed to the TU. CANCELs of existing INVITEs and client
   * transactions the TU starts are not refused (they end work rather than add it). Default 100000.
   */
  maxTransactions: number;
  /** Automatic 100 Trying for INVITE server transactions. Default 'immediate'. */
  autoTrying: AutoTrying;
  /** Where caught exceptions go (TU bugs, transport throws). Default: console.error. */
  onError: ErrorSink;
}

/** Extra per-request options of sendRequest. */
export interface SendRequestOptions extends SendOptions {
  /** Default: dest.protocol !== 'udp'. Reliable transports get no retransmissions and zero D/K. */
  reliable?: boolean;
  /** Timer C for this INVITE (Kamailio t_set_fr's fr_inv); default the layer's. */
  timerC?: number;
  /** Timer F for this non-INVITE (Kamailio t_set_fr's fr); default the layer's frTimer. */
  frTimer?: number;
}

export const DEFAULT_MAX_TRANSACTIONS = 100_000;

function defaultOnError(err: unknown, where: string): void {
  console.error(`transaction layer: error in ${where}:`, err);
}

export class TransactionLayer {
  readonly stats: TransactionStats = newStats();
  readonly timers: Timers;
  private readonly transport: TransportPort;
  private readonly tu: TransactionUser;
  private readonly maxTransactions: number;
  private readonly autoTrying: AutoTrying;
  private readonly onError: ErrorSink;
  /** Live server transactions, or the small record of one that only absorbs retransmissions. */
  private readonly server = new Map<string, ServerTransactionBase | RetainedServer>();
  /**
   * Client transactions by the branch of their request (§17.1.3: branch + CSeq method; a CANCEL
   * shares its INVITE's branch, so CANCELs have their own table). Keyed by the branch alone, a
   * response is matched without building a key string.
   */
  private readonly client = new Map<string, ClientTransactionBase | RetainedClient>();
  private readonly cancels = new Map<string, ClientTransactionBase | RetainedClient>();
  /** To tag of stateless replies (503 on overload) and of 200-to-CANCEL when the INVITE had none yet. */
  private readonly localTag = newTag();
  private readonly host: TxHost;
  private readonly ends: RetainedTimers;

  constructor(transport: TransportPort, tu: TransactionUser, options?: Partial<TransactionLayerOptions>) {
    this.transport = transport;
    this.tu = tu;
    this.timers = resolveTimers(options);
    this.maxTransactions = options?.maxTransactions ?? DEFAULT_MAX_TRANSACTIONS;
    this.autoTrying = options?.autoTrying ?? 'immediate';
    this.onError = options?.onError ?? defaultOnError;
    // One host object per layer: transactions reach the layer through it, and the layer's
    // public surface stays what the proxy programs against.
    const sink: ErrorSink = (err, where) => this.onError(err, where);
    this.ends = newRetainedTimers(this.timers, sink);
    this.host = {
      transport,
      tu,
      timers: this.timers,
      ends: this.ends,
      stats: this.stats,
      sink,
      onResponseError: () => {
        this.stats.transportErrors++;
      },
      tuError: (err, where) => {
        this.stats.tuErrors++;
        sink(err, where);
      },
      removeServer: (key, tx) => {
        if (this.server.get(key) === tx) {
          this.server.delete(key);
          this.stats.serverTx--;
        }
      },
      removeClient: (tx) => {
        const table = this.clientTable(tx.method);
        if (table.get(tx.branch) === tx) {
          table.delete(tx.branch);
          this.stats.clientTx--;
        }
      },
      replaceServer: (key, tx, record) => {
        if (this.server.get(key) === tx) this.server.set(key, record);
      },
      replaceClient: (tx, record) => {
        const table = this.clientTable(tx.method);
        if (table.get(tx.branch) === tx) table.set(tx.branch, record);
      },
      startCancel: (invite, reason) => this.startCancel(invite, reason),
    };
  }

  /** Live transactions (server + client). */
  size(): number {
    return this.server.size + this.client.size + this.cancels.size;
  }

  /**
   * Transactions still waiting for a final response (Calling, Trying, Proceeding). The others only
   * absorb retransmissions until their timers end; a graceful stop need not wait for them.
   */
  unanswered(): number {
    let n = 0;
    for (const tx of this.server.values()) if (isOpen(tx.state)) n++;
    for (const tx of this.client.values()) if (isOpen(tx.state)) n++;
    for (const tx of this.cancels.values()) if (isOpen(tx.state)) n++;
    return n;
  }

  // ================================================================ receive

  /** Feed every received message here (transport 'message' event). Never throws. */
  receive(msg: SipMessage, info: ReceiveInfo): void {
    try {
      if (msg.isRequest) this.receiveRequest(msg, info);
      else this.receiveResponse(msg, info);
    } catch (err) {
      // Only a layer bug gets here (TU calls are guarded one by one): report, drop the message.
      this.onError(err, 'receive');
    }
  }

  private receiveRequest(req: SipMessage, info: ReceiveInfo): void {
    const method = req.method;
    if (method === 'ACK') {
      this.receiveAck(req, info);
      return;
    }
    const key = serverKey(req, method);
    const existing = this.server.get(key);
    if (existing !== undefined) {
      // §17.2.3: a retransmission; §17.2.1 / §17.2.2 say what the state resends.
      this.stats.retransmissionsAbsorbed++;
      existing.onRetransmission();
      return;
    }
    if (method === 'CANCEL') {
      // §9.2: the transaction being cancelled is found by the §17.2.3 rules with the CANCEL's
      // own method replaced by the cancelled request's; CANCEL is only meaningful for INVITE.
      const invite = this.server.get(serverKey(req, 'INVITE'));
      if (invite !== undefined) {
        this.cancelMatched(req, info, key, invite);
        return;
      }
      // No match: the TU answers 481 through the CANCEL's own transaction (§9.2).
    }
    if (this.size() >= this.maxTransactions) {
      this.reject(req, info);
      return;
    }
    const tx =
      method === 'INVITE'
        ? new ServerInviteTransaction(this.host, flatKey(key), req, info)
        : new ServerNonInviteTransaction(this.host, flatKey(key), req, info);
    this.addServer(tx);
    if (tx instanceof ServerInviteTransaction) tx.start(this.autoTrying);
    else tx.start();
    try {
      this.tu.onRequest(req, info, tx);
    } catch (err) {
      this.host.tuError(err, 'onRequest');
    }
  }

  /**
   * §17.2.1: the ACK for a non-2xx matches the INVITE transaction and is absorbed there. An ACK
   * for a 2xx is a transaction of its own (it carries a new branch) and goes to the TU, as does
   * one that matches an INVITE transaction in Accepted (RFC 6026 §7.1).
   */
  private receiveAck(ack: SipMessage, info: ReceiveInfo): void {
    let tx = this.server.get(serverKey(ack, 'INVITE'));
    if (tx === undefined && isLegacy(ack) && ack.toTag !== undefined) {
      // §17.2.3 (RFC 2543): the ACK carries the To tag of our response while the INVITE had
      // none; find the INVITE without a tag, then the ACK's tag MUST equal the response's.
      const t = this.server.get(legacyKey(ack, 'INVITE', undefined));
      if (t !== undefined && t.responseToTag() === ack.toTag) tx = t;
    }
    if (tx?.isInvite && tx.onAck()) {
      this.stats.acksAbsorbed++;
      return;
    }
    try {
      this.tu.onRequest(ack, info, undefined);
    } catch (err) {
      this.host.tuError(err, 'onRequest');
    }
  }

  /** §9.2: a CANCEL matched a server transaction: answer 200 in its own transaction, tell the TU. */
  private cancelMatched(
    cancel: SipMessage,
    info: ReceiveInfo,
    key: string,
    invite: ServerTransactionBase | RetainedServer,
  ): void {
    this.stats.cancelsMatched++;
    const ctx = new ServerNonInviteTransaction(this.host, flatKey(key), cancel, info);
    this.addServer(ctx);
    ctx.start();
    // §9.2: the To tag of the 200 SHOULD equal the one of the INVITE's response.
    const toTag = invite.responseToTag() ?? this.localTag;
    ctx.respond(buildResponse(cancel, 200, undefined, { toTag }), 200);
    // §9.2: once a final response was sent the CANCEL has no effect on the INVITE.
    if (
      invite instanceof ServerTransactionBase &&
      invite.isInvite &&
      invite.state === TxState.Proceeding &&
      invite.lastStatus < 200
    ) {
      try {
        this.tu.onCancel(cancel, info, invite);
      } catch (err) {
        this.host.tuError(err, 'onCancel');
      }
    }
  }

  /** Table full: 503 without state (RFC 3261 §21.5.4), so the client may try another server. */
  private reject(req: SipMessage, info: ReceiveInfo): void {
    this.stats.rejected++;
    try {
      this.transport.sendResponse(buildResponse(req, 503, undefined, { toTag: this.localTag }), req, info);
    } catch (err) {
      this.stats.transportErrors++;
      this.onError(err, 'sendResponse');
    }
  }

  private receiveResponse(res: SipMessage, info: ReceiveInfo): void {
    const branch = res.topVia.branch;
    const method = res.cseqMethod;
    const tx = branch === undefined ? undefined : this.clientTable(method).get(branch);
    if (tx !== undefined && tx.method === method) {
      tx.onResponse(res, info);
      return;
    }
    // RFC 6026 / §16.7: a response matching no client transaction is the TU's (a proxy forwards
    // 2xx statelessly and drops the rest).
    this.stats.strayResponses++;
    try {
      this.tu.onStrayResponse(res, info);
    } catch (err) {
      this.host.tuError(err, 'onStrayResponse');
    }
  }

  // ================================================================ send

  /**
   * Start a client transaction. `data` is the serialized request whose top Via branch identifies
   * the transaction (the caller added the Via), `request` its parsed form: it is kept to build
   * the ACK (§17.1.1.3) and CANCEL (§9.1), so it must describe exactly the bytes sent.
   * Throws (programming errors only) for an ACK (not a transaction: send it with the transport),
   * a request without a branch, or a branch + method already in use.
   */
  sendRequest(
    data: Buffer,
    request: SipMessage,
    dest: Endpoint,
    handler: ClientHandler,
    opts?: SendRequestOptions,
  ): ClientTransaction {
    const branch = request.topVia.branch;
    if (branch === undefined) throw new TypeError('sendRequest: the request has no Via branch');
    return this.sendRequestBytes(data, request.method, branch, dest, handler, opts, request);
  }

  /**
   * sendRequest for bytes whose method and top Via branch the caller already knows (a proxy
   * relaying a request it has just serialized): nothing is parsed up front; the transaction
   * parses `data` itself only if it must build an ACK for a non-2xx or a CANCEL. `data` must
   * be a well-formed request with that method and branch (`request`, when given, its parsed form).
   */
  sendRequestBytes(
    data: Buffer,
    method: string,
    branch: string,
    dest: Endpoint,
    handler: ClientHandler,
    opts?: SendRequestOptions,
    request?: SipMessage,
  ): ClientTransaction {
    if (method === 'ACK')
      throw new TypeError('sendRequest: ACK is not a transaction (RFC 3261 §17); send it with the transport');
    const table = this.clientTable(method);
    const other = table.get(branch);
    if (other !== undefined) {
      // §8.1.1.7: a branch is unique per request (only CANCEL and a non-2xx ACK reuse it).
      throw new Error(`sendRequest: a client transaction for branch ${branch} ${other.method} exists`);
    }
    return this.startClient(ownKey(branch), data, method, request, dest, handler, opts);
  }

  private startClient(
    branch: string,
    data: Buffer,
    method: string,
    request: SipMessage | undefined,
    dest: Endpoint,
    handler: ClientHandler,
    opts: SendRequestOptions | undefined,
  ): ClientTransactionBase {
    const isInvite = method === 'INVITE';
    const params: ClientTxParams = {
      key: flatKey(clientKey(branch, method)),
      branch,
      data,
      method,
      request,
      dest,
      handler,
      sendOpts: sendOptionsOf(opts),
      reliable: opts?.reliable ?? dest.protocol !== 'udp',
      timeout: isInvite ? opts?.timerC : opts?.frTimer,
      noReplyTimeout: isInvite ? opts?.frTimer : undefined,
    };
    const tx = isInvite
      ? new ClientInviteTransaction(this.host, params)
      : new ClientNonInviteTransaction(this.host, params);
    this.clientTable(method).set(branch, tx);
    this.stats.clientTx++;
    this.stats.created++;
    tx.start();
    return tx;
  }

  /** §9.1: the CANCEL copies the INVITE's Request-URI, top Via (same branch), From, To, Call-ID, CSeq number and Route. */
  private startCancel(invite: CancelSource, reason: string | undefined): void {
    let request: SipMessage;
    try {
      request = invite.request;
    } catch (err) {
      this.onError(err, 'cancel');
      return;
    }
    const data = buildCancel(request, reason === undefined ? undefined : { reason });
    const msg = parseMessage(data);
    if (isParseError(msg)) {
      this.onError(new Error(`CANCEL built for ${request.callId} does not parse: ${msg.phrase}`), 'cancel');
      return;
    }
    const branch = msg.topVia.branch;
    if (branch === undefined) return;
    if (this.cancels.has(branch)) return;
    // Same listener / connection as the INVITE; sendOptionsOf drops the INVITE's onError.
    const opts: SendRequestOptions = { ...invite.sendOpts, reliable: invite.reliable };
    this.startClient(ownKey(branch), data, msg.method, msg, invite.dest, IGNORE_HANDLER, opts);
  }

  // ================================================================ management

  /** Forget a server transaction the TU neither answered nor relayed (Kamailio drops it). */
  release(tx: ServerTransaction): void {
    const t = this.server.get(tx.key);
    if (t === tx) t.terminate();
  }

  /**
   * An asynchronous transport failure towards `dest` (e.g. a TCP connect refused after send()
   * returned): every client transaction still waiting on that destination fails (§17.1.4).
   */
  transportError(dest: Endpoint, err: Error): void {
    for (const tx of [...this.client.values(), ...this.cancels.values()]) {
      const d = tx.dest;
      if (d.port === dest.port && d.address === dest.address && d.protocol === dest.protocol)
        tx.transportFailed(err);
    }
  }

  /** Clear every timer and forget every transaction, without callbacks (shutdown / tests). */
  stop(): void {
    for (const tx of this.server.values()) tx.dispose();
    for (const tx of this.client.values()) tx.dispose();
    for (const tx of this.cancels.values()) tx.dispose();
    this.server.clear();
    this.client.clear();
    this.cancels.clear();
    const e = this.ends;
    for (const q of [e.J, e.I, e.K, e.D, e.L, e.M]) q.clear();
    this.stats.serverTx = 0;
    this.stats.clientTx = 0;
  }

  /** A live server transaction by key (management / tests). */
  findServer(key: string): ServerTransaction | undefined {
    const t = this.server.get(key);
    return t instanceof ServerTransactionBase ? t : undefined;
  }

  /** A live client transaction by key (management / tests). */
  findClient(key: string): ClientTransaction | undefined {
    for (const table of [this.client, this.cancels])
      for (const t of table.values()) if (t.key === key && !(t instanceof RetainedClient)) return t;
    return undefined;
  }

  private clientTable(method: string): Map<string, ClientTransactionBase | RetainedClient> {
    return method === 'CANCEL' ? this.cancels : this.client;
  }

  private addServer(tx: ServerTransactionBase): void {
    this.server.set(tx.key, tx);
    this.stats.serverTx++;
    this.stats.created++;
  }
}

/**
 * Only where to send from (the layer's own options stay here). A caller's `onError` is not
 * kept: the transaction installs its own and reports failures through onTransportError.
 */
function sendOptionsOf(opts: SendRequestOptions | undefined): SendOptions | undefined {
  if (opts === undefined) return undefined;
  if (opts.connectionId === undefined && opts.listenerId === undefined) return undefined;
  const out: SendOptions = {};
  if (opts.connectionId !== undefined) out.connectionId = opts.connectionId;
  if (opts.listenerId !== undefined) out.listenerId = opts.listenerId;
  return out;
}

function isOpen(state: TxState): boolean {
  return state === TxState.Calling || state === TxState.Trying || state === TxState.Proceeding;
}
