/**
 * What is left of a transaction once it only absorbs retransmissions until its last timer ends:
 *
 * - non-INVITE server, Completed (§17.2.2, Timer J = 64·T1): request retransmissions get the
 *   final response again;
 * - INVITE server, Confirmed (§17.2.1, Timer I): INVITE and ACK retransmissions are absorbed;
 * - non-INVITE client, Completed (§17.1.2.2, Timer K): response retransmissions are absorbed;
 * - INVITE client, Completed (§17.1.1.2, Timer D): each retransmitted non-2xx gets the ACK again.
 *
 * A full transaction holds the parsed request (header tables, Buffer, memoized values), the TU's
 * callbacks and two timer slots; at 2,000 calls/s Timer J alone keeps ~64k BYE transactions, so
 * the layer swaps each one for one of these small records when it enters such a state: the key,
 * the serialized response or ACK, where it goes (the top Via and receive info for §18.2.2, or
 * the client destination), the state, one timer. The transaction object the TU holds stays
 * usable: it reads its state from the record (handle → record, never record → handle), so once
 * the TU lets go of it the request is garbage.
 */
import { isParseError } from '../sip/errors.ts';
import type { SipMessage } from '../sip/message.ts';
import { parseMessage } from '../sip/parse_message.ts';
import type { Via } from '../sip/types.ts';
import type { ResponseRoute } from '../transport/response_target.ts';
import type { Endpoint, ReceiveInfo, SendOptions } from '../transport/types.ts';
import { type ErrorSink, type QueueItem, TimerQueue, type Timers } from './timers.ts';
import { type ClientTableEntry, type TxHost, TxState } from './transaction.ts';

export class RetainedServer implements QueueItem {
  qnext: QueueItem | undefined = undefined;
  qdue = 0;
  readonly key: string;
  readonly isInvite: boolean;
  state: TxState;
  readonly lastStatus: number;
  /** The final response: what a retransmitted non-INVITE request gets again (§17.2.2). */
  readonly lastResponse: Buffer;
  onTerminated: (() => void) | undefined;
  private readonly host: TxHost;
  private readonly route: ResponseRoute;
  private readonly info: ReceiveInfo;
  private toTag: string | null | undefined;

  constructor(
    host: TxHost,
    from: {
      key: string;
      isInvite: boolean;
      state: TxState;
      lastStatus: number;
      lastResponse: Buffer;
      topVia: Via;
      info: ReceiveInfo;
      onTerminated: (() => void) | undefined;
      toTag: string | null | undefined;
    },
  ) {
    this.host = host;
    this.key = from.key;
    this.isInvite = from.isInvite;
    this.state = from.state;
    this.lastStatus = from.lastStatus;
    this.lastResponse = from.lastResponse;
    // Only what §18.2.2 routing reads: the parsed Via (its params, raw text) is not kept.
    const v = from.topVia;
    this.route = { topVia: { port: v.port, maddr: v.maddr, ttl: v.ttl, rport: v.rport } };
    this.info = from.info;
    this.onTerminated = from.onTerminated;
    this.toTag = from.toTag;
  }

  /** Queue the last timer (J or I): the record ends when it comes due. */
  start(queue: TimerQueue<RetainedServer>): void {
    queue.push(this);
  }

  onRetransmission(): void {
    // §17.2.2: in Completed a request retransmission gets the final response again.
    // §17.2.1: in Confirmed INVITE retransmissions are absorbed.
    if (this.isInvite || this.state !== TxState.Completed) return;
    try {
      this.host.transport.sendResponse(this.lastResponse, this.route, this.info, this.host.onResponseError);
    } catch (err) {
      this.host.stats.transportErrors++;
      this.host.sink(err, 'sendResponse');
    }
  }

  /** §17.2.1: ACK retransmissions in Confirmed are absorbed. */
  onAck(): boolean {
    return this.isInvite && this.state === TxState.Confirmed;
  }

  responseToTag(): string | undefined {
    if (this.toTag === undefined) this.toTag = responseToTagOf(this.lastStatus, this.lastResponse) ?? null;
    return this.toTag ?? undefined;
  }

  terminate(): void {
    if (this.state === TxState.Terminated) return;
    this.state = TxState.Terminated;
    this.host.removeServer(this.key, this);
    const cb = this.onTerminated;
    if (cb !== undefined) {
      this.onTerminated = undefined;
      try {
        cb();
      } catch (err) {
        this.host.tuError(err, 'onTerminated');
      }
    }
  }

  dispose(): void {
    this.state = TxState.Terminated;
    this.onTerminated = undefined;
  }
}

export class RetainedClient implements QueueItem, ClientTableEntry {
  qnext: QueueItem | undefined = undefined;
  qdue = 0;
  readonly key: string;
  readonly branch: string;
  readonly method: string;
  readonly isInvite: boolean;
  state: TxState = TxState.Completed;
  readonly lastStatus: number;
  readonly dest: Endpoint;
  private readonly host: TxHost;
  /** INVITE: the ACK of the non-2xx, resent for each retransmission of it (§17.1.1.2). */
  private readonly ack: Buffer | undefined;
  private readonly sendOpts: SendOptions | undefined;

