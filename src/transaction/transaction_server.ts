/**
 * What the INVITE and non-INVITE server transactions share: sending responses through the
 * transport, the two timer slots, termination and the lifetime guard.
 */
import type { SipMessage } from '../sip/message.ts';
import type { ReceiveInfo } from '../transport/types.ts';
import { arm, type TimerHandle, type TimerQueue } from './timers.ts';
import { type ServerTransaction, type TxHost, TxState } from './transaction.ts';
import { RetainedServer, responseToTagOf } from './transaction_retained.ts';

export abstract class ServerTransactionBase implements ServerTransaction {
  readonly key: string;
  readonly request: SipMessage;
  readonly info: ReceiveInfo;
  abstract readonly isInvite: boolean;
  /** Own state until the transaction is retained (then the record's, see `state`). */
  protected st: TxState;
  lastStatus = 0;
  /** Bytes of the last response sent: what a request retransmission gets again. */
  lastResponse: Buffer | undefined = undefined;
  private terminatedCb: (() => void) | undefined = undefined;
  /** The small record that replaced this transaction in the table (transaction_retained.ts). */
  private retained: RetainedServer | undefined = undefined;
  /** Responses go back the way the request came; stream transports need no retransmissions. */
  readonly reliable: boolean;
  protected readonly host: TxHost;
  /** Retransmission slot (Timer G, or the delayed 100 Trying). */
  protected retransTimer: TimerHandle | undefined = undefined;
  /** Lifetime slot (Timers H, I, J, L, or the lifetime guard). */
  protected lifeTimer: TimerHandle | undefined = undefined;
  private toTagMemo: string | undefined = undefined;
  private toTagOf: Buffer | undefined = undefined;

  constructor(host: TxHost, key: string, request: SipMessage, info: ReceiveInfo, state: TxState) {
    this.host = host;
    this.key = key;
    this.request = request;
    this.info = info;
    this.st = state;
    this.reliable = info.source.protocol !== 'udp';
  }

  get state(): TxState {
    const r = this.retained;
    return r === undefined ? this.st : r.state;
  }

  /** Called once when the transaction reaches Terminated (kept by the record once retained). */
  get onTerminated(): (() => void) | undefined {
    const r = this.retained;
    return r === undefined ? this.terminatedCb : r.onTerminated;
  }

  set onTerminated(cb: (() => void) | undefined) {
    const r = this.retained;
    if (r === undefined) this.terminatedCb = cb;
    else r.onTerminated = cb;
  }

  /** §17.2.1: an ACK matched (INVITE only; see ServerInviteTransaction). */
  onAck(): boolean {
    return false;
  }

  /**
   * The transaction only absorbs retransmissions from now on (`st` is Completed or Confirmed,
   * the final response sent): the table keeps a small record instead, ended by `end` (Timer J
   * or I); this object keeps working for whoever still holds it.
   */
  protected retain(end: TimerQueue<RetainedServer>): void {
    const response = this.lastResponse;
    if (response === undefined) return;
    this.clearTimers();
    const r = new RetainedServer(this.host, {
      key: this.key,
      isInvite: this.isInvite,
      state: this.st,
      lastStatus: this.lastStatus,
      lastResponse: response,
      topVia: this.request.topVia,
      info: this.info,
      onTerminated: this.terminatedCb,
      toTag: this.toTagOf === response ? (this.toTagMemo ?? null) : undefined,
    });
    this.terminatedCb = undefined;
    this.retained = r;
    this.host.replaceServer(this.key, this, r);
    r.start(end);
  }

  abstract respond(data: Buffer, status: number, retain?: boolean): void;

  /** A retransmission of the request that created this transaction arrived. */
  abstract onRetransmission(): void;

  /**
   * §17.2.4: the transport tries the alternatives of §18.2.2 itself; a failure that comes back
   * is counted, and the transaction is kept to its timers rather than terminated (the RFC's
   * SHOULD): a UDP send error is often transient, the client retransmits and gets the response
   * again, and the TU may still be relaying — ending the transaction under it would orphan its
   * branches. Memory stays bounded by Timers H/J/L and the lifetime guard.
   */
  protected send(data: Buffer): void {
    try {
      this.host.transport.sendResponse(data, this.request, this.info, this.host.onResponseError);
    } catch (err) {
      this.host.stats.transportErrors++;
      this.host.sink(err, 'sendResponse');
    }
  }

  protected static checkStatus(status: number): void {
    if (!Number.isInteger(status) || status < 100 || status > 699) {
      throw new RangeError(`respond: status ${status} is not a SIP status code`);
    }
  }

  protected armLife(callback: (tx: this) => void, ms: number): void {
    if (this.lifeTimer !== undefined) clearTimeout(this.lifeTimer);
    this.lifeTimer = arm(callback, ms, this, this.host.sink);
  }

  protected clearTimers(): void {
    if (this.retransTimer !== undefined) {
      clearTimeout(this.retransTimer);
      this.retransTimer = undefined;
    }
    if (this.lifeTimer !== undefined) {
      clearTimeout(this.lifeTimer);
      this.lifeTimer = undefined;
    }
  }

  /**
   * To tag of the responses this transaction sends (the first one past 100 that had a tag):
   * the 200 to a matching CANCEL reuses it (§9.2) and RFC 2543 ACK matching compares with it.
   */
  responseToTag(): string | undefined {
    const last = this.lastResponse;
    if (this.lastStatus <= 100 || last === undefined) return undefined;
    // Memoized per response: a forking proxy's 180 and final may carry different tags.
    if (this.toTagOf !== last) {
      this.toTagMemo = responseToTagOf(this.lastStatus, last);
      this.toTagOf = last;
    }
    return this.toTagMemo;
  }

  /** Enter Terminated: clear timers, leave the tables, tell the TU (once). */
  terminate(): void {
    const r = this.retained;
    if (r !== undefined) {
      r.terminate();
      return;
    }
    if (this.st === TxState.Terminated) return;
    this.st = TxState.Terminated;
    this.clearTimers();
    this.host.removeServer(this.key, this);
    const cb = this.terminatedCb;
    if (cb !== undefined) {
      this.terminatedCb = undefined;
      try {
        cb();
      } catch (err) {
        this.host.tuError(err, 'onTerminated');
      }
    }
  }

  /**
   * Lifetime guard (Kamailio max_inv_lifetime / max_noninv_lifetime): the TU never answered.
   * RFC 3261 has no timer for this — a server transaction waits for its TU forever — but an
   * unbounded wait is a leak under a buggy or stalled script, so the transaction is dropped
   * (the client retransmits or times out, as when Kamailio drops a request).
   */
  expireLifetime(): void {
    if (this.state !== TxState.Proceeding && this.state !== TxState.Trying) return;
    this.host.stats.abandoned++;
    this.terminate();
  }

  /** Forget the transaction without any callback (layer shutdown). */
  dispose(): void {
    this.st = TxState.Terminated;
    this.clearTimers();
    this.terminatedCb = undefined;
    this.retained?.dispose();
  }
}

/** Timer callback for the lifetime guard (module level: arming allocates no closure). */
export function fireLifetimeGuard(tx: ServerTransactionBase): void {
  tx.expireLifetime();
}
