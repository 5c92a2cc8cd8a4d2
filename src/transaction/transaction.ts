/**
 * The contracts of the transaction layer (RFC 3261 §17): what it needs from the transports, what
 * it calls on the transaction user (the proxy core), and the transaction objects it hands out.
 * The proxy programs against these; keep them stable.
 */
import type { SipMessage } from '../sip/message.ts';
import type { ResponseRoute } from '../transport/response_target.ts';
import type { Endpoint, ReceiveInfo, SendOptions } from '../transport/types.ts';
import type { ErrorSink, Timers } from './timers.ts';
import type { RetainedClient, RetainedServer, RetainedTimers } from './transaction_retained.ts';

/** What the layer needs from the transports (the TransportLayer satisfies it structurally). */
export interface TransportPort {
  /**
   * Never expected to throw: failures come back through `opts.onError`, asynchronously (the
   * TransportLayer's contract). A throw is still caught and treated as a transport error.
   */
  send(data: Buffer, dest: Endpoint, opts?: SendOptions): void;
  /** Send a response the way RFC 3261 §18.2.2 says (connection, `received`/`rport`, maddr). */
  sendResponse(
    data: Buffer,
    request: ResponseRoute,
    info: ReceiveInfo,
    onError?: (error: Error) => void,
  ): void;
}

/** The transaction user: the proxy core (or a UA core) implements it. */
export interface TransactionUser {
  /**
   * A new request that matched no transaction. `tx` is undefined for ACK (an ACK for a 2xx is
   * end-to-end and not part of any transaction, §17 / RFC 6026) and for requests the layer
   * cannot build a server transaction for.
   */
  onRequest(req: SipMessage, info: ReceiveInfo, tx: ServerTransaction | undefined): void;
  /**
   * A CANCEL that matched a pending INVITE server transaction (§9.2). The layer has already
   * answered the CANCEL with 200; the TU cancels its branches and answers the INVITE with 487.
   */
  onCancel(cancel: SipMessage, info: ReceiveInfo, invite: ServerTransaction): void;
  /**
   * A response that matched no client transaction, e.g. 2xx retransmissions for an INVITE whose
   * transaction has ended: a proxy forwards them statelessly (§16.7 as corrected by RFC 6026).
   */
  onStrayResponse(res: SipMessage, info: ReceiveInfo): void;
}

/** Receives the outcome of a client transaction. */
export interface ClientHandler {
  onProvisional(res: SipMessage, tx: ClientTransaction): void;
  /**
   * Every 2xx (for INVITE also 2xx retransmissions and further 2xx of a forked call received in
   * the Accepted state, RFC 6026 §7.2) and the first non-2xx final response.
   */
  onFinal(res: SipMessage, tx: ClientTransaction): void;
  /**
   * Timer B / F fired, or Timer C fired on an INVITE that had a provisional (the layer has sent
   * the CANCEL, §16.8): the TU acts as if a 408 had been received.
   */
  onTimeout(tx: ClientTransaction): void;
  onTransportError(tx: ClientTransaction, err: Error): void;
}

/** RFC 3261 §17 state names (plus RFC 6026's Accepted). */
export const TxState = {
  Calling: 'Calling',
  Trying: 'Trying',
  Proceeding: 'Proceeding',
  Completed: 'Completed',
  Confirmed: 'Confirmed',
  Accepted: 'Accepted',
  Terminated: 'Terminated',
} as const;
export type TxState = (typeof TxState)[keyof typeof TxState];

export interface ServerTransaction {
  readonly key: string;
  readonly request: SipMessage;
  readonly info: ReceiveInfo;
  readonly state: TxState;
  readonly isInvite: boolean;
  /**
   * Send a response (bytes built by the TU). Provisionals then a final; request retransmissions
   * get the last response again (§17.2.1, §17.2.2). A 2xx to INVITE moves to Accepted (RFC 6026,
   * Timer L); a non-2xx final to INVITE to Completed (Timers G/H), its ACK is absorbed →
   * Confirmed (Timer I). Responses the state no longer allows are discarded.
   * `retain: false` (a stateless reply, Kamailio's sl): a final to a non-INVITE request ends the
   * transaction at once instead of keeping it for Timer J; a retransmitted request is then
   * processed again. INVITE transactions always follow §17.2.1 (the ACK must be absorbed).
   */
  respond(data: Buffer, status: number, retain?: boolean): void;
  /** Status of the last response sent (0 before any). */
  readonly lastStatus: number;
  /** Called once when the transaction reaches Terminated and has left the tables. */
  onTerminated?: () => void;
}