  constructor(
    host: TxHost,
    from: { readonly key: string; readonly branch: string; readonly method: string },
    lastStatus: number,
    dest: Endpoint,
    ack: Buffer | undefined,
    sendOpts: SendOptions | undefined,
  ) {
    this.host = host;
    this.key = from.key;
    this.branch = from.branch;
    this.method = from.method;
    this.isInvite = ack !== undefined;
    this.lastStatus = lastStatus;
    this.dest = dest;
    this.ack = ack;
    // Same listener / connection as the transaction; a failed resend is only counted (the TU
    // already has its answer; the transaction's own handler must not be kept alive for it).
    this.sendOpts =
      ack === undefined
        ? undefined
        : {
            connectionId: sendOpts?.connectionId,
            listenerId: sendOpts?.listenerId,
            onError: host.onResponseError,
          };
  }

  /** Queue the last timer (K or D): the record ends when it comes due. */
  start(queue: TimerQueue<RetainedClient>): void {
    queue.push(this);
  }

  onResponse(res: SipMessage, info: ReceiveInfo): void {
    const status = res.status;
    if (this.state !== TxState.Completed) return;
    if (this.ack !== undefined && status < 200) return; // a late provisional: nothing to do with it
    if (this.ack !== undefined && status < 300) {
      // A 2xx after a non-2xx on the same branch: a dialog at the UAS; hand it over like a 2xx
      // that matched nothing (a proxy forwards it statelessly).
      this.host.stats.strayResponses++;
      try {
        this.host.tu.onStrayResponse(res, info);
      } catch (err) {
        this.host.tuError(err, 'onStrayResponse');
      }
      return;
    }
    // §17.1.1.2: a retransmitted final in Completed MUST cause the ACK to be resent and MUST NOT
    // be passed up; §17.1.2.2: in Completed retransmissions of the final response are absorbed.
    this.host.stats.retransmissionsAbsorbed++;
    if (this.ack !== undefined) {
      try {
        this.host.transport.send(this.ack, this.dest, this.sendOpts);
      } catch (err) {
        this.host.stats.transportErrors++;
        this.terminate();
        this.host.sink(err, 'send');
      }
    }
  }

  /** An asynchronous transport failure towards dest: the TU has its answer; only end (§17.1.4). */
  transportFailed(_err: Error): void {
    if (this.state === TxState.Terminated) return;
    this.host.stats.transportErrors++;
    this.terminate();
  }

  terminate(): void {
    if (this.state === TxState.Terminated) return;
    this.state = TxState.Terminated;
    this.host.removeClient(this);
  }

  dispose(): void {
    this.state = TxState.Terminated;
  }
}

/**
 * To tag of a response a server transaction sent (past 100): the 200 to a matching CANCEL reuses
 * it (§9.2) and RFC 2543 ACK matching compares with it.
 */
export function responseToTagOf(status: number, response: Buffer | undefined): string | undefined {
  if (status <= 100 || response === undefined) return undefined;
  const res = parseMessage(response);
  return isParseError(res) ? undefined : res.toTag;
}

function endAccepted(tx: AcceptedItem): void {
  tx.endAccepted();
}

/** Timers J, I, K and D all end the record (an item already ended is left as it is). */
export function endRetained(r: RetainedServer | RetainedClient): void {
  r.terminate();
}

/** An INVITE transaction in Accepted (RFC 6026): Timer L (server) or M (client) ends it. */
export interface AcceptedItem extends QueueItem {
  endAccepted(): void;
}

/**
 * The fixed-duration timers that end a transaction, one TimerQueue each: J, I, K, D end retained
 * records; L and M end INVITE transactions in Accepted (armed once, at the 2xx).
 */
export interface RetainedTimers {
  /** §17.2.2 Timer J: non-INVITE server Completed. */
  readonly J: TimerQueue<RetainedServer>;
  /** §17.2.1 Timer I: INVITE server Confirmed. */
  readonly I: TimerQueue<RetainedServer>;
  /** §17.1.2.2 Timer K: non-INVITE client Completed. */
  readonly K: TimerQueue<RetainedClient>;
  /** §17.1.1.2 Timer D: INVITE client Completed. */
  readonly D: TimerQueue<RetainedClient>;
  /** RFC 6026 §7.1 Timer L: INVITE server Accepted. */
  readonly L: TimerQueue<AcceptedItem>;
  /** RFC 6026 §7.2 Timer M: INVITE client Accepted. */
  readonly M: TimerQueue<AcceptedItem>;
}

export function newRetainedTimers(t: Timers, sink: ErrorSink): RetainedTimers {
  return {
    J: new TimerQueue(t.J, endRetained, sink),
    I: new TimerQueue(t.I, endRetained, sink),
    K: new TimerQueue(t.K, endRetained, sink),
    D: new TimerQueue(t.D, endRetained, sink),
    L: new TimerQueue(t.L, endAccepted, sink),
    M: new TimerQueue(t.M, endAccepted, sink),
  };
}