export interface ClientTransaction {
  readonly key: string;
  readonly state: TxState;
  readonly request: SipMessage;
  readonly dest: Endpoint;
  /**
   * Send a CANCEL for this INVITE branch (§9.1): only once a provisional was received — before
   * that it is remembered and sent with the first 1xx; after a final response it does nothing.
   * The CANCEL runs in its own non-INVITE client transaction. No-op on non-INVITE transactions.
   */
  cancel(reason?: string): void;
  /** Status of the last response received (0 before any). */
  readonly lastStatus: number;
}

/** Counters; `serverTx` and `clientTx` are live gauges, the rest count since start. */
export interface TransactionStats {
  serverTx: number;
  clientTx: number;
  /** Transactions created (server and client). */
  created: number;
  /** Request retransmissions absorbed by server transactions and response retransmissions by client ones. */
  retransmissionsAbsorbed: number;
  /** Retransmissions we sent (Timers A, E, G). */
  retransmissionsSent: number;
  /** Timers B, C, F, H and the §9.1 CANCEL wait expiring. */
  timeouts: number;
  /** New requests refused with 503 because the table was full. */
  rejected: number;
  strayResponses: number;
  /** ACKs for non-2xx responses absorbed by INVITE server transactions. */
  acksAbsorbed: number;
  cancelsMatched: number;
  transportErrors: number;
  /** Exceptions thrown by the TU (or a handler) and caught by the layer. */
  tuErrors: number;
  /** Server transactions the TU never answered, ended by the lifetime guard. */
  abandoned: number;
}

export function newStats(): TransactionStats {
  return {
    serverTx: 0,
    clientTx: 0,
    created: 0,
    retransmissionsAbsorbed: 0,
    retransmissionsSent: 0,
    timeouts: 0,
    rejected: 0,
    strayResponses: 0,
    acksAbsorbed: 0,
    cancelsMatched: 0,
    transportErrors: 0,
    tuErrors: 0,
    abandoned: 0,
  };
}

/**
 * What a transaction needs from the layer that owns it. Internal: the layer builds one object
 * implementing it, so none of this shows on the layer's public surface.
 */
export interface TxHost {
  readonly transport: TransportPort;
  readonly tu: TransactionUser;
  readonly timers: Timers;
  /** The queues of Timers J, I, K and D, which end retained records. */
  readonly ends: RetainedTimers;
  readonly stats: TransactionStats;
  /** Errors from timers and transports (never rethrown). */
  readonly sink: ErrorSink;
  /** `onError` of every response send: one callback per layer (no closure per response). */
  readonly onResponseError: (error: Error) => void;
  /** An exception from the TU or a handler: counted and reported, never rethrown. */
  tuError(err: unknown, where: string): void;
  /** The transaction entered Terminated: drop it from the tables. */
  removeServer(key: string, tx: object): void;
  removeClient(tx: ClientTableEntry): void;
  /** The transaction `tx` only absorbs retransmissions now: the table keeps `record` instead. */
  replaceServer(key: string, tx: object, record: RetainedServer): void;
  replaceClient(tx: ClientTableEntry, record: RetainedClient): void;
  /** Start the non-INVITE client transaction of a CANCEL for `invite` (§9.1). */
  startCancel(invite: CancelSource, reason: string | undefined): void;
}

/**
 * Where a client transaction sits in the layer's tables (§17.1.3: a response matches by the branch
 * of its top Via and its CSeq method): by branch, CANCELs apart since they share the INVITE's.
 */
export interface ClientTableEntry {
  readonly branch: string;
  readonly method: string;
}

/** What building a CANCEL needs from the INVITE client transaction. */
export interface CancelSource {
  readonly request: SipMessage;
  readonly dest: Endpoint;
  readonly sendOpts: SendOptions;
  readonly reliable: boolean;
}

export function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
